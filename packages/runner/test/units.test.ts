import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { canonicalJson, closest, expandInput, globToRegExp, stageKey } from '../src/index.js';

test('globs: *, ?, **, [..] and {a,b}', () => {
  assert.ok(globToRegExp('plates/*.exr').test('plates/shot.0001.exr'));
  assert.ok(!globToRegExp('plates/*.exr').test('plates/sub/shot.exr'));
  assert.ok(globToRegExp('plates/**/*.exr').test('plates/a/b/x.exr'));
  assert.ok(globToRegExp('plates/**/*.exr').test('plates/x.exr'));
  assert.ok(globToRegExp('f.00[0-2]?.png').test('f.0019.png'));
  assert.ok(!globToRegExp('f.00[0-2]?.png').test('f.0039.png'));
  assert.ok(globToRegExp('*.{png,jpg}').test('a.jpg'));
  assert.ok(!globToRegExp('*.{png,jpg}').test('a.gif'));
  // image-sequence patterns
  assert.ok(globToRegExp('shot.%04d.png').test('shot.0101.png'));
  assert.ok(!globToRegExp('shot.%04d.png').test('shot.101.png'));
  assert.ok(globToRegExp('shot.####.exr').test('shot.0101.exr'));
  assert.ok(globToRegExp('shot.%d.png').test('shot.7.png'));

  const dir = mkdtempSync(join(tmpdir(), 'facecomb-glob-'));
  mkdirSync(join(dir, 'frames/a'), { recursive: true });
  for (const f of ['frames/1.png', 'frames/2.png', 'frames/a/3.png', 'frames/.hidden.png', 'frames/x.txt']) writeFileSync(join(dir, f), f);
  assert.deepEqual(expandInput(dir, 'frames/*.png'), [join(dir, 'frames/1.png'), join(dir, 'frames/2.png')]);
  assert.deepEqual(expandInput(dir, 'frames/**/*.png')?.length, 3);
  assert.equal(expandInput(dir, 'frames')?.length, 5, 'a folder means every file under it');
  assert.equal(expandInput(dir, 'frames/*.exr'), null);
  assert.equal(expandInput(dir, 'nope.mov'), null);
  writeFileSync(join(dir, 'frames/shot.0001.png'), '1');
  writeFileSync(join(dir, 'frames/shot.0002.png'), '2');
  assert.deepEqual(expandInput(dir, 'frames/shot.%04d.png'), [join(dir, 'frames/shot.0001.png'), join(dir, 'frames/shot.0002.png')]);
  rmSync(dir, { recursive: true, force: true });
});

test('hints: typos and transpositions, nothing for unrelated names', () => {
  assert.equal(closest('need', ['uses', 'with', 'needs', 'resources']), 'needs');
  assert.equal(closest('ingets', ['ingest', 'align']), 'ingest');
  assert.equal(closest('Shell', ['shell']), 'shell');
  assert.equal(closest('frobnicate', ['uses', 'with', 'needs']), undefined);
});

test('keys: canonical params, order-independent; every part changes the key', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, 2], c: null } }), '{"a":{"c":null,"d":[1,2]},"b":1}');
  const base = { kind: 'shell', version: '1', params: { cmd: 'x', n: 1 }, upstream: { a: 'k1' }, inputs: [{ param: 'inputs', path: 'a.txt', abs: '/a.txt', size: 1, sha256: 'h1' }] };
  const k = stageKey(base);
  assert.equal(stageKey({ ...base, params: { n: 1, cmd: 'x' } }), k);
  const variants = [
    { ...base, kind: 'ingest' },
    { ...base, version: '2' },
    { ...base, params: { cmd: 'x', n: 2 } },
    { ...base, upstream: { a: 'k2' } },
    { ...base, inputs: [{ ...base.inputs[0], sha256: 'h2' }] },
  ];
  const keys = new Set([k, ...variants.map(stageKey)]);
  assert.equal(keys.size, 6);
});
