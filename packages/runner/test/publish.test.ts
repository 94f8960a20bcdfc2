import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, manifest, project } from './helpers.js';

const pipeline = (word: string) => `version: 1
name: pub
stages:
  make:
    uses: shell
    publish: ../deliver/make
    with: { cmd: "echo ${word} > $FACECOMB_OUT/a.txt && mkdir $FACECOMB_OUT/sub && echo same > $FACECOMB_OUT/sub/b.txt" }
`;

test('publish: a version per content change, unchanged reruns make none, gc leaves versions whole', () => {
  const dir = project({ 'shots/pub.yaml': pipeline('one') });
  const deliver = join(dir, 'deliver', 'make');
  const run = (args: string[] = []) => {
    const r = cli(['run', 'shots/pub.yaml', ...args], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  assert.match(run(), /published make: .*deliver\/make\/v001\n/);
  assert.deepEqual(readdirSync(deliver), ['v001']);
  assert.equal(readFileSync(join(deliver, 'v001', 'a.txt'), 'utf8'), 'one\n');
  assert.equal(readFileSync(join(deliver, 'v001', 'sub', 'b.txt'), 'utf8'), 'same\n');
  const rec = JSON.parse(readFileSync(join(deliver, 'v001', 'publish.json'), 'utf8'));
  assert.equal(rec.stage, 'make');
  assert.equal(rec.pipeline.file, join(dir, 'shots', 'pub.yaml'));
  assert.match(rec.params.cmd, /^echo one > /);
  assert.equal(manifest(dir, rec.key).stage, 'make');
  assert.ok(!Number.isNaN(Date.parse(rec.date)));
  // a hard link to the cache entry's file, not a copy
  assert.equal(statSync(join(deliver, 'v001', 'a.txt')).ino, statSync(join(dir, '.facecomb', 'cache', rec.key, 'out', 'a.txt')).ino);

  // cached rerun, forced rerun with the same output, and `runner publish`: no new version
  assert.match(run(), /published make: unchanged, still .*v001/);
  run(['--force', 'make']);
  const again = cli(['publish', 'shots/pub.yaml'], { cwd: dir });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /unchanged, still .*v001/);
  assert.deepEqual(readdirSync(deliver), ['v001']);

  // a param change that changes the output: v002, v001 untouched
  writeFileSync(join(dir, 'shots', 'pub.yaml'), pipeline('two'));
  assert.match(run(), /published make: .*v002\n/);
  assert.deepEqual(readdirSync(deliver), ['v001', 'v002']);
  assert.equal(readFileSync(join(deliver, 'v001', 'a.txt'), 'utf8'), 'one\n');
  assert.equal(readFileSync(join(deliver, 'v002', 'a.txt'), 'utf8'), 'two\n');

  // gc removes the first run's entry; its published version stays whole
  const oldKey = rec.key as string;
  const gc = cli(['gc', '--all'], { cwd: dir });
  assert.equal(gc.code, 0, gc.stderr);
  assert.ok(!existsSync(join(dir, '.facecomb', 'cache', oldKey)), 'the old entry was removed');
  assert.equal(readFileSync(join(deliver, 'v001', 'a.txt'), 'utf8'), 'one\n');

  // `runner publish STAGE` re-publishes from the cache: a removed version comes back, and the temp folder of a
  // killed publisher (a pid that is not running) is cleared
  rmSync(join(deliver, 'v002'), { recursive: true });
  mkdirSync(join(deliver, '.publish-999999999-x', 'sub'), { recursive: true });
  const re = cli(['publish', 'shots/pub.yaml', 'make'], { cwd: dir });
  assert.equal(re.code, 0, re.stderr);
  assert.equal(readFileSync(join(deliver, 'v002', 'a.txt'), 'utf8'), 'two\n');
  assert.deepEqual(readdirSync(deliver), ['v001', 'v002']);
});

test('publish refuses a stale stage and a stage without publish', () => {
  const dir = project({ 'shots/pub.yaml': pipeline('one') + '  other:\n    uses: shell\n    with: { cmd: "true" }\n' });
  const stale = cli(['publish', 'shots/pub.yaml'], { cwd: dir });
  assert.equal(stale.code, 2);
  assert.match(stale.stderr, /'make' is stale \(never run\): run the pipeline first/);
  const none = cli(['publish', 'shots/pub.yaml', 'other'], { cwd: dir });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /stage 'other' has no 'publish: <folder>' field .*; stages with one: make/);
  assert.ok(!existsSync(join(dir, 'deliver')), 'nothing published');
});
