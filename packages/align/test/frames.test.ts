import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { readFrameSource } from '../src/index.js';
import { frameName } from '@facecomb/stage';

// An ingest of several videos records each clip's first frame; align restarts its smoothing there.
test('readFrameSource: the first frame of every later clip is a clip start', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'frames-'));
  try {
    await mkdir(join(dir, 'frames'));
    const frames = [1, 2, 3, 4, 5];
    for (const f of frames) {
      await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: f * 40, g: 0, b: 0 } } }).png().toFile(join(dir, 'frames', frameName(f)));
    }
    const clips = [{ source: 'a.mp4', first: 1, last: 2 }, { source: 'b.mp4', first: 3, last: 4 }, { source: 'c.mp4', first: 5, last: 5 }];
    await writeFile(join(dir, 'meta.json'), JSON.stringify({ kind: 'ingest', frames, fps: 25, width: 8, height: 8, clips }));
    const src = await readFrameSource(dir);
    assert.deepEqual([...src.clipStarts].sort(), [3, 5]);
    await writeFile(join(dir, 'meta.json'), JSON.stringify({ kind: 'ingest', frames, fps: 25, width: 8, height: 8 }));
    assert.equal((await readFrameSource(dir)).clipStarts.size, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
