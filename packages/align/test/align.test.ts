import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir, mkdir, copyFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { readImage, writePng, warpAffine, invertAffine, createImage, type Affine } from '@facecomb/image';
import { footage, ingestClip, tmp, writeMeta } from './helpers.js';
import { runStage, type StageRun } from './stage.js';
import { templateInCrop, transformPoints, interOcular, TEMPLATE_FIRST, type FaceRecord, type Point } from '../src/index.js';
import { frameNumber } from '@facecomb/stage';

const readJson = async <T>(f: string): Promise<T> => JSON.parse(await readFile(f, 'utf8')) as T;
const name = frameNumber;

describe('align on real footage (congress/aoc-a.mp4, 12 frames)', () => {
  let root: string;
  let clip: Awaited<ReturnType<typeof ingestClip>>;
  let out: string;
  let run: StageRun;
  const size = 128;

  before(async () => {
    root = await tmp('aoc');
    clip = await ingestClip(footage('congress', 'aoc-a.mp4'), join(root, 'frames'), 21, 12);
    out = join(root, 'align');
    run = await runStage('align', out, { size, faceType: 'wholeface', contact: 4 }, { frames: clip.dir });
  });

  after(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  test('the stage succeeds, on the wasm engine, and reports progress and a summary', () => {
    assert.equal(run.code, 0, run.stderr);
    const eng = run.lines.find((l) => l.type === 'engine');
    assert.equal(eng?.value.name, 'wasm');
    const prog = run.lines.filter((l) => l.type === 'progress');
    assert.deepEqual(prog[prog.length - 1].value, { done: 12, total: 12, unit: 'frames' });
    const sum = run.lines.find((l) => l.type === 'summary')!.value;
    assert.equal(sum.withFace, 12);
  });

  test('every frame gets a face, written in the documented layout', async () => {
    const meta = await readJson<Record<string, unknown>>(join(out, 'meta.json'));
    assert.equal(meta.kind, 'align');
    assert.equal(meta.size, size);
    assert.equal(meta.faceType, 'wholeface');
    assert.deepEqual(meta.frames, clip.frames);
    assert.deepEqual(meta.withFace, clip.frames);
    assert.deepEqual(meta.noFace, []);
    assert.deepEqual(meta.source, { width: 512, height: 512, fps: 25 });
    for (const f of clip.frames) {
      const rec = await readJson<FaceRecord>(join(out, 'faces', `${name(f)}.json`));
      assert.equal(rec.frame, f);
      assert.ok(rec.face, `frame ${f} has a face`);
      assert.equal(rec.face.landmarks.length, 68);
      assert.equal(rec.face.landmarksRaw.length, 68);
      assert.equal(rec.face.matrix.length, 6);
      assert.equal(rec.face.box.length, 4);
      assert.ok(rec.face.score > 0.5);
      // the face is ~300 px in a 512 plate: the eyes are 80-160 px apart
      const iod = interOcular(rec.face.landmarks);
      assert.ok(iod > 80 && iod < 160, `inter-ocular distance ${iod}`);
      const crop = await sharp(join(out, 'crops', `${name(f)}.png`)).metadata();
      assert.deepEqual([crop.width, crop.height, crop.channels], [size, size, 3]);
      const mask = await sharp(join(out, 'masks', `${name(f)}.png`)).metadata();
      assert.deepEqual([mask.width, mask.height, mask.channels], [size, size, 1]);
    }
    const sheet = await sharp(join(out, 'contact.png')).metadata();
    assert.ok(sheet.width! > 4 * 100 && sheet.height! > 3 * 100, `contact sheet ${sheet.width}x${sheet.height}`);
  });

  test('the crop of a frame warped back with the inverse matrix lands on the original face', async () => {
    const f = clip.frames[6];
    const rec = (await readJson<FaceRecord>(join(out, 'faces', `${name(f)}.json`))).face!;
    const plate = await readImage(join(clip.dir, 'frames', `${name(f)}.png`), { channels: 3 });
    const crop = await readImage(join(out, 'crops', `${name(f)}.png`), { channels: 3 });
    const mask = await readImage(join(out, 'masks', `${name(f)}.png`), { channels: 1 });
    const inv = invertAffine(rec.matrix);
    const back = warpAffine(crop, inv, plate.width, plate.height);
    const maskBack = warpAffine(mask, inv, plate.width, plate.height);
    const err = (dx: number, dy: number) => {
      let s = 0, n = 0;
      for (let y = 0; y < plate.height; y++) for (let x = 0; x < plate.width; x++) {
        if (maskBack.data[y * plate.width + x] < 0.9) continue;
        const sx = x + dx, sy = y + dy;
        if (sx < 0 || sy < 0 || sx >= plate.width || sy >= plate.height) continue;
        for (let k = 0; k < 3; k++) s += Math.abs(back.data[(y * plate.width + x) * 3 + k] - plate.data[(sy * plate.width + sx) * 3 + k]);
        n += 3;
      }
      return { e: s / n, n };
    };
    const here = err(0, 0);
    assert.ok(here.n > 3 * 100 * 100, `mask covers the face in the plate (${here.n / 3} px)`);
    // resampling the 128 px crop of a ~300 px face up again blurs it, but it stays on the face
    assert.ok(here.e < 0.035, `mean abs error inside the mask ${here.e}`);
    // the same comparison a tenth of a face off is clearly worse: the test can tell misplacement
    const iod = interOcular(rec.landmarks);
    const off = err(Math.round(0.25 * iod), 0);
    assert.ok(off.e > 1.5 * here.e, `misplaced error ${off.e} vs ${here.e}`);
    // the template, projected into the plate, sits on the detector's landmarks
    const tpl = transformPoints(inv, templateInCrop(size, 'wholeface'));
    const raw = rec.landmarksRaw.slice(TEMPLATE_FIRST) as Point[];
    const d = tpl.reduce((s, p, i) => s + Math.hypot(p[0] - raw[i][0], p[1] - raw[i][1]), 0) / tpl.length / iod;
    assert.ok(d < 0.12, `template vs raw landmarks: ${d} inter-ocular distances`);
    // and the matrix is the documented mapping: plate -> crop reproduces the stored crop
    const again = warpAffine(plate, rec.matrix as Affine, size, size, { replicate: true });
    let diff = 0;
    for (let i = 0; i < again.data.length; i++) diff += Math.abs(again.data[i] - crop.data[i]);
    assert.ok(diff / again.data.length < 0.01, `re-warp differs by ${diff / again.data.length}`);
  });

  test('stabilised landmarks jitter less than the raw detections', async () => {
    const raw: Point[][] = [], st: Point[][] = [];
    for (const f of clip.frames) {
      const r = (await readJson<FaceRecord>(join(out, 'faces', `${name(f)}.json`))).face!;
      raw.push(r.landmarksRaw);
      st.push(r.landmarks);
    }
    const { landmarkJitter } = await import('../src/index.js');
    const jr = landmarkJitter(raw).jitter, js = landmarkJitter(st).jitter;
    assert.ok(js < jr / 1.3, `stabilised ${js} vs raw ${jr}`);
  });

  test('frames with no face are recorded as such and the stage still succeeds', async () => {
    const dir = join(root, 'gap');
    await mkdir(join(dir, 'frames'), { recursive: true });
    await copyFile(join(clip.dir, 'frames', `${name(clip.frames[0])}.png`), join(dir, 'frames', '000001.png'));
    // a grey plate, and a colour ramp: no face in either
    await writePng(join(dir, 'frames', '000002.png'), createImage(512, 512, 3, 0.5));
    const ramp = createImage(512, 512, 3);
    for (let i = 0; i < ramp.data.length; i += 3) { const x = (i / 3) % 512, y = Math.floor(i / 3 / 512); ramp.data[i] = x / 511; ramp.data[i + 1] = y / 511; ramp.data[i + 2] = 0.3; }
    await writePng(join(dir, 'frames', '000003.png'), ramp);
    await copyFile(join(clip.dir, 'frames', `${name(clip.frames[1])}.png`), join(dir, 'frames', '000004.png'));
    await writeMeta(dir, { source: 'test', fps: 25, width: 512, height: 512, frames: [1, 2, 3, 4] });
    const o = join(root, 'gap-align');
    const r = await runStage('align', o, { size: 64, samples: 1, refine: false, contact: false }, { frames: dir });
    assert.equal(r.code, 0, r.stderr);
    const meta = await readJson<{ withFace: number[]; noFace: number[]; contact: unknown }>(join(o, 'meta.json'));
    assert.deepEqual(meta.withFace, [1, 4]);
    assert.deepEqual(meta.noFace, [2, 3]);
    assert.deepEqual(await readJson(join(o, 'faces', '000002.json')), { frame: 2, face: null });
    assert.equal(existsSync(join(o, 'crops', '000002.png')), false);
    assert.equal(existsSync(join(o, 'contact.png')), false);
    assert.deepEqual((await readdir(join(o, 'crops'))).sort(), ['000001.png', '000004.png']);
  });

  test('bad input fails with a message naming what to fix', async () => {
    const none = await runStage('align', join(root, 'bad1'), {}, {});
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /needs exactly one frames stage/);
    const badParam = await runStage('align', join(root, 'bad2'), { faceType: 'half' }, { frames: clip.dir });
    assert.notEqual(badParam.code, 0);
    assert.match(badParam.stderr, /'faceType'/);
    const grey = join(root, 'grey.png');
    await writePng(grey, createImage(256, 256, 3, 0.5));
    const noRef = await runStage('align', join(root, 'bad3'), { select: 'reference', reference: 'grey.png' }, { frames: clip.dir }, root);
    assert.notEqual(noRef.code, 0);
    assert.match(noRef.stderr, /reference image .*grey\.png: no face found/);
    assert.ok(noRef.stderr.length < 1000, 'one clear line, no minified stack');
    await rm(join(root, 'bad1'), { recursive: true, force: true });
  });
});
