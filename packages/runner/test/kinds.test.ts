import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIXTURES, cacheKeys, cli, manifest, project, statusJson } from './helpers.js';

const KINDS = join(FIXTURES, 'kinds');
const env = { FACECOMB_STAGE_PATHS: KINDS };

const PIPE = (extra = '') => `version: 1
name: kinds
stages:
  words:
    uses: concat
    with:
      src: [data/a.txt, data/b.txt]
      mode: upper
      repeat: 2${extra}
  shout:
    uses: shell
    needs: [words]
    with: {cmd: "cat $FACECOMB_IN_WORDS/out.txt > $FACECOMB_OUT/x; echo \\"$FACECOMB_INPUTS\\" > $FACECOMB_OUT/inputs.json"}
`;

test('a registered stage kind: env contract, resources, summary and engine in the manifest', () => {
  const dir = project({ 'p.yaml': PIPE(), 'data/a.txt': 'one\n', 'data/b.txt': 'two\n' });
  const r = cli(['run', 'p.yaml', '--backend', 'wasm'], { cwd: dir, env });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const [words, shout] = statusJson(dir, 'p.yaml', env);
  // a kind with "show": "summary" has its summary printed after the run, cached or not
  assert.match(r.stdout, /summary of words:\n {2}bytes {5}16\n {2}attempts {2}1\n/);
  assert.doesNotMatch(r.stdout, /summary of shout/);
  assert.match(cli(['run', 'p.yaml'], { cwd: dir, env }).stdout, /2 cached[^]*summary of words:\n {2}bytes {5}16/);
  const m = manifest(dir, words.key);
  assert.equal(m.kind, 'concat');
  assert.equal(m.version, '1');
  assert.deepEqual(m.resources, { gpu: 1 });
  assert.deepEqual(m.summary, { bytes: 16, attempts: 1 });
  assert.deepEqual(m.engine, { name: 'none', why: 'text only' });
  assert.deepEqual(
    m.inputs.map((i: { path: string; size: number }) => [i.path, i.size]),
    [
      ['data/a.txt', 4],
      ['data/b.txt', 4],
    ],
  );
  assert.equal(readFileSync(join(m.artifacts, 'out.txt'), 'utf8'), 'ONE\nTWO\nONE\nTWO\n');
  const meta = JSON.parse(readFileSync(join(m.artifacts, 'meta.json'), 'utf8'));
  assert.equal(meta.env.stage, 'words');
  assert.equal(meta.env.backend, 'wasm');
  assert.equal(meta.env.cwd, dir);
  assert.equal(meta.env.resume, join(dir, '.facecomb', 'work', words.key));
  assert.ok(!existsSync(meta.env.resume), 'resume folder removed after success');
  assert.match(readFileSync(m.log, 'utf8'), /::progress \{"done":2,"total":2,"unit":"passes"\}/);
  const ms = manifest(dir, shout.key);
  assert.equal(readFileSync(join(ms.artifacts, 'x'), 'utf8'), 'ONE\nTWO\nONE\nTWO\n');
  assert.deepEqual(JSON.parse(readFileSync(join(ms.artifacts, 'inputs.json'), 'utf8')), { words: m.artifacts });

  // an input edit names the file; the kind's version bump names the versions
  writeFileSync(join(dir, 'data/b.txt'), 'TWO\n');
  assert.equal(statusJson(dir, 'p.yaml', env)[0].reason, 'input data/b.txt changed');
  writeFileSync(join(dir, 'data/b.txt'), 'two\n');
  const bumped = join(dir, 'kinds-v2');
  cpSync(KINDS, bumped, { recursive: true });
  writeFileSync(join(bumped, 'stages.json'), readFileSync(join(KINDS, 'stages.json'), 'utf8').replace('"version": "1"', '"version": "2"'));
  const st = statusJson(dir, 'p.yaml', { FACECOMB_STAGE_PATHS: bumped });
  assert.deepEqual(
    st.map((s) => s.reason),
    ['stage version 1 -> 2', "upstream 'words' is stale"],
  );
});

test("the kind's schema validates `with`, errors at the YAML position", () => {
  const dir = project({
    'p.yaml': `version: 1
name: kinds
stages:
  words:
    uses: concat
    with:
      src: data/a.txt
      mode: uper
      reapeat: 0
`,
    'data/a.txt': 'one\n',
  });
  const r = cli(['status', 'p.yaml'], { cwd: dir, env });
  assert.equal(r.code, 2);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines[0], "p.yaml:8:13: stages.words.with.mode: must be one of plain, upper, got \"uper\" (did you mean 'upper'?)");
  assert.equal(lines[1], "p.yaml:9:7: stages.words.with.reapeat: unknown field 'reapeat' (did you mean 'repeat'?)");
  // without the package the kind is unknown
  const r2 = cli(['status', 'p.yaml'], { cwd: dir });
  assert.match(r2.stderr, /p\.yaml:5:11: stages\.words\.uses: unknown stage kind 'concat'/);
});

test('FACECOMB_RESUME survives a failed run and is handed to the retry; progress is reported', () => {
  const dir = project({ 'p.yaml': PIPE('\n      failOnce: true'), 'data/a.txt': 'one\n', 'data/b.txt': 'two\n' });
  const r1 = cli(['run', 'p.yaml'], { cwd: dir, env });
  assert.equal(r1.code, 1);
  assert.match(r1.stdout, /error: first attempt fails on purpose \(failOnce\)/);
  assert.match(r1.stdout, /shout\s+skipped/);
  const key = statusJson(dir, 'p.yaml', env)[0].key;
  assert.equal(readFileSync(join(dir, '.facecomb', 'work', key, 'attempts'), 'utf8'), '1');
  const r2 = cli(['run', 'p.yaml'], { cwd: dir, env });
  assert.equal(r2.code, 0, r2.stdout + r2.stderr);
  assert.deepEqual(manifest(dir, key).summary, { bytes: 16, attempts: 2 });
  assert.ok(!existsSync(join(dir, '.facecomb', 'work', key)));
});

test('progress lines show the stage-reported progress with elapsed time', () => {
  const dir = project({
    'p.yaml': `version: 1
name: prog
stages:
  steps:
    uses: shell
    with: {cmd: "echo '::progress {\\"done\\": 3, \\"total\\": 12, \\"unit\\": \\"frames\\"}'; sleep 1.2"}
`,
  });
  const r = cli(['run', 'p.yaml'], { cwd: dir, env: { FACECOMB_PROGRESS_INTERVAL: '100' } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /steps\s+running\s+\d+\.\ds\s+frames 3\/12 \(25%\)/);
  assert.match(r.stdout, /steps\s+done\s+1\.\ds/);
});

test('oneOf params: the matching alternative explains the error', () => {
  const dir = project({
    'p.yaml': `version: 1
name: kinds
stages:
  a:
    uses: concat
    with: {src: data/a.txt, size: big}
  b:
    uses: concat
    with: {src: data/a.txt, size: [3]}
  c:
    uses: concat
    with: {src: data/a.txt, size: 0}
`,
    'data/a.txt': 'one\n',
  });
  const r = cli(['status', 'p.yaml'], { cwd: dir, env });
  assert.equal(r.code, 2);
  assert.deepEqual(r.stderr.trim().split('\n').slice(0, -1), [
    'p.yaml:6:35: stages.a.with.size: must be integer or array, got "big"',
    'p.yaml:9:35: stages.b.with.size: must NOT have fewer than 2 items',
    'p.yaml:12:35: stages.c.with.size: must be >= 1',
  ]);
});

test('gc keeps what the pipeline refers to, keeps unreferenced model entries unless --all', () => {
  const dir = project({
    'p.yaml': `version: 1
name: gc
stages:
  m: {uses: model, with: {note: v1}}
  s: {uses: shell, needs: [m], with: {cmd: "cp -r $FACECOMB_IN_M/model $FACECOMB_OUT/; echo v1 > $FACECOMB_OUT/v"}}
`,
  });
  assert.equal(cli(['run', 'p.yaml'], { cwd: dir, env }).code, 0);
  const old = statusJson(dir, 'p.yaml', env).map((x) => x.key);
  writeFileSync(join(dir, 'p.yaml'), readFileSync(join(dir, 'p.yaml'), 'utf8').replaceAll('v1', 'v2'));
  assert.equal(cli(['run', 'p.yaml'], { cwd: dir, env }).code, 0);
  const cur = statusJson(dir, 'p.yaml', env).map((x) => x.key);
  const dry = cli(['gc', '--dry-run'], { cwd: dir, env });
  // by default gc keeps the keys the index records (the last run of every stage of every pipeline)
  assert.match(dry.stdout, new RegExp(`would remove ${old[1].slice(0, 12)}`));
  assert.match(dry.stdout, /would free .*: 1 entry removed, 2 kept, 1 unreferenced model entry/);
  assert.equal(cacheKeys(dir).length, 4, 'a dry run removes nothing');
  const gc = cli(['gc', '--keep-pipelines', 'p.yaml'], { cwd: dir, env });
  assert.equal(gc.code, 0, gc.stderr);
  assert.match(gc.stdout, new RegExp(`removed ${old[1].slice(0, 12)}  gc/s \\(shell\\)`));
  assert.match(gc.stdout, /1 entry removed, 2 kept, 1 unreferenced model entry \(train\) kept \(use --all to remove\)/);
  assert.deepEqual(new Set(cacheKeys(dir)), new Set([...cur, old[0]]));
  const all = cli(['gc', '--keep-pipelines', 'p.yaml', '--all'], { cwd: dir, env });
  assert.match(all.stdout, new RegExp(`removed ${old[0].slice(0, 12)}  gc/m \\(model\\)`));
  assert.match(all.stdout, /freed \d+\.\d KiB: 1 entry removed, 2 kept\n/);
  assert.deepEqual(new Set(cacheKeys(dir)), new Set(cur));
});
