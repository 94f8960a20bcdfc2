// Phone and camera metadata, on generated files: a display-matrix rotation, variable frame rate, several clips
// as one ingest, and a file of clips with gaps in its timestamps (whose rate must stay 30000/1001).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readImage } from '@facecomb/image';
import { ingest, probe } from '../src/index.js';
import { makeClip, pictureNumber, tmp } from './helpers.js';
import { frameName } from '@facecomb/stage';

const NTSC = { num: 30000, den: 1001 };

test('ingest: a phone clip rotated 90 degrees comes out upright', async () => {
  const t = await tmp();
  try {
    const src = join(t.dir, 'portrait.mp4');
    // coded 40x24 with a red ramp along x; the display matrix as a phone held upright writes it (shown turned
    // clockwise by a quarter, as the ffmpeg CLI's autorotate does with transpose=clock)
    await makeClip(src, { width: 40, height: 24, frames: 6, fps: { num: 30, den: 1 }, codec: 'libx264', rotation: 90 });
    const info = await probe(src);
    assert.equal(info.video?.rotation, 90);
    assert.deepEqual([info.video?.width, info.video?.height], [24, 40]);
    const meta = await ingest({ src, out: join(t.dir, 'out') });
    assert.equal(meta.count, 6);
    assert.deepEqual([meta.width, meta.height], [24, 40]);
    const img = await readImage(join(t.dir, 'out', 'frames', '000001.png'), { channels: 3 });
    assert.deepEqual([img.width, img.height], [24, 40]);
    // the coded x axis (red ramp) now runs along y: red changes down a column, not along a row
    const red = (x: number, y: number) => img.data[(y * img.width + x) * 3];
    assert.ok(Math.abs(red(12, 2) - red(12, 37)) > 0.6, `red down the middle column: ${red(12, 2)} -> ${red(12, 37)}`);
    assert.ok(Math.abs(red(2, 20) - red(21, 20)) < 0.15, `red along a row: ${red(2, 20)} -> ${red(21, 20)}`);
    // turned clockwise: the coded left edge (dark) is at the top
    assert.ok(red(12, 2) < red(12, 37), 'coded left edge (dark) at the top');
    assert.equal(JSON.parse(await readFile(join(t.dir, 'out', 'clips.json'), 'utf8'))[0].rotation, 90);
  } finally {
    await t.done();
  }
});

test('ingest: a variable-frame-rate clip is resampled to its constant rate, frames repeated by time', async () => {
  const t = await tmp();
  try {
    const src = join(t.dir, 'vfr.mp4');
    // 12 frames at 1/30 s except every third, which lasts 2/30 s (a phone dropping frames); the last frame
    // counts one period (its length is not in the timestamps): 15/30 s
    const durations = Array.from({ length: 12 }, (_, i) => (i % 3 === 2 ? 2 : 1));
    await makeClip(src, { width: 32, height: 16, frames: 12, fps: { num: 30, den: 1 }, timeBase: { num: 1, den: 30 }, durations, codec: 'libx264' });
    const info = await probe(src);
    assert.equal(info.video?.vfr, true);
    assert.equal(info.video?.fpsRational, '30');
    const meta = await ingest({ src, out: join(t.dir, 'out') });
    assert.equal(meta.count, 15, 'one frame per 1/30 s');
    assert.equal(meta.fpsRational, '30');
    assert.equal((meta.clips as Array<{ vfr: boolean }>)[0].vfr, true);
    // which source picture each output frame shows: the long ones twice
    const shown: number[] = [];
    for (const n of meta.frames) {
      const img = await readImage(join(t.dir, 'out', 'frames', frameName(n)), { channels: 3 });
      shown.push(pictureNumber(img.data, img.width, img.height));
    }
    assert.deepEqual(shown, [1, 2, 3, 3, 4, 5, 6, 6, 7, 8, 9, 9, 10, 11, 12]);
  } finally {
    await t.done();
  }
});

test('ingest: several clips (a list or a glob) numbered on, boundaries in clips.json; a gappy 30000/1001 file keeps its rate', async () => {
  const t = await tmp();
  try {
    const a = join(t.dir, 'take-a.mp4'), b = join(t.dir, 'take-b.mov');
    await makeClip(a, { width: 32, height: 16, frames: 5, fps: NTSC, codec: 'libx264' });
    await makeClip(b, { width: 32, height: 16, frames: 3, fps: NTSC });
    const meta = await ingest({ src: [a, b], out: join(t.dir, 'list') });
    assert.deepEqual(meta.frames, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(meta.fpsRational, '30000/1001');
    const clips = JSON.parse(await readFile(join(t.dir, 'list', 'clips.json'), 'utf8'));
    assert.deepEqual(clips.map((c: { source: string; first: number; last: number }) => [c.source, c.first, c.last]), [[a, 1, 5], [b, 6, 8]]);
    assert.equal(meta.audio, null);
    // frame 6 is the second clip's first picture
    const six = await readImage(join(t.dir, 'list', 'frames', '000006.png'), { channels: 3 });
    assert.equal(pictureNumber(six.data, six.width, six.height), 1);
    const globbed = await ingest({ src: join(t.dir, 'take-*.m*'), out: join(t.dir, 'glob') });
    assert.deepEqual(globbed.clips!.map((c) => c.count), [5, 3]);
    await assert.rejects(ingest({ src: [a, b], out: join(t.dir, 'r'), range: [1, 2] }), /range applies to one video/);

    // clips recorded at 30000/1001 joined with gaps between them: 29.97 stays, frames / duration would be ~24
    const gappy = join(t.dir, 'joined.mp4');
    const durations = Array.from({ length: 40 }, (_, i) => (i % 20 === 19 ? 30 : 1));
    await makeClip(gappy, { width: 32, height: 16, frames: 40, fps: NTSC, timeBase: { num: 1001, den: 30000 }, durations, codec: 'libx264' });
    const info = await probe(gappy);
    assert.equal(info.video?.fpsRational, '30000/1001');
    assert.equal(info.video?.vfr, false);
    const joined = await ingest({ src: gappy, out: join(t.dir, 'joined') });
    assert.equal(joined.count, 40);
    assert.equal(joined.fpsRational, '30000/1001');
  } finally {
    await t.done();
  }
});
