import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readImage, writePng, quantise, type Affine } from '@facecomb/image';
import { frameName } from '@facecomb/stage';
import { blendFace, pyramidSpread } from '../src/index.js';
import { gradientPlate, flatFace, ellipseMask, matrixAbout, dilatedSupport } from './synth.js';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const W = 176, H = 144, S = 96;
const matrixOf = (n: number): Affine => matrixAbout(84 + 4 * n, 70, 1.1, 6 * n - 6, S);

/** frames 1..3 of a synthetic shot; frame 2 has no face (align says so, swap has no file). */
async function layout(root: string, bitDepth: 8 | 16): Promise<Record<string, string>> {
  const dirs = { plates: join(root, 'plates'), align: join(root, 'align'), swap: join(root, 'swap') };
  const frames = [1, 2, 3];
  for (const n of frames) {
    const plate = gradientPlate(W, H, 0.03 * n);
    await writePng(join(dirs.plates, 'frames', frameName(n)), plate, { bitDepth });
    const face = n === 2 ? null : { box: [60, 40, 60, 70], score: 0.99, matrix: matrixOf(n) };
    await mkdir(join(dirs.align, 'faces'), { recursive: true });
    await writeFile(join(dirs.align, 'faces', frameName(n, 'json')), JSON.stringify({ frame: n, face }));
    if (face) {
      await writePng(join(dirs.swap, 'faces', frameName(n)), flatFace(S, [0.8, 0.45, 0.4], 0.05));
      await writePng(join(dirs.swap, 'masks', frameName(n)), ellipseMask(S));
    }
  }
  await writeFile(join(dirs.plates, 'meta.json'), JSON.stringify({ kind: 'ingest', source: 'synthetic', fps: 24, width: W, height: H, bitDepth, frames, first: 1, last: 3, count: 3, audio: null, duration: 0.125 }));
  await writeFile(join(dirs.align, 'meta.json'), JSON.stringify({ kind: 'align', size: S, faceType: 'whole', fps: 24, frames, withFace: [1, 3], noFace: [2], source: { width: W, height: H, fps: 24 } }));
  await writeFile(join(dirs.swap, 'meta.json'), JSON.stringify({ kind: 'swap', source: 'B', size: S, frames: [1, 3] }));
  return dirs;
}

function run(out: string, params: Record<string, unknown>, inputs: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', CLI, 'blend'], {
    encoding: 'utf8',
    env: { ...process.env, FACECOMB_OUT: out, FACECOMB_PARAMS: JSON.stringify(params), FACECOMB_INPUTS: JSON.stringify(inputs), FACECOMB_STAGE: 'blend' },
  });
}

for (const bitDepth of [8, 16] as const) {
  test(`the blend stage end to end on a ${bitDepth}-bit synthetic layout`, async () => {
    const root = await mkdtemp(join(tmpdir(), 'fc-blend-stage-'));
    try {
      const dirs = await layout(root, bitDepth);
      const out = join(root, 'out');
      const params = { mode: 'multiband', feather: 5 };
      const res = run(out, params, { 'target-frames': dirs.plates, align: dirs.align, swap: dirs.swap });
      assert.equal(res.status, 0, res.stderr);
      const progress = res.stdout.split('\n').filter((l) => l.startsWith('::progress '));
      assert.equal(progress.length, 3, res.stdout);
      assert.deepEqual(JSON.parse(progress[2].slice(11)).done, 3);
      assert.match(res.stdout, /::summary .*"blended":2.*"passthrough":1/);
      const meta = JSON.parse(await readFile(join(out, 'meta.json'), 'utf8'));
      assert.equal(meta.kind, 'blend');
      assert.equal(meta.mode, 'multiband');
      assert.equal(meta.fps, 24);
      assert.deepEqual([meta.width, meta.height, meta.bitDepth], [W, H, bitDepth]);
      assert.deepEqual(meta.frames, [1, 2, 3]);

      // the frame without a face passes through untouched, byte for byte
      assert.deepEqual(await readFile(join(out, 'frames', '000002.png')), await readFile(join(dirs.plates, 'frames', '000002.png')));

      for (const n of [1, 3]) {
        const got = await readImage(join(out, 'frames', frameName(n)));
        const plate = await readImage(join(dirs.plates, 'frames', frameName(n)));
        assert.equal(got.bitDepth, bitDepth);
        // the same blend in process, from the same files, gives the same samples
        const crop = await readImage(join(dirs.swap, 'faces', frameName(n)), { channels: 3 });
        const mask = await readImage(join(dirs.swap, 'masks', frameName(n)), { channels: 1 });
        const want = blendFace(plate, crop, mask, matrixOf(n), params as { mode: 'multiband'; feather: number });
        const a = quantise(got, bitDepth), b = quantise(want.image, bitDepth), p0 = quantise(plate, bitDepth);
        let changed = 0;
        // every level of the pyramid is the face's now (the plate's light comes by the light transfer): it reaches pyramidSpread(levels + 1)
        const near = dilatedSupport(want.mask!, want.roi!, W, H, pyramidSpread(want.levels! + 1));
        for (let i = 0; i < a.length; i++) {
          assert.equal(a[i], b[i], `frame ${n} sample ${i}`);
          if (!near[Math.floor(i / 3)]) assert.equal(a[i], p0[i], `frame ${n}: sample ${i} outside the mask changed`);
          else if (a[i] !== p0[i]) changed++;
        }
        assert.ok(changed > 2000, `frame ${n}: only ${changed} samples changed`);
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
}

test('the blend stage names what is wrong with its inputs', async () => {
  const root = await mkdtemp(join(tmpdir(), 'fc-blend-stage-'));
  try {
    const dirs = await layout(root, 8);
    const noSwap = run(join(root, 'o1'), {}, { plates: dirs.plates, align: dirs.align });
    assert.equal(noSwap.status, 1);
    assert.match(noSwap.stderr, /needs a swap stage \(kind swap\)/);
    const twoPlates = run(join(root, 'o2'), {}, { a: dirs.plates, b: dirs.plates, align: dirs.align, swap: dirs.swap });
    assert.equal(twoPlates.status, 1);
    assert.match(twoPlates.stderr, /a and b are both frames stages; say which with param 'plate: <stage>'/);
    const picked = run(join(root, 'o3'), { plate: 'b', mode: 'alpha' }, { a: dirs.plates, b: dirs.plates, align: dirs.align, swap: dirs.swap });
    assert.equal(picked.status, 0, picked.stderr);
    const badMode = run(join(root, 'o4'), { mode: 'laplace' }, { plates: dirs.plates, align: dirs.align, swap: dirs.swap });
    assert.equal(badMode.status, 1);
    assert.match(badMode.stderr, /param 'mode' is 'laplace'/);
    await rm(join(dirs.align, 'faces', '000003.json'));
    const noAlign = run(join(root, 'o5'), {}, { plates: dirs.plates, align: dirs.align, swap: dirs.swap });
    assert.equal(noAlign.status, 1);
    assert.match(noAlign.stderr, /swap has a face for frame 3 but .*000003\.json cannot be read/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
