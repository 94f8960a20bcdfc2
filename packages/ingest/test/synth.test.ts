import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readImage } from '@facecomb/image';
import { synthesize, synthCameras } from '../src/index.js';
import { progressLines, runCli, samplePhoto, tmp } from './helpers.js';

function meanAbsDiff(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

test('synth: a shot from one photo, deterministic given the params, moving frame to frame', async () => {
  const photo = samplePhoto(1);
  const t = await tmp();
  try {
    const params = { image: photo, frames: 6, size: [96, 80], seed: 7 };
    const outA = join(t.dir, 'a');
    await mkdir(outA);
    const r = await runCli('synth', { out: outA, params });
    assert.equal(r.code, 0, r.stderr);
    const prog = progressLines(r.stdout);
    assert.deepEqual(prog[prog.length - 1], { done: 6, total: 6, unit: 'frames' });
    const files = (await readdir(join(outA, 'frames'))).sort();
    assert.deepEqual(files, ['000001.png', '000002.png', '000003.png', '000004.png', '000005.png', '000006.png']);
    const meta = JSON.parse(await readFile(join(outA, 'meta.json'), 'utf8'));
    assert.equal(meta.kind, 'synth');
    assert.equal(meta.fps, 25);
    assert.equal(meta.width, 96);
    assert.equal(meta.height, 80);
    assert.equal(meta.count, 6);
    assert.deepEqual(meta.frames, [1, 2, 3, 4, 5, 6]);
    assert.equal(meta.audio, null);
    assert.equal(meta.motion.amplitude, 0.05);
    assert.equal(meta.motion.seed, 7);

    // same params through the library: the same bytes
    const outB = join(t.dir, 'b');
    await synthesize({ ...params, size: [96, 80], out: outB });
    for (const f of files) {
      assert.ok((await readFile(join(outA, 'frames', f))).equals(await readFile(join(outB, 'frames', f))), `${f} differs between two runs with the same seed`);
    }
    // consecutive frames differ (camera move and light drift)
    const imgs = await Promise.all(files.map((f) => readImage(join(outA, 'frames', f))));
    assert.equal(imgs[0].width, 96);
    assert.equal(imgs[0].height, 80);
    for (let i = 1; i < imgs.length; i++) {
      const d = meanAbsDiff(imgs[i - 1].data, imgs[i].data);
      assert.ok(d > 1e-3, `frames ${i} and ${i + 1} are nearly identical (mean diff ${d})`);
    }
    // another seed moves differently
    const outC = join(t.dir, 'c');
    await synthesize({ ...params, size: [96, 80], seed: 8, out: outC });
    assert.ok(!(await readFile(join(outA, 'frames', '000004.png'))).equals(await readFile(join(outC, 'frames', '000004.png'))));
    // without motion and light, every frame is the same picture
    const outD = join(t.dir, 'd');
    await synthesize({ ...params, size: [96, 80], motion: 0, light: 0, frames: 3, out: outD });
    const still = await Promise.all(['000001.png', '000003.png'].map((f) => readFile(join(outD, 'frames', f))));
    assert.ok(still[0].equals(still[1]));
  } finally {
    await t.done();
  }
});

test('synth cameras: smooth (small steps), bounded by the amplitude, seeded', () => {
  const opts = { photo: [1000, 800] as [number, number], crop: [0, 0, 1000, 800] as [number, number, number, number], frames: 100, fps: 25, size: [200, 200] as [number, number], motion: 0.05, light: 0.1, seed: 3 };
  const cams = synthCameras(opts);
  assert.equal(cams.length, 100);
  assert.deepEqual(synthCameras(opts), cams);
  let maxStep = 0, maxPan = 0;
  for (let i = 0; i < cams.length; i++) {
    // where the crop centre lands in the frame
    const m = cams[i].matrix;
    const cx = m[0] * 500 + m[1] * 400 + m[2] - 100;
    const cy = m[3] * 500 + m[4] * 400 + m[5] - 100;
    maxPan = Math.max(maxPan, Math.abs(cx), Math.abs(cy));
    assert.ok(Math.abs(cams[i].gain - 1) <= 0.1 + 1e-9);
    if (i > 0) {
      const p = cams[i - 1].matrix;
      maxStep = Math.max(maxStep, Math.abs(m[2] - p[2]), Math.abs(m[5] - p[5]));
    }
  }
  assert.ok(maxPan <= 0.05 * 200 + 1e-6, `pan ${maxPan} px exceeds the amplitude`);
  assert.ok(maxPan > 1, 'the camera does move');
  assert.ok(maxStep < 5, `a frame-to-frame jump of ${maxStep} px is not smooth`);
});

test('synth: a missing photo is a clear error', async () => {
  const t = await tmp();
  try {
    await assert.rejects(synthesize({ image: join(t.dir, 'nope.jpg'), out: t.dir }), /synth image not found: .*nope\.jpg/);
  } finally {
    await t.done();
  }
});
