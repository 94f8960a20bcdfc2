import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { readImage, warpAffine, type Image } from '@facecomb/image';
import { frameName } from '@facecomb/stage';
import { footage, ingestClip, tmp } from './helpers.js';
import { runStage, type StageRun } from './stage.js';
import {
  initRuntime, detectFaces, detectLandmarks, detectHands, parseAlignParams, visibleFace, visibleFaceMask, hullMask, maskPolygon, interOcular,
  transformPoints, type FaceRecord, type Point,
} from '../src/index.js';
import { alignMatrix } from '../src/template.js';

const require = createRequire(import.meta.url);
const readJson = async <T>(f: string) => JSON.parse(await readFile(f, 'utf8')) as T;
const at = (m: Image, [x, y]: Point) => m.data[Math.min(m.height - 1, Math.max(0, Math.round(y))) * m.width + Math.min(m.width - 1, Math.max(0, Math.round(x)))];
const iou = (a: Image, b: Image) => {
  let i = 0, u = 0;
  for (let k = 0; k < a.data.length; k++) { const p = a.data[k] >= 0.5, q = b.data[k] >= 0.5; if (p && q) i++; if (p || q) u++; }
  return i / u;
};

describe('align mask source mesh on real footage (congress/katiehill.mp4, 4 frames)', () => {
  let root: string;
  let out: string;
  let run: StageRun;
  let frames: number[];
  const size = 128;

  before(async () => {
    root = await tmp('mesh');
    const clip = await ingestClip(footage('congress', 'katiehill.mp4'), join(root, 'frames'), 41, 4);
    frames = clip.frames;
    out = join(root, 'align');
    run = await runStage('align', out, { size, mask: { source: 'mesh' }, contact: false }, { frames: clip.dir });
  });
  after(async () => { if (root) await rm(root, { recursive: true, force: true }); });

  test('every frame gets a mesh mask, its regions written beside it; no hand is found on a face without one', async () => {
    assert.equal(run.code, 0, run.stderr);
    const meta = await readJson<{ meshFallback: number[]; handFrames: Record<string, number>; params: { mask: { source: string; hands: boolean } } }>(join(out, 'meta.json'));
    assert.deepEqual(meta.meshFallback, []);
    assert.deepEqual(meta.handFrames, {});
    assert.deepEqual(meta.params.mask.source, 'mesh');
    assert.equal(meta.params.mask.hands, true, 'hands are subtracted by default with the mesh');
    for (const f of frames) {
      const rec = await readJson<{ source: string; meshScore: number; regions: Record<string, Point[]>; hands: Point[][] }>(join(out, 'mesh', frameName(f, 'json')));
      assert.equal(rec.source, 'mesh');
      assert.ok(rec.meshScore > 0.9, `mesh score ${rec.meshScore}`);
      assert.deepEqual(Object.keys(rec.regions).sort(), ['innerMouth', 'leftEye', 'oval', 'rightEye']);
      assert.deepEqual(rec.hands, []);
    }
  });

  test("the mesh agrees with face-api's landmarks (eye and mouth corners) and its oval with the landmark hull", async () => {
    for (const f of frames) {
      const face = (await readJson<FaceRecord>(join(out, 'faces', frameName(f, 'json')))).face!;
      const lm = transformPoints(face.matrix, face.landmarks);
      const rec = await readJson<{ regions: Record<string, Point[]> }>(join(out, 'mesh', frameName(f, 'json')));
      const iod = interOcular(lm);
      const d = (p: Point, q: Point) => Math.hypot(p[0] - q[0], p[1] - q[1]) / iod;
      // the eye regions start at their outer corners (mesh 33 and 263 = face-api 36 and 45)
      assert.ok(d(rec.regions.rightEye[0], lm[36]) < 0.15, `right eye corner ${d(rec.regions.rightEye[0], lm[36])}`);
      assert.ok(d(rec.regions.leftEye[0], lm[45]) < 0.15, `left eye corner ${d(rec.regions.leftEye[0], lm[45])}`);
      // inner mouth corners (mesh 78 and 308) near the inner-lip corners (60 and 64)
      assert.ok(d(rec.regions.innerMouth[0], lm[60]) < 0.15 && d(rec.regions.innerMouth[10], lm[64]) < 0.15, 'mouth corners');
      // the oval is another outline of the same face (MediaPipe's face contour, not face-api's jaw and raised
      // brows), holding the eyes, the nose and the mouth
      const mask = await readImage(join(out, 'masks', frameName(f)), { channels: 1 });
      const hull = hullMask(maskPolygon(lm, 'wholeface'), size, { erode: 0.01, feather: 0.04 });
      const overlap = iou(mask, hull);
      assert.ok(overlap > 0.6 && overlap < 0.98, `mesh oval vs landmark hull IoU ${overlap}`);
      const mean = (a: number, b: number): Point => [0, 1].map((c) => lm.slice(a, b).reduce((s, p) => s + p[c], 0) / (b - a)) as Point;
      for (const [name, p] of [['right eye', mean(36, 42)], ['left eye', mean(42, 48)], ['nose', lm[30]], ['nose bridge', lm[28]], ['mouth', mean(60, 68)]] as [string, Point][]) {
        assert.ok(at(mask, p) > 0.95, `${name} in the mesh mask (${at(mask, p)})`);
      }
    }
  });
});

describe('hands subtracted from the face mask (a real hand from face-api sample2.jpg pasted over a real face)', () => {
  let rt: Awaited<ReturnType<typeof initRuntime>>;
  let pasted: Image;
  let face: { box: [number, number, number, number] };
  let crop: Image;
  let matrix: ReturnType<typeof alignMatrix>;
  let lm: Point[];
  const size = 128;

  before(async () => {
    rt = await initRuntime('wasm');
    // the sample photo's hand, found by the hand models themselves, cut with a margin
    const sample = await readImage(require.resolve('@vladmandic/face-api/demo/sample2.jpg'), { channels: 3 });
    const hands = await detectHands(rt, sample);
    assert.ok(hands.length >= 1, 'the hand resting on a knee in sample2.jpg is found');
    const xs = hands[0].points.map((p) => p[0]), ys = hands[0].points.map((p) => p[1]);
    const pad = 0.25 * Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
    const hb = [Math.min(...xs) - pad, Math.min(...ys) - pad, Math.max(...xs) + pad, Math.max(...ys) + pad];
    // pasted over the lower face of a real frame, 0.6 of the face wide, its fingers over the mouth
    const dir = await tmp('hand');
    const clip = await ingestClip(footage('congress', 'katiehill.mp4'), dir, 101, 1);
    const plate = await readImage(join(clip.dir, 'frames', frameName(clip.frames[0])), { channels: 3 });
    await rm(dir, { recursive: true, force: true });
    // the face is found and its landmarks read on the frame before the hand is pasted, as tracking carries them
    // into a frame where a hand covers the mouth (the detector does not find this face with its mouth covered)
    [face] = await detectFaces(rt, plate, 0.5);
    const refined = (await detectLandmarks(rt, plate, face.box, 5, true)).refined;
    const mouth = refined[62];
    const k = (0.6 * face.box[2]) / (hb[2] - hb[0]);
    const w = Math.round((hb[2] - hb[0]) * k), h = Math.round((hb[3] - hb[1]) * k);
    pasted = { ...plate, data: plate.data.slice() };
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const px = Math.round(mouth[0] - w / 2 + x), py = Math.round(mouth[1] - h * 0.6 + y);
      if (px < 0 || py < 0 || px >= plate.width || py >= plate.height) continue;
      const s = (Math.round(hb[1] + y / k) * sample.width + Math.round(hb[0] + x / k)) * 3;
      for (let c = 0; c < 3; c++) pasted.data[(py * plate.width + px) * 3 + c] = sample.data[s + c];
    }
    matrix = alignMatrix(refined, size, 'wholeface');
    crop = warpAffine(pasted, matrix, size, size, { replicate: true });
    lm = transformPoints(matrix, refined);
  });

  test('the hand is found and taken out of the mask where the landmark hull would paint over it; the eyes stay in', async () => {
    const v = await visibleFace(rt, pasted, crop, face.box, matrix, lm, parseAlignParams({ size, mask: { source: 'mesh' } }));
    assert.equal(v.source, 'mesh');
    assert.equal(v.hands.length, 1);
    const inside = v.hands[0].filter(([x, y]) => x >= 0 && y >= 0 && x < size && y < size);
    assert.ok(inside.length >= 15, `${inside.length} of the hand's 21 keypoints are in the crop`);
    const hull = hullMask(maskPolygon(lm, 'wholeface'), size, { erode: 0.01, feather: 0.04 });
    assert.ok(inside.filter((p) => at(hull, p) > 0.5).length >= 8, 'the hand covers the landmark hull');
    assert.ok(inside.every((p) => at(v.mask, p) < 0.05), `no keypoint of the hand is left in the mesh mask (${inside.map((p) => at(v.mask, p).toFixed(2))})`);
    for (const i of [37, 44, 27]) assert.ok(at(v.mask, lm[i]) > 0.95, `landmark ${i} (eyes, top of the nose) stays in the mask`);
    // without hand subtraction the mesh oval covers the hand
    const plain = await visibleFace(rt, pasted, crop, face.box, matrix, lm, parseAlignParams({ size, mask: { source: 'mesh', hands: false } }));
    assert.deepEqual(plain.hands, []);
    assert.ok(inside.filter((p) => at(plain.mask, p) > 0.5).length >= 8);
  });

  test('no mesh found (flag under 0.5): the frame falls back to the landmark hull', () => {
    const params = parseAlignParams({ size, mask: { source: 'mesh' } });
    const v = visibleFaceMask(lm, { points: lm.concat(Array(400).fill(lm[30])), score: 0.1 }, [], size, 'wholeface', params.mask);
    assert.equal(v.source, 'hull');
    assert.equal(v.regions, null);
    assert.deepEqual(v.mask.data, hullMask(maskPolygon(lm, 'wholeface'), size, params.mask).data);
  });
});

test("align's mask param: source and hands checked, named in errors; the default writes no mesh folder", async () => {
  assert.deepEqual(parseAlignParams({}).mask, { erode: 0.01, feather: 0.04, source: 'hull', hands: false });
  assert.equal(parseAlignParams({ mask: { source: 'mesh' } }).mask.hands, true);
  assert.equal(parseAlignParams({ mask: { source: 'hull', hands: true } }).mask.hands, true);
  assert.throws(() => parseAlignParams({ mask: { source: 'mseh' } }), /param 'mask.source' must be 'hull'.*'mesh'.*"mseh"/);
  assert.throws(() => parseAlignParams({ mask: { hands: 'yes' } }), /param 'mask.hands' must be true or false/);
  assert.throws(() => parseAlignParams({ mask: { hand: true } }), /param 'mask.hand' is unknown \(use erode, feather, source, hands\)/);
  const root = await tmp('nomesh');
  try {
    const clip = await ingestClip(footage('congress', 'katiehill.mp4'), join(root, 'frames'), 41, 1);
    const run = await runStage('align', join(root, 'align'), { size: 64, contact: false }, { frames: clip.dir });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(existsSync(join(root, 'align', 'mesh')), false);
    const meta = await readJson<Record<string, unknown>>(join(root, 'align', 'meta.json'));
    assert.equal('meshFallback' in meta || 'handFrames' in meta, false);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
