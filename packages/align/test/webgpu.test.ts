/**
 * face-api on the webgpu engine: detection, landmarks and descriptors run without a synchronous read (the
 * backend's readSync is made to throw), and agree with the cpu backend (and wasm) on a real frame. On wasm, the asynchronous
 * post-processing that replaces face-api's (src/async-reads.ts) gives exactly face-api's own results.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readImage, type Image } from '@facecomb/image';
import { initEngine, forbidSyncReads, switchOrSkip } from '@facecomb/engine';
import { footage, ingestClip, tmp } from './helpers.js';
import { initRuntime, detectFaces, detectLandmarks, largest, descriptorDistance, type Detection, type Runtime, type Point } from '../src/index.js';

interface Results { dets: Detection[]; landmarks: Point[] }

async function run(rt: Runtime, plate: Image): Promise<Results> {
  const dets = await detectFaces(rt, plate, 0.5, true);
  assert.ok(dets.length > 0, 'no face found');
  const lm = await detectLandmarks(rt, plate, largest(dets).box, 4, true);
  return { dets, landmarks: lm.multi };
}

const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));

/** The engine's results against the cpu backend's: same faces, score, box, descriptor and landmarks. */
function agree(got: Results, cpu: Results, engine: string): void {
  assert.equal(got.dets.length, cpu.dets.length, `${engine}: ${got.dets.length} faces, cpu ${cpu.dets.length}`);
  const a = largest(got.dets), b = largest(cpu.dets);
  assert.ok(Math.abs(a.score - b.score) < 1e-3, `score ${a.score} on ${engine}, ${b.score} on cpu`);
  assert.ok(maxDiff(a.box, b.box) < 0.5, `box ${a.box} on ${engine}, ${b.box} on cpu`);
  const d = descriptorDistance(a.descriptor!, b.descriptor!);
  assert.ok(d < 0.01, `descriptor distance ${engine}-cpu ${d}`);
  const lmDiff = maxDiff(got.landmarks.flat(), cpu.landmarks.flat());
  assert.ok(lmDiff < 0.25, `landmarks on ${engine} differ from cpu by up to ${lmDiff} px`);
}

describe('face-api on every engine (congress/aoc-a.mp4, one frame)', () => {
  let root: string;
  let plate: Image;
  let rt: Runtime;
  let onWasm: Results;
  let onCpu: Results;

  before(async () => {
    root = await tmp('webgpu');
    const clip = await ingestClip(footage('congress', 'aoc-a.mp4'), join(root, 'frames'), 31, 1);
    plate = await readImage(join(clip.dir, 'frames', '000031.png'), { channels: 3 });
    rt = await initRuntime('wasm');
  });

  after(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  test('on wasm, the asynchronous post-processing gives face-api\'s own detections and landmarks exactly, and wasm matches cpu', async () => {
    const { tf, faceapi } = rt;
    const img = tf.tensor3d(Int32Array.from(plate.data, (v) => Math.round(v * 255)), [plate.height, plate.width, 3], 'int32');
    const ssd = faceapi.nets.ssdMobilenetv1, lm = faceapi.nets.faceLandmark68Net;
    const opts = new faceapi.SsdMobilenetv1Options({ minConfidence: 0.3, maxResults: 20 });
    const ours = await ssd.locateFaces(img, opts);
    const theirs = await Object.getPrototypeOf(ssd).locateFaces.call(ssd, img, opts);
    assert.ok(ours.length > 0);
    assert.deepEqual(ours.map((d: { score: number; box: object }) => [d.score, { ...d.box }]), theirs.map((d: { score: number; box: object }) => [d.score, { ...d.box }]));
    const [face] = await faceapi.extractFaceTensors(img, [ours[0]]);
    const a = await lm.detectLandmarks(face), b = await Object.getPrototypeOf(lm).detectLandmarks.call(lm, face);
    assert.deepEqual(a.positions.map((p: { x: number; y: number }) => [p.x, p.y]), b.positions.map((p: { x: number; y: number }) => [p.x, p.y]));
    img.dispose();
    face.dispose();
    onWasm = await run(rt, plate);
    await initEngine({ backend: 'cpu', log: () => {} });
    onCpu = await run(rt, plate);
    await initEngine({ backend: 'wasm', log: () => {} });
    agree(onWasm, onCpu, 'wasm');
  });

  test('on webgpu: detection, landmarks and descriptors with no synchronous read, matching cpu', async (t) => {
    assert.ok(onCpu, 'the wasm/cpu test did not run first');
    const skip = await switchOrSkip('webgpu');
    if (skip) { t.skip(skip); return; }
    const guard = forbidSyncReads();
    let got: Results;
    try {
      got = await run(rt, plate);
    } finally {
      guard.restore();
    }
    assert.equal(guard.attempts(), 0);
    agree(got, onCpu, 'webgpu');
    await initEngine({ backend: 'wasm', log: () => {} });
  });
});
