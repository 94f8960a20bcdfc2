import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { footage, ingestClip, tmp } from './helpers.js';
import { alignFrames, parseAlignParams, readFrameSource, type AlignRun } from '../src/index.js';

// a chunk of the align stage (FACECOMB_FRAMES, `chunk: N` in a pipeline); on wasm, the engine every machine has
const maxDiff = (a: AlignRun, b: AlignRun) => {
  let max = 0;
  for (const r of a.results) {
    const w = b.results.find((x) => x.frame === r.frame)!;
    r.face!.landmarks.forEach(([x, y], i) => (max = Math.max(max, Math.hypot(x - w.face!.landmarks[i][0], y - w.face!.landmarks[i][1]))));
  }
  return max;
};

test('FACECOMB_FRAMES: a chunk warms up before its first frame, which brings its landmarks to within 1 px of the whole run', async (t) => {
  const root = await tmp('chunk');
  try {
    const clip = await ingestClip(footage('congress', 'aoc-a.mp4'), join(root, 'frames'), 1, 24);
    const src = await readFrameSource(clip.dir);
    const params = parseAlignParams({ size: 64, contact: false });
    const whole = await alignFrames(src, join(root, 'whole'), params, { backend: 'wasm' });
    // a third of the default warm-up (8 frames, so from frame 11: the detector's schedule), and none
    const range = { first: 21, last: 24 };
    const warm = await alignFrames(src, join(root, 'warm'), params, { backend: 'wasm', range, warmup: 8 });
    const cold = await alignFrames(src, join(root, 'cold'), params, { backend: 'wasm', range, warmup: 0 });
    assert.deepEqual(warm.results.map((r) => r.frame), [21, 22, 23, 24]);
    assert.equal(warm.detections, 2, 'frames 11 and 21, as in the whole run');
    const [dWarm, dCold] = [maxDiff(warm, whole), maxDiff(cold, whole)];
    t.diagnostic(`largest landmark difference to the whole run: ${dWarm.toFixed(3)} px with 8 frames of warm-up, ${dCold.toFixed(3)} px without`);
    assert.ok(dWarm < 1 && dWarm < dCold / 2, `largest landmark difference to the whole run: ${dWarm} px warmed up, ${dCold} px without`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
