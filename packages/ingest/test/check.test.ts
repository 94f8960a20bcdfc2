import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { test } from 'node:test';
import { check } from '../src/check.js';
import { footage, samplePhoto, tmp } from './helpers.js';

// The ingest kind's plan-time check (stages.json `check`), called by the runner before any stage starts.
test('check: a range is checked against a real video and an image sequence, relative to the pipeline folder', async () => {
  const video = footage('congress/katiehill.mp4'); // 200 frames
  const dir = dirname(video);
  assert.deepEqual(await check({ src: basename(video), range: [190, 200] }, { dir }), []);
  const past = await check({ src: basename(video), range: [190, 201] }, { dir });
  assert.equal(past.length, 1);
  assert.deepEqual(past[0].path, ['range']);
  assert.match(past[0].message, /range \[190, 201\] ends past the last frame of katiehill\.mp4 \(200\)/);
  assert.deepEqual(await check({ src: basename(video) }, { dir }), [], 'no range: nothing to probe');

  const glob = await check({ src: 'silent_0.1[12].mp4', range: [1, 2] }, { dir: dirname(footage('obama-train/silent_0.11.mp4')) });
  assert.deepEqual(glob, [{ path: ['range'], message: 'range applies to one video; src names 2: cut the clips, or ingest them one by one' }]);

  const t = await tmp();
  try {
    for (const n of [1001, 1002, 1003]) await copyFile(samplePhoto(), join(t.dir, `shot.${n}.jpg`));
    assert.deepEqual(await check({ src: 'shot.%04d.jpg', range: [1001, 1003] }, { dir: t.dir }), []);
    const early = await check({ src: 'shot.%04d.jpg', range: [1000, 1003] }, { dir: t.dir });
    assert.match(early[0].message, /range \[1000, 1003\] starts before the first frame of shot\.%04d\.jpg \(1001/);
    const missing = await check({ src: 'take.%04d.jpg', range: [1, 2] }, { dir: t.dir });
    assert.equal(missing[0].path[0], 'src');
  } finally {
    await t.done();
  }
});
