import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { test } from 'node:test';
import { cacheKeys, cli, manifest, project, statusJson } from './helpers.js';

const TWO = (second = 'world') => `version: 1
name: two
vars:
  greeting: hello
stages:
  first:
    uses: shell
    with:
      cmd: "echo \${greeting} > $FACECOMB_OUT/a.txt; cat data/in.txt >> $FACECOMB_OUT/a.txt; echo ran >> ran-first.log"
      inputs: data/in.txt
  second:
    uses: shell
    needs: [first]
    with:
      cmd: "cat $FACECOMB_IN_FIRST/a.txt > $FACECOMB_OUT/b.txt; echo ${second} >> $FACECOMB_OUT/b.txt; echo ran >> ran-second.log"
`;

function runs(dir: string, stage: string): number {
  const f = join(dir, `ran-${stage}.log`);
  return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').length : 0;
}

test('two shell stages run twice: the second run runs nothing', () => {
  const dir = project({ 'pipelines/two.yaml': TWO(), 'pipelines/data/in.txt': 'input one\n' });
  const r1 = cli(['run', 'pipelines/two.yaml'], { cwd: dir });
  assert.equal(r1.code, 0, r1.stderr + r1.stdout);
  assert.equal(runs(join(dir, 'pipelines'), 'first'), 1);
  assert.equal(runs(join(dir, 'pipelines'), 'second'), 1);
  // cache lives in the project root (the folder with package.json), not beside the pipeline
  const keys = cacheKeys(dir);
  assert.equal(keys.length, 2);
  const st = statusJson(dir, 'pipelines/two.yaml');
  const second = manifest(dir, st[1].key);
  assert.equal(readFileSync(join(second.artifacts, 'b.txt'), 'utf8'), 'hello\ninput one\nworld\n');
  assert.equal(second.upstream.first, st[0].key);
  assert.deepEqual(second.outputs.map((o: { path: string }) => o.path), ['b.txt']);
  assert.match(second.outputs[0].sha256, /^[0-9a-f]{64}$/);
  assert.ok(existsSync(second.log));
  assert.match(readFileSync(second.log, 'utf8'), /stage 'second'/);

  const r2 = cli(['run', 'pipelines/two.yaml'], { cwd: dir });
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(runs(join(dir, 'pipelines'), 'first'), 1, 'first must not run again');
  assert.equal(runs(join(dir, 'pipelines'), 'second'), 1, 'second must not run again');
  assert.match(r2.stdout, /0 ran, 2 cached/);
  assert.deepEqual(cacheKeys(dir).sort(), keys.sort());
});

test('changing one param of the second stage: status names it, the first stays cached', () => {
  const dir = project({ 'two.yaml': TWO(), 'data/in.txt': 'input one\n' });
  assert.equal(cli(['run', 'two.yaml'], { cwd: dir }).code, 0);
  writeFileSync(join(dir, 'two.yaml'), TWO('there'));
  const st = statusJson(dir, 'two.yaml');
  assert.deepEqual(
    st.map((s) => [s.stage, s.state]),
    [
      ['first', 'cached'],
      ['second', 'stale'],
    ],
  );
  assert.equal(st[0].reason, null);
  assert.equal(st[1].reason, 'param with.cmd changed');

  // dry run says the same and runs nothing
  const dry = cli(['run', 'two.yaml', '--dry-run'], { cwd: dir });
  assert.equal(dry.code, 0);
  assert.match(dry.stdout, /second\s+would run\s+param with\.cmd changed/);
  assert.equal(runs(dir, 'second'), 1);

  const r = cli(['run', 'two.yaml'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(runs(dir, 'first'), 1);
  assert.equal(runs(dir, 'second'), 2);
  assert.ok(statusJson(dir, 'two.yaml').every((s) => s.state === 'cached'));

  // reverting the param finds the old entry again: nothing runs
  writeFileSync(join(dir, 'two.yaml'), TWO());
  assert.ok(statusJson(dir, 'two.yaml').every((s) => s.state === 'cached'));
  assert.equal(cli(['run', 'two.yaml'], { cwd: dir }).code, 0);
  assert.equal(runs(dir, 'second'), 2);
});

test('an input file change invalidates its stage and, through it, the dependents', () => {
  const dir = project({ 'two.yaml': TWO(), 'data/in.txt': 'input one\n' });
  assert.equal(cli(['run', 'two.yaml'], { cwd: dir }).code, 0);
  // same size, same content: a touch alone is not a change
  writeFileSync(join(dir, 'data/in.txt'), 'input one\n');
  assert.ok(statusJson(dir, 'two.yaml').every((s) => s.state === 'cached'));
  writeFileSync(join(dir, 'data/in.txt'), 'input two\n');
  const st = statusJson(dir, 'two.yaml');
  assert.deepEqual(
    st.map((s) => [s.stage, s.state, s.reason]),
    [
      ['first', 'stale', 'input data/in.txt changed'],
      ['second', 'stale', "upstream 'first' is stale"],
    ],
  );
  assert.equal(cli(['run', 'two.yaml'], { cwd: dir }).code, 0);
  assert.equal(runs(dir, 'first'), 2);
  const m = manifest(dir, statusJson(dir, 'two.yaml')[1].key);
  assert.equal(readFileSync(join(m.artifacts, 'b.txt'), 'utf8'), 'hello\ninput two\nworld\n');
});

test('vars, --force, show, ls, dag and gc', () => {
  const dir = project({ 'two.yaml': TWO(), 'data/in.txt': 'input one\n' });
  assert.equal(cli(['status', 'two.yaml', '--json'], { cwd: dir }).stdout.includes('never run'), true);
  assert.equal(cli(['run', 'two.yaml'], { cwd: dir }).code, 0);
  const keys1 = statusJson(dir, 'two.yaml').map((s) => s.key);

  const forced = cli(['run', 'two.yaml', '--force', 'first'], { cwd: dir });
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(runs(dir, 'first'), 2);
  assert.equal(runs(dir, 'second'), 1, 'same key downstream: not rerun');
  const dryForced = cli(['run', 'two.yaml', '--dry-run', '--force', 'second'], { cwd: dir });
  assert.match(dryForced.stdout, /first\s+cached/);
  assert.match(dryForced.stdout, /second\s+would run\s+forced\n/);
  const bad = cli(['run', 'two.yaml', '--force', 'frist'], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /did you mean 'first'/);

  const show = cli(['show', 'two.yaml', 'second'], { cwd: dir });
  assert.equal(show.code, 0);
  assert.ok(show.stdout.includes(keys1[1]));
  assert.match(show.stdout, /b\.txt/);
  const showJson = JSON.parse(cli(['show', 'two.yaml', 'second', '--json'], { cwd: dir }).stdout);
  assert.equal(showJson.key, keys1[1]);
  assert.equal(showJson.params.cmd.includes('${second}'), false);

  const dag = cli(['dag', 'two.yaml'], { cwd: dir });
  assert.match(dag.stdout, /^graph TD/);
  assert.match(dag.stdout, /s0 --> s1/);

  const ls = cli(['ls', '--json'], { cwd: dir });
  assert.deepEqual(JSON.parse(ls.stdout).map((e: { stage: string }) => e.stage).sort(), ['first', 'second']);

  // change the greeting var: both stages get new keys; gc then removes the two old entries only
  writeFileSync(join(dir, 'two.yaml'), TWO().replace('greeting: hello', 'greeting: salut'));
  const st = statusJson(dir, 'two.yaml');
  assert.equal(st[0].reason, 'param with.cmd changed');
  assert.equal(cli(['run', 'two.yaml'], { cwd: dir }).code, 0);
  assert.equal(cacheKeys(dir).length, 4);
  const gc = cli(['gc', '--keep-pipelines', 'two.yaml'], { cwd: dir });
  assert.equal(gc.code, 0, gc.stderr);
  assert.match(gc.stdout, /freed .*2 entries removed, 2 kept/);
  assert.deepEqual(cacheKeys(dir).sort(), statusJson(dir, 'two.yaml').map((s) => s.key).sort());
});

test('the example pipeline runs, then is fully cached', () => {
  const src = fileURLToPath(new URL('./fixtures/pipelines/examples', import.meta.url));
  const dir = project({});
  cpSync(src, dir, { recursive: true });
  const r = cli(['run', 'shell.yaml', '--jobs', '2'], { cwd: dir });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const st = statusJson(dir, 'shell.yaml');
  assert.ok(st.every((s) => s.state === 'cached'));
  const report = manifest(dir, st[3].key);
  assert.equal(readFileSync(join(report.artifacts, 'report.txt'), 'utf8'), 'shot42: 3 lines\n');
  assert.deepEqual(manifest(dir, st[0].key).inputs.map((i: { path: string }) => i.path), ['data/plate.txt']);
  assert.match(cli(['run', 'shell.yaml'], { cwd: dir }).stdout, /0 ran, 4 cached/);
});
