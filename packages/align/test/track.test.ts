import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { readImage } from '@facecomb/image';
import { footage, ingestClip, tmp, writeMeta } from './helpers.js';
import { frameNumber } from '@facecomb/stage';
import {
  alignFrames,
  parseAlignParams,
  readFrameSource,
  initRuntime,
  detectFaces,
  largest,
  landmarkJitter,
  trackDistance,
  interOcular,
  type AlignRun,
  type Point,
} from '../src/index.js';

const name = frameNumber;
const track = (run: AlignRun, f: (r: AlignRun['results'][number]) => Point[] | undefined) => run.results.map((r) => f(r) ?? null);
const cutsOf = (run: AlignRun) => new Set(run.results.map((r, i) => (r.cut && i > 0 ? i : -1)).filter((i) => i > 0));

describe('tracking between detections (congress/aoc-a.mp4, 50 frames)', () => {
  let root: string;
  let tracked: AlignRun;
  let everyFrame: AlignRun;
  const count = 50;

  before(async () => {
    root = await tmp('track');
    const clip = await ingestClip(footage('congress', 'aoc-a.mp4'), join(root, 'frames'), 1, count);
    const src = await readFrameSource(clip.dir);
    tracked = await alignFrames(src, join(root, 'tracked'), parseAlignParams({ size: 64, contact: false }));
    everyFrame = await alignFrames(src, join(root, 'every'), parseAlignParams({ size: 64, contact: false, detectEvery: 1 }));
  });

  after(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  test('every frame still gets a face, and the detector runs only every detectEvery (10) frames', () => {
    assert.equal(tracked.results.length, count);
    const missing = tracked.results.filter((r) => !r.face).map((r) => `${r.frame}: ${r.reason}`);
    assert.deepEqual(missing, []);
    assert.equal(tracked.detections, count / 10, `detector ran on ${tracked.detections} frames`);
    assert.equal(tracked.results.filter((r) => r.tracked).length, count - count / 10);
    assert.equal(everyFrame.detections, count);
    assert.equal(everyFrame.results.filter((r) => r.tracked).length, 0);
  });

  test('the stabilised landmarks jitter at least 2x less than the raw ones', () => {
    const cuts = cutsOf(tracked);
    assert.equal(cuts.size, 0, `no cut inside one shot (cuts at ${[...cuts]})`);
    const raw = landmarkJitter(track(tracked, (r) => r.face?.landmarksRaw), cuts);
    const st = landmarkJitter(track(tracked, (r) => r.face?.landmarks), cuts);
    assert.equal(raw.pairs, count - 1);
    assert.ok(raw.jitter / st.jitter >= 2, `raw ${raw.jitter} / stabilised ${st.jitter} = ${raw.jitter / st.jitter}`);
  });

  test('tracked landmarks agree with detecting on every frame', () => {
    const d = trackDistance(track(tracked, (r) => r.refined), track(everyFrame, (r) => r.refined));
    // per-frame estimates of one face from two window placements: a few hundredths of the eye distance
    assert.ok(d < 0.05, `tracked vs per-frame detection: ${d} inter-ocular distances`);
    const s = trackDistance(track(tracked, (r) => r.face?.landmarks), track(everyFrame, (r) => r.face?.landmarks));
    assert.ok(s < 0.05, `stabilised, tracked vs per-frame detection: ${s} inter-ocular distances`);
  });

  test('detectEvery is validated', () => {
    assert.throws(() => parseAlignParams({ detectEvery: 0 }), /'detectEvery'/);
    assert.throws(() => parseAlignParams({ detectEvery: 2.5 }), /'detectEvery'/);
    assert.equal(parseAlignParams({}).detectEvery, 10);
  });
});

// One image sequence with a change of shot: 6 frames of aoc-a (placed on the left of a 768x512 plate)
// followed by 6 frames of katiehill (placed 256 px further right), so the old face position is wrong.
describe('a cut in the sequence: tracking does not stick to the old face', () => {
  let root: string;
  let seq: string;
  let run: AlignRun;

  before(async () => {
    root = await tmp('cut');
    const a = await ingestClip(footage('congress', 'aoc-a.mp4'), join(root, 'a'), 41, 6);
    const k = await ingestClip(footage('congress', 'katiehill.mp4'), join(root, 'k'), 41, 6);
    seq = join(root, 'seq');
    await mkdir(join(seq, 'frames'), { recursive: true });
    const frames: number[] = [];
    for (let i = 0; i < 12; i++) {
      const srcFile = i < 6 ? join(a.dir, 'frames', `${name(a.frames[i])}.png`) : join(k.dir, 'frames', `${name(k.frames[i - 6])}.png`);
      await sharp({ create: { width: 768, height: 512, channels: 3, background: { r: 20, g: 20, b: 20 } } })
        .composite([{ input: srcFile, left: i < 6 ? 0 : 256, top: 0 }])
        .png()
        .toFile(join(seq, 'frames', `${name(i + 1)}.png`));
      frames.push(i + 1);
    }
    await writeMeta(seq, { source: 'aoc-a | katiehill', fps: 25, width: 768, height: 512, frames });
    run = await alignFrames(await readFrameSource(seq), join(root, 'out'), parseAlignParams({ size: 64, samples: 3, contact: false }));
  });

  after(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  test('the first frame after the cut is detected afresh and restarts the smoothing', () => {
    const r = run.results;
    assert.equal(r.length, 12);
    assert.ok(r.every((x) => x.face), 'every frame has a face');
    assert.ok(r.slice(1, 6).every((x) => x.tracked), 'the frames before the cut are tracked');
    assert.equal(r[6].tracked, false, 'frame 7 (new shot) is not tracked');
    assert.equal(r[6].sceneCut, true, 'frame 7 is seen as a change of shot');
    assert.ok(r.every((x, i) => i === 6 || !x.sceneCut), 'no other frame is a change of shot');
    assert.equal(r[6].cut, true, 'frame 7 restarts the smoothing');
    assert.ok(r.slice(7).every((x) => x.tracked), 'the new face is tracked after its detection');
  });

  test('after the cut the landmarks lie on the new person, inside her face box from a fresh detection', async () => {
    const rt = await initRuntime('auto');
    for (const res of run.results.slice(6)) {
      const img = await readImage(join(seq, 'frames', `${name(res.frame)}.png`), { channels: 3 });
      const faces = await detectFaces(rt, img, 0.5);
      assert.ok(faces.length > 0, `frame ${res.frame}: the detector sees her`);
      const [x, y, w, h] = largest(faces).box;
      assert.ok(x > 256, `frame ${res.frame}: her face box is on the right (x ${x})`);
      for (const pts of [res.face!.landmarks, res.face!.landmarksRaw, res.refined!]) {
        const inside = pts.filter(([px, py]) => px >= x && px <= x + w && py >= y && py <= y + h).length;
        assert.ok(inside >= 60, `frame ${res.frame}: ${inside} of 68 landmarks inside her box [${[x, y, w, h].map(Math.round)}]`);
      }
      const lx = res.face!.landmarks.reduce((s, p) => s + p[0], 0) / 68;
      const ly = res.face!.landmarks.reduce((s, p) => s + p[1], 0) / 68;
      const off = Math.hypot(lx - (x + w / 2), ly - (y + h / 2)) / interOcular(res.face!.landmarks);
      assert.ok(off < 0.6, `frame ${res.frame}: landmark centre ${off} inter-ocular distances from her box centre`);
    }
  });
});
