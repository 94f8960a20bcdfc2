import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createImage, writePng } from '@facecomb/image';
import { footage, ingestClip, tmp, writeMeta } from './helpers.js';
import { runStage } from './stage.js';
import type { DatasetItem } from '../src/index.js';

// Three short clips of one person (three parts of aoc-a; one with a frame that has no face) aligned
// separately, then gathered into one identity set.
describe('dataset: clips of one person into one identity set', () => {
  let root: string;
  const aligned: Record<string, string> = {};

  before(async () => {
    root = await tmp('dataset');
    const parts: [string, number][] = [['aoc-01', 1], ['aoc-60', 60], ['aoc-150', 150]];
    for (const [clip, start] of parts) {
      const c = await ingestClip(footage('congress', 'aoc-a.mp4'), join(root, `frames-${clip}`), start, 4, 256);
      if (clip === 'aoc-60') {
        // one extra frame with no face in it
        await writePng(join(c.dir, 'frames', '000064.png'), createImage(256, 256, 3, 0.3));
        await writeMeta(c.dir, { source: 'test', fps: 25, width: 256, height: 256, frames: [...c.frames, 64] });
      }
      const out = join(root, `align-${clip}`);
      const r = await runStage('align', out, { size: 64, samples: 1, refine: false, contact: false }, { frames: c.dir });
      assert.equal(r.code, 0, r.stderr);
      aligned[clip] = out;
    }
  });

  after(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  test('split by clip, counts of usable crops and rejected frames reported', async () => {
    const out = join(root, 'set');
    const r = await runStage('dataset', out, { name: 'aoc', heldout: 0.34 }, aligned);
    assert.equal(r.code, 0, r.stderr);
    const meta = JSON.parse(await readFile(join(out, 'meta.json'), 'utf8'));
    assert.equal(meta.kind, 'dataset');
    assert.equal(meta.name, 'aoc');
    assert.equal(meta.size, 64);
    assert.deepEqual(meta.counts, { train: 8, heldout: 4, rejected: 1 });
    const items = JSON.parse(await readFile(join(out, 'items.json'), 'utf8')) as DatasetItem[];
    assert.equal(items.length, 12);
    const clipsBySplit = new Map<string, Set<string>>();
    for (const it of items) {
      assert.ok(existsSync(join(out, it.crop)) && existsSync(join(out, it.mask)));
      assert.match(it.crop, new RegExp(`^crops/${it.clip}_\\d{6}\\.png$`));
      // the 68 landmarks in crop pixels: inside the 64 px crop, eyes (36-47) above the mouth (48-67)
      const lm = it.landmarks!;
      assert.equal(lm.length, 68);
      assert.ok(lm.every(([x, y]) => x > 0 && x < 64 && y > 0 && y < 64), JSON.stringify(lm));
      const meanY = (a: number, b: number) => lm.slice(a, b).reduce((s, p) => s + p[1], 0) / (b - a);
      assert.ok(meanY(36, 48) < meanY(48, 68) - 8);
      if (!clipsBySplit.has(it.split)) clipsBySplit.set(it.split, new Set());
      clipsBySplit.get(it.split)!.add(it.clip);
    }
    // one whole clip is held out, the other two train: no clip is split between the two
    assert.equal(clipsBySplit.get('heldout')!.size, 1);
    assert.equal(clipsBySplit.get('train')!.size, 2);
    const sum = r.lines.find((l) => l.type === 'summary')!.value;
    assert.equal(sum.usable, 12);
    assert.equal(sum.rejected, 1);
  });

  test('maxPerClip and minScore limit what is used', async () => {
    const out = join(root, 'set2');
    const r = await runStage('dataset', out, { name: 'aoc', maxPerClip: 2, heldout: 0 }, aligned);
    assert.equal(r.code, 0, r.stderr);
    const meta = JSON.parse(await readFile(join(out, 'meta.json'), 'utf8'));
    assert.deepEqual(meta.counts, { train: 6, heldout: 0, rejected: 1 });
    const strict = await runStage('dataset', join(root, 'set3'), { name: 'aoc', minScore: 1 }, aligned);
    assert.notEqual(strict.code, 0);
    assert.match(strict.stderr, /no usable crops/);
  });

  test('one clip: heldoutFrames holds out its contiguous tail; heldout (whole clips) is refused', async () => {
    const one = { 'aoc-60': aligned['aoc-60'] };
    const out = join(root, 'set-tail');
    const r = await runStage('dataset', out, { name: 'aoc', heldoutFrames: 0.25 }, one);
    assert.equal(r.code, 0, r.stderr);
    const items = JSON.parse(await readFile(join(out, 'items.json'), 'utf8')) as DatasetItem[];
    const frames = items.map((it) => it.frame);
    assert.deepEqual(frames, [...frames].sort((a, b) => a - b));
    assert.deepEqual(items.map((it) => it.split), ['train', 'train', 'train', 'heldout']);
    const meta = JSON.parse(await readFile(join(out, 'meta.json'), 'utf8'));
    assert.deepEqual(meta.counts, { train: 3, heldout: 1, rejected: 1 });
    assert.equal(meta.clips[0].heldoutFrames, 1);
    const bad = await runStage('dataset', join(root, 'set-tail2'), { name: 'aoc', heldout: 0.2 }, one);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /'heldout' \(0\.2\) holds out whole clips, and there is only one \(aoc-60\); use 'heldoutFrames'/);
  });

  test('inputs that are not align stages, or a missing name, are refused clearly', async () => {
    const frames = join(root, 'frames-aoc-01');
    const r = await runStage('dataset', join(root, 'bad'), { name: 'aoc' }, { frames });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /needs one or more align stages/);
    const n = await runStage('dataset', join(root, 'bad2'), {}, aligned);
    assert.match(n.stderr, /param 'name'/);
  });
});
