import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { footage, tmp } from './helpers.js';
import { runCli, runStage } from './stage.js';
import type { DatasetItem } from '../src/index.js';

const ingestCli = fileURLToPath(new URL('../../ingest/src/cli.ts', import.meta.url));
let root: string | undefined;
after(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

// Two short real clips of one person ingested by one glob (5 frames): the ingest's clips reach the dataset
// through align, so `heldout` holds out one of them instead of failing with "there is only one".
test('dataset: the clips of a glob ingest count as clips for heldout', async () => {
  root = await tmp('dataset-clips');
  const frames = join(root, 'frames');
  const ing = await runCli(ingestCli, 'ingest', frames, { src: footage('obama-train', 'silent_0.1[12].mp4'), scale: 640 }, {});
  assert.equal(ing.code, 0, ing.stderr);
  const aligned = join(root, 'align');
  const al = await runStage('align', aligned, { size: 64, samples: 1, refine: false, contact: false }, { frames });
  assert.equal(al.code, 0, al.stderr);
  const meta = JSON.parse(await readFile(join(aligned, 'meta.json'), 'utf8'));
  // the ingest's two clips, back to back over the align's frames
  assert.deepEqual(meta.clips.map((c: { source: string }) => c.source.split('/').pop()), ['silent_0.11.mp4', 'silent_0.12.mp4']);
  assert.equal(meta.clips[0].first, meta.frames[0]);
  assert.equal(meta.clips[1].first, meta.clips[0].last + 1);
  assert.equal(meta.clips[1].last, meta.frames.at(-1));

  const set = join(root, 'set');
  const ds = await runStage('dataset', set, { name: 'obama', heldout: 0.1 }, { 'obama-align': aligned });
  assert.equal(ds.code, 0, ds.stderr);
  const items = JSON.parse(await readFile(join(set, 'items.json'), 'utf8')) as DatasetItem[];
  const clips = [...new Set(items.map((i) => i.clip))].sort();
  assert.deepEqual(clips, ['obama-align/silent_0.11.mp4', 'obama-align/silent_0.12.mp4']);
  const splits = new Map(clips.map((c) => [c, new Set(items.filter((i) => i.clip === c).map((i) => i.split))]));
  assert.deepEqual([...splits.values()].map((s) => [...s].join()).sort(), ['heldout', 'train'], 'one clip held out whole, the other trains');
  for (const it of items) {
    const span = meta.clips[it.clip.endsWith('0.11.mp4') ? 0 : 1];
    assert.ok(it.frame >= span.first && it.frame <= span.last, `frame ${it.frame} inside its clip ${it.clip}`);
  }
});
