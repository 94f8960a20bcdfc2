import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  umeyama, transformPoints, alignMatrix, templateInCrop, MEAN_FACE, TEMPLATE_FIRST, OneEuro, LandmarkStabiliser,
  landmarkJitter, hullMask, convexHull, maskPolygon, interOcular, parseAlignParams, heldoutClips, type Point,
} from '../src/index.js';

// A 68-point face: jaw on an arc under the template points, scaled to plate pixels.
function face(scale = 200, angle = 0, tx = 300, ty = 200): Point[] {
  const jaw: Point[] = Array.from({ length: 17 }, (_, i) => {
    const t = Math.PI * (i / 16);
    return [0.49 - 0.5 * Math.cos(t), 0.25 + 0.75 * Math.sin(t)] as Point;
  });
  const c = Math.cos(angle), s = Math.sin(angle);
  return [...jaw, ...MEAN_FACE].map(([x, y]) => [scale * (c * x - s * y) + tx, scale * (s * x + c * y) + ty] as Point);
}

// deterministic noise
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}

test('umeyama recovers a similarity transform exactly', () => {
  const src = face(1, 0, 0, 0);
  const ang = 0.3, sc = 137, tx = 40, ty = -12;
  const dst = src.map(([x, y]) => [sc * (Math.cos(ang) * x - Math.sin(ang) * y) + tx, sc * (Math.sin(ang) * x + Math.cos(ang) * y) + ty] as Point);
  const m = umeyama(src, dst);
  assert.ok(Math.abs(m[0] - sc * Math.cos(ang)) < 1e-9 && Math.abs(m[3] - sc * Math.sin(ang)) < 1e-9);
  assert.ok(Math.abs(m[2] - tx) < 1e-9 && Math.abs(m[5] - ty) < 1e-9);
  assert.throws(() => umeyama([[1, 1], [1, 1]], [[0, 0], [1, 1]]), /same point/);
});

test('alignMatrix puts the template points of a face onto the crop template, for every face type', () => {
  for (const type of ['face', 'wholeface', 'head'] as const) {
    const lm = face(180, -0.2, 250, 140);
    const m = alignMatrix(lm, 256, type);
    const got = transformPoints(m, lm.slice(TEMPLATE_FIRST));
    const want = templateInCrop(256, type);
    for (let i = 0; i < want.length; i++) assert.ok(Math.hypot(got[i][0] - want[i][0], got[i][1] - want[i][1]) < 1e-6);
    // the whole template lies inside the crop
    for (const [x, y] of want) assert.ok(x >= 0 && x <= 255 && y >= 0 && y <= 255, `${type}: template point outside the crop`);
  }
  // larger extents show the face smaller
  const w = (t: 'face' | 'wholeface' | 'head') => { const p = templateInCrop(256, t); return p[9][0] - p[0][0]; };
  assert.ok(w('face') > w('wholeface') && w('wholeface') > w('head'));
});

test('one-euro filter removes jitter at rest and follows a fast move', () => {
  const r = rng(1);
  const f = new OneEuro(1, 1);
  let inErr = 0, outErr = 0;
  for (let i = 0; i < 200; i++) {
    const noisy = 0.02 * r();
    const y = f.filter(i / 25, [noisy])[0];
    if (i > 20) { inErr += noisy * noisy; outErr += y * y; }
  }
  assert.ok(outErr < inErr / 4, `filtered variance ${outErr} should be well below the input's ${inErr}`);
  // a ramp at 5 units/s: after settling, lag stays small thanks to beta
  const g = new OneEuro(1, 1);
  let y = 0;
  for (let i = 0; i < 100; i++) y = g.filter(i / 25, [5 * (i / 25)])[0];
  assert.ok(Math.abs(y - 5 * (99 / 25)) < 0.3, `ramp lag ${5 * (99 / 25) - y}`);
});

test('stabiliser: steadies a noisy still face, keeps rigid motion, and restarts on a cut', () => {
  const r = rng(7);
  const st = new LandmarkStabiliser({ minCutoff: 1, beta: 1 }, 0.5, 25);
  const raw: Point[][] = [], out: Point[][] = [];
  for (let i = 0; i < 60; i++) {
    const lm = face(200, 0.002 * i, 300 + 2 * i, 200).map(([x, y]) => [x + 2 * r(), y + 2 * r()] as Point);
    raw.push(lm);
    out.push(st.push(i, lm).landmarks);
  }
  const jr = landmarkJitter(raw).jitter, js = landmarkJitter(out).jitter;
  assert.ok(js < jr / 2, `stabilised jitter ${js} should be under half the raw ${jr}`);
  // it follows the moving head: the last frame is within 3% of IOD of the truth
  const truth = face(200, 0.002 * 59, 300 + 2 * 59, 200);
  const d = out[59].reduce((s, p, k) => s + Math.hypot(p[0] - truth[k][0], p[1] - truth[k][1]), 0) / 68 / interOcular(truth);
  assert.ok(d < 0.03, `tracking error ${d}`);
  // a jump of a whole face width: a cut, the output is the new input exactly (no lag)
  const jump = face(150, 0, 700, 300);
  const res = st.push(60, jump);
  assert.equal(res.cut, true);
  assert.ok(res.landmarks.every((p, k) => Math.hypot(p[0] - jump[k][0], p[1] - jump[k][1]) < 1e-6));
  // a gap in the track also restarts it
  assert.equal(st.push(64, jump).cut, true);
  assert.equal(st.push(65, jump).cut, false);
});

test('jitter ignores rigid head motion and measures non-rigid change', () => {
  const track = Array.from({ length: 10 }, (_, i) => face(200 + 5 * i, 0.05 * i, 300 + 10 * i, 200 - 3 * i));
  assert.ok(landmarkJitter(track).jitter < 1e-9);
  const r = rng(3);
  const noisy = track.map((l) => l.map(([x, y]) => [x + 4 * r(), y + 4 * r()] as Point));
  assert.ok(landmarkJitter(noisy).jitter > 0.005);
  // frames without a face and cuts are skipped
  assert.equal(landmarkJitter([track[0], null, track[1], track[2]], new Set([3])).pairs, 0);
});

test('mask: 1 inside the hull, 0 outside, erosion shrinks it and the feather is soft', () => {
  const lm = transformPoints(alignMatrix(face(), 128, 'face'), face());
  const hard = hullMask(maskPolygon(lm, 'face'), 128, { erode: 0, feather: 0 });
  const eroded = hullMask(maskPolygon(lm, 'face'), 128, { erode: 0.05, feather: 0 });
  const soft = hullMask(maskPolygon(lm, 'face'), 128, { erode: 0, feather: 0.1 });
  const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
  const nose = lm[30];
  assert.equal(hard.data[Math.round(nose[1]) * 128 + Math.round(nose[0])], 1);
  assert.equal(hard.data[0], 0);
  assert.ok(sum(eroded.data) < sum(hard.data) * 0.85);
  const partial = Array.from(soft.data).filter((v) => v > 0.05 && v < 0.95).length;
  const partialHard = Array.from(hard.data).filter((v) => v > 0.05 && v < 0.95).length;
  assert.ok(partial > 4 * partialHard, 'feathered mask has a wide soft edge');
  // whole face reaches higher (forehead) than face
  const whole = hullMask(maskPolygon(lm, 'wholeface'), 128, { erode: 0, feather: 0 });
  const top = (m: Float32Array) => { for (let y = 0; y < 128; y++) for (let x = 0; x < 128; x++) if (m[y * 128 + x] > 0.5) return y; return 128; };
  assert.ok(top(whole.data) < top(hard.data) - 5);
  assert.equal(convexHull([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]]).length, 4);
});

test('params: defaults, and errors that name the field', () => {
  const p = parseAlignParams({});
  assert.equal(p.size, 256);
  assert.equal(p.faceType, 'wholeface');
  assert.equal(p.samples, 5);
  assert.equal(p.refine, true);
  assert.throws(() => parseAlignParams({ size: 32 }), /'size'/);
  assert.throws(() => parseAlignParams({ faceType: 'half' }), /'faceType'/);
  assert.throws(() => parseAlignParams({ select: 'reference' }), /'reference'/);
  assert.throws(() => parseAlignParams({ smoothing: { minCutoff: 1, gamma: 2 } }), /smoothing.gamma/);
  assert.throws(() => parseAlignParams({ colour: 1 }), /unknown param 'colour'/);
  assert.equal(parseAlignParams({ smoothing: false }).smoothing, false);
});

test('held-out clips: a stable share, never all, none for one clip', () => {
  const clips = Array.from({ length: 20 }, (_, i) => `clip${i}`);
  assert.equal(heldoutClips(clips, 0.1).size, 2);
  assert.deepEqual([...heldoutClips(clips, 0.1)], [...heldoutClips([...clips].reverse(), 0.1)]);
  assert.equal(heldoutClips(['a'], 0.5).size, 0);
  assert.equal(heldoutClips(['a', 'b'], 0.9).size, 1);
  assert.equal(heldoutClips(['a', 'b'], 0.01).size, 1);
});
