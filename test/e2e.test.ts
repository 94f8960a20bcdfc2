// End to end on real footage through the real runner CLI: two identities, a 10-frame plate, a tiny comb
// model at 32 px, swap, multiband blend, H.264 encode. Checks the video against the plate and that the
// blend touched nothing outside the face. Then the same pipeline on webgpu (a software adapter in CI, about
// 2x the wasm run's time): its swapped faces must agree with the wasm run's.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { readImage, warpAffine, invertAffine, type Affine } from '@facecomb/image';
import { probe } from '@facecomb/ingest';
import { pyramidSpread } from '@facecomb/blend';
import { switchOrSkip } from '@facecomb/engine';

const root = fileURLToPath(new URL('..', import.meta.url));
const footage = join(root, '..', 'shared', 'footage');
const runner = join(root, 'packages', 'runner', 'bin', 'runner.js');
const LEVELS = 4;
const PLATE_LEVELS = 2;
/** The wasm run's folder (pipeline file and cache), compared against by the webgpu run. */
let wasmRun: { dir: string; file: string; cache: string } | null = null;
after(async () => {
  if (wasmRun) await rm(wasmRun.dir, { recursive: true, force: true });
});

function pipeline(): string {
  if (!existsSync(join(footage, 'congress', 'katiehill.mp4'))) {
    assert.fail(`the end-to-end test needs real footage in ${footage} (../shared/footage beside the repository)`);
  }
  const clip = (name: string) => JSON.stringify(join(footage, 'congress', name));
  return `version: 1
name: e2e
stages:
  aoc-frames: { uses: ingest, with: { src: ${clip('aoc-a.mp4')}, range: [1, 24] } }
  spk-frames: { uses: ingest, with: { src: ${clip('speaker-1.mp4')}, range: [1, 24] } }
  plate: { uses: ingest, with: { src: ${clip('katiehill.mp4')}, range: [1, 10] } }
  aoc-align: { uses: align, needs: [aoc-frames], with: { size: 64, samples: 2, contact: false } }
  spk-align: { uses: align, needs: [spk-frames], with: { size: 64, samples: 2, contact: false } }
  plate-align: { uses: align, needs: [plate], with: { size: 64, samples: 2 } }
  aoc: { uses: dataset, needs: [aoc-align], with: { name: aoc } }
  spk: { uses: dataset, needs: [spk-align], with: { name: spk } }
  train:
    uses: train
    needs: [aoc, spk]
    with:
      resolution: 32
      startResolution: 16
      stepsPerFade: 6
      stepsPerStable: 6
      batch: 4
      channels: { "4": 16, "8": 16, "16": 12, "32": 8 }
      latent: 32
      seed: 3
  swap: { uses: swap, needs: [train, plate-align], with: { source: aoc } }
  blend: { uses: blend, needs: [plate, plate-align, swap], with: { mode: multiband, levels: ${LEVELS}, plateLevels: ${PLATE_LEVELS} } }
  encode: { uses: encode, needs: [blend, plate], with: { name: shot } }
`;
}

async function artifacts(file: string, cache: string, stage: string): Promise<string> {
  const { stdout } = await execa('node', [runner, 'show', file, stage, '--cache', cache, '--json']);
  const shown = JSON.parse(stdout) as { artifacts: string };
  return shown.artifacts;
}

test('a tiny pipeline on real footage gives a video with the plate\'s frames, fps and duration, and leaves the plate untouched outside the face', { timeout: 15 * 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'facecomb-e2e-'));
  const file = join(dir, 'e2e.yaml');
  const cache = join(dir, '.facecomb');
  await writeFile(file, pipeline());
  const run = await execa('node', [runner, 'run', file, '--cache', cache, '--jobs', '2', '--backend', 'wasm'], { reject: false, all: true });
  assert.equal(run.exitCode, 0, `runner run failed:\n${run.all}`);
  wasmRun = { dir, file, cache };

  const status = await execa('node', [runner, 'status', file, '--cache', cache, '--json']);
  const states = JSON.parse(status.stdout) as { stage: string; state: string }[];
  assert.equal(states.length, 12);
  assert.ok(states.every((s) => s.state === 'cached'), status.stdout);

  const plateDir = await artifacts(file, cache, 'plate');
  const plateMeta = JSON.parse(await readFile(join(plateDir, 'meta.json'), 'utf8')) as { fps: number; count: number; frames: number[] };
  assert.equal(plateMeta.count, 10);

  const encodeDir = await artifacts(file, cache, 'encode');
  const video = await probe(join(encodeDir, 'shot.mp4'));
  assert.ok(video.video, 'the output has a video stream');
  assert.equal(video.video!.frames, plateMeta.count);
  assert.ok(Math.abs(video.video!.fps - plateMeta.fps) < 1e-6, `fps ${video.video!.fps} vs plate ${plateMeta.fps}`);
  const duration = video.duration ?? NaN;
  assert.ok(Math.abs(duration - plateMeta.count / plateMeta.fps) < 0.05, `duration ${duration} vs ${plateMeta.count / plateMeta.fps}`);

  const alignDir = await artifacts(file, cache, 'plate-align');
  const swapDir = await artifacts(file, cache, 'swap');
  const blendDir = await artifacts(file, cache, 'blend');
  const blended = (await readdir(join(blendDir, 'frames'))).sort();
  assert.equal(blended.length, plateMeta.count);
  const reach = pyramidSpread(LEVELS - PLATE_LEVELS) + 1;
  let changedInside = 0;
  for (const name of blended) {
    const plate = await readImage(join(plateDir, 'frames', name));
    const out = await readImage(join(blendDir, 'frames', name));
    const face = JSON.parse(await readFile(join(alignDir, 'faces', name.replace('.png', '.json')), 'utf8')) as { face: { matrix: Affine } | null };
    assert.ok(face.face, `frame ${name} has a face`);
    const mask = await readImage(join(swapDir, 'masks', name), { channels: 1 });
    const back = warpAffine(mask, invertAffine(face.face!.matrix), plate.width, plate.height);
    // distance to the nearest mask pixel, by a separable box dilation of radius `reach`
    const near = dilate(back.data, plate.width, plate.height, reach);
    let outsideDiff = 0;
    for (let p = 0; p < plate.width * plate.height; p++) {
      let d = 0;
      for (let c = 0; c < 3; c++) d = Math.max(d, Math.abs(out.data[p * 3 + c] - plate.data[p * 3 + c]));
      if (near[p] === 0) outsideDiff = Math.max(outsideDiff, d);
      else if (back.data[p] > 0.5 && d > 2 / 255) changedInside++;
    }
    assert.equal(outsideDiff, 0, `frame ${name}: a pixel outside the mask differs from the plate by ${outsideDiff}`);
  }
  assert.ok(changedInside > 1000, `the swap changed ${changedInside} pixels inside the masks`);
});

test('the same pipeline on webgpu: train and swap run there, align says where detection ran, and the swapped faces agree with wasm', { timeout: 15 * 60_000 }, async (t) => {
  const skip = await switchOrSkip('webgpu');
  if (skip) { t.skip(skip); return; }
  assert.ok(wasmRun, 'the wasm run did not succeed');
  const { file } = wasmRun;
  const cache = join(wasmRun.dir, '.facecomb-webgpu');
  const run = await execa('node', [runner, 'run', file, '--cache', cache, '--jobs', '2', '--backend', 'webgpu'], { reject: false, all: true });
  assert.equal(run.exitCode, 0, `runner run --backend webgpu failed:\n${run.all}`);
  for (const stage of ['train', 'swap']) {
    const manifest = JSON.parse(await readFile(join(await artifacts(file, cache, stage), '..', 'manifest.json'), 'utf8')) as { engine: { name: string } };
    assert.equal(manifest.engine.name, 'webgpu', `${stage} ran on ${manifest.engine.name}`);
  }
  const alignLog = await readFile(join(await artifacts(file, cache, 'plate-align'), '..', 'log.txt'), 'utf8');
  assert.match(alignLog, /align: face detection, landmarks and descriptors ran on webgpu/);
  // Tolerance: every pixel of every swapped face within 2/255 of the wasm run's (8-bit PNGs; measured: at
  // most 1/255, mean 1e-5/255), the mean difference below 0.05/255.
  const [a, b] = [await artifacts(file, wasmRun.cache, 'swap'), await artifacts(file, cache, 'swap')];
  const names = (await readdir(join(a, 'faces'))).sort();
  assert.deepEqual((await readdir(join(b, 'faces'))).sort(), names);
  let max = 0, sum = 0, n = 0;
  for (const name of names) {
    const [x, y] = [await readImage(join(a, 'faces', name)), await readImage(join(b, 'faces', name))];
    for (let i = 0; i < x.data.length; i++) {
      const d = Math.abs(x.data[i] - y.data[i]);
      max = Math.max(max, d);
      sum += d;
    }
    n += x.data.length;
  }
  assert.ok(max <= 2 / 255 + 1e-6, `a swapped-face pixel differs by ${(max * 255).toFixed(2)}/255 between wasm and webgpu`);
  assert.ok(sum / n < 0.05 / 255, `mean difference ${((sum / n) * 255).toExponential(2)}/255 between wasm and webgpu`);
});

function dilate(src: Float32Array, w: number, h: number, r: number): Uint8Array {
  const rows = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    let last = -Infinity;
    for (let x = 0; x < w; x++) if (src[y * w + x] > 0) last = x; else if (x - last <= r) rows[y * w + x] = 1;
    last = Infinity;
    for (let x = w - 1; x >= 0; x--) if (src[y * w + x] > 0) { last = x; rows[y * w + x] = 1; } else if (last - x <= r) rows[y * w + x] = 1;
  }
  const out = new Uint8Array(w * h);
  for (let x = 0; x < w; x++) {
    let last = -Infinity;
    for (let y = 0; y < h; y++) if (rows[y * w + x]) last = y; else if (y - last <= r) out[y * w + x] = 1;
    last = Infinity;
    for (let y = h - 1; y >= 0; y--) if (rows[y * w + x]) { last = y; out[y * w + x] = 1; } else if (last - y <= r) out[y * w + x] = 1;
  }
  return out;
}
