import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Cache, HOST_TAG, canonicalJson, closest, expandInput, hashTree, globToRegExp, stageKey } from '../src/index.js';

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

test('two machines commit one key: the second rename loses and counts as a hit; temps of other hosts are left alone', () => {
  const root = mkdtempSync(join(tmpdir(), 'facecomb-commit-'));
  try {
    const cache = new Cache(root);
    const key = 'a'.repeat(64);
    const [t1, t2] = [cache.makeTemp(key), cache.makeTemp(key)];
    assert.match(t1, new RegExp(`${key}\\.${HOST_TAG}\\.${process.pid}\\.`));
    // a finished run: its files and a manifest naming the key (a folder without one is a damaged entry)
    const finish = (t: string, x: string) => {
      writeFileSync(join(t, 'out', 'x'), x);
      writeFileSync(join(t, 'manifest.json'), JSON.stringify({ key, outputs: [], artifacts: cache.artifacts(key) }));
    };
    finish(t1, 'first');
    finish(t2, 'second');
    assert.equal(cache.commit(t1, key, false), 'committed');
    assert.equal(cache.commit(t2, key, false), 'exists');
    assert.equal(readFileSync(join(cache.artifacts(key), 'x'), 'utf8'), 'first');
    assert.ok(!existsSync(t2), 'the loser dropped its copy');
    const t3 = cache.makeTemp(key);
    finish(t3, 'forced');
    assert.equal(cache.commit(t3, key, true), 'committed');
    assert.equal(readFileSync(join(cache.artifacts(key), 'x'), 'utf8'), 'forced');
    // a temp folder of another machine (its pid means nothing here) and one of a dead process of this one
    mkdirSync(join(root, 'tmp', `${key}.other-host.1.abcdef`), { recursive: true });
    mkdirSync(join(root, 'tmp', `${key}.${HOST_TAG}.999999999.abcdef`), { recursive: true });
    assert.equal(cache.cleanStaleTemps(), 1);
    assert.deepEqual(readdirSync(join(root, 'tmp')), [`${key}.other-host.1.abcdef`]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a folder with a symlink loop is hashed once, linked files and sibling folders still count', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fc-loop-'));
  try {
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    writeFileSync(join(dir, 'a', 'b', 'x.txt'), 'x');
    writeFileSync(join(dir, 'top.txt'), 'top');
    symlinkSync('..', join(dir, 'a', 'b', 'up'));           // a/b/up -> a: a loop
    symlinkSync(join(dir, 'a'), join(dir, 'alias'));         // alias -> a: not a loop, walked like a copy
    symlinkSync('../top.txt', join(dir, 'a', 'top-link.txt'));
    const files = (await hashTree(dir)).map((f) => f.path);
    assert.deepEqual(files, ['a/b/x.txt', 'a/top-link.txt', 'alias/b/x.txt', 'alias/top-link.txt', 'top.txt']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
