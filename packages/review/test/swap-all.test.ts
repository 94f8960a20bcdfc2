import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stageDetail } from '../src/details.js';
import type { StageView } from '../src/types.js';

const view = (name: string, kind: string, dir: string): StageView => ({
  name, kind, needs: [], state: 'cached', reasons: [], key: name, display: 'cached', dir, log: null, engine: null, durationMs: null, startMs: null, summary: null, progress: null,
});

test("a swap with source: all is compared through its first identity's faces, named in the label", () => {
  const root = mkdtempSync(join(tmpdir(), 'facecomb-review-all-'));
  try {
    for (const d of ['cache/s/out/faces/ava', 'cache/s/out/faces/bea', 'cache/a/out/crops']) mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(root, 'cache/s/out/meta.json'), JSON.stringify({ kind: 'swap', source: 'all', identities: ['ava', 'bea'], frames: [1, 2] }));
    writeFileSync(join(root, 'cache/a/out/meta.json'), JSON.stringify({ kind: 'align' }));
    const align = view('shot-align', 'align', 'cache/a/out');
    const d = stageDetail(root, view('swap', 'swap', 'cache/s/out'), new Map([['shot-align', align]]), { source: 'all' });
    assert.equal(d.compare?.b.dir, 'cache/s/out/faces/ava');
    assert.match(d.compare?.b.label ?? '', /ava \(1 of 2 identities\)/);
    assert.equal(d.compare?.a.dir, 'cache/a/out/crops');
    assert.deepEqual(d.compare?.frames, [1, 2]);
    // one source: faces/ as before
    writeFileSync(join(root, 'cache/s/out/meta.json'), JSON.stringify({ kind: 'swap', source: 'ava', frames: [1, 2] }));
    const one = stageDetail(root, view('swap', 'swap', 'cache/s/out'), new Map([['shot-align', align]]), { source: 'ava' });
    assert.equal(one.compare?.b.dir, 'cache/s/out/faces');
    assert.equal(one.compare?.b.label, 'swap');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
