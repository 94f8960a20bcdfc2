// Cache edges: a damaged entry (empty or invalid manifest.json, as a power loss leaves it) is a miss that
// runs again; a fan-out of symbolic links in an input folder lists every real file once; a YAML alias bomb is
// a pipeline error without a stack.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, manifest, project, statusJson } from './helpers.js';

const P = `version: 1
name: edge
stages:
  s:
    uses: shell
    with: { cmd: 'echo run >> runs.txt; echo out > $FACECOMB_OUT/o.txt' }
`;

test('an empty or invalid manifest is a cache miss: status says so, show does not crash, run runs it again and replaces it', () => {
  const dir = project({ 'p.yaml': P });
  assert.equal(cli(['run', 'p.yaml'], { cwd: dir }).code, 0);
  const [{ key }] = statusJson(dir, 'p.yaml');
  const file = join(dir, '.facecomb', 'cache', key, 'manifest.json');
  for (const broken of ['', '{"key": "', '{}']) {
    writeFileSync(file, broken);
    const [st] = statusJson(dir, 'p.yaml');
    assert.equal(st.state, 'stale');
    assert.match(st.reason!, /^cache entry \w{12} is damaged \(manifest\.json empty or invalid/);
    const show = cli(['show', 'p.yaml', 's'], { cwd: dir });
    assert.equal(show.code, 0, show.stderr);
    assert.doesNotMatch(show.stderr, /\n\s+at /);
    const r = cli(['run', 'p.yaml'], { cwd: dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /edge: 1 ran, 0 cached/);
    assert.equal(manifest(dir, key).key, key, 'a whole manifest again');
  }
  assert.equal(readFileSync(join(dir, 'runs.txt'), 'utf8'), 'run\n'.repeat(4));
});

test('a fan-out of symbolic links (each folder linked twice from the one above) lists and hashes every real file once', () => {
  const depth = 14;
  const P2 = P.replace("with: { cmd: '", "with: { inputs: [tree], cmd: '");
  const dir = project({ 'p.yaml': P2 });
  for (let i = 0; i < depth; i++) {
    mkdirSync(join(dir, 'tree', `d${i}`), { recursive: true });
    writeFileSync(join(dir, 'tree', `d${i}`, 'f.txt'), `file ${i}`);
    if (i > 0) for (const l of ['a', 'b']) symlinkSync(`../d${i}`, join(dir, 'tree', `d${i - 1}`, l));
  }
  // 2^14 paths through the links before; 14 real files
  const r = cli(['run', 'p.yaml'], { cwd: dir, timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const [{ key }] = statusJson(dir, 'p.yaml');
  const inputs = manifest(dir, key).inputs as { path: string }[];
  assert.equal(inputs.length, depth);
  assert.equal(new Set(inputs.map((i) => readFileSync(join(dir, i.path), 'utf8'))).size, depth, 'each real file once');
  assert.equal(Object.keys(JSON.parse(readFileSync(join(dir, '.facecomb', 'hashes.json'), 'utf8'))).length, depth);
});

test('a YAML alias bomb is a pipeline error naming the file, no stack', () => {
  const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
  const dir = project({ 'bomb.yaml': `version: 1\nname: bomb\nvars:\n${levels.map((l) => `  ${l}`).join('\n')}\nstages: {}\n` });
  for (const cmd of ['status', 'run']) {
    const r = cli([cmd, 'bomb.yaml'], { cwd: dir });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /bomb\.yaml:1:1: YAML: .*alias.*; use fewer aliases/i);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});
