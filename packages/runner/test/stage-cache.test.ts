import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, project, statusJson } from './helpers.js';

// A shell stage that keeps a count in FACECOMB_STAGE_CACHE: the folder outlives each run's key, so a param
// change (a new key) sees what the earlier key left there.
const PIPE = (tag: string) => `version: 1
name: sc
stages:
  count:
    uses: shell
    with:
      cmd: "n=$(cat $FACECOMB_STAGE_CACHE/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > $FACECOMB_STAGE_CACHE/n; echo $n > $FACECOMB_OUT/n; echo $FACECOMB_STAGE_CACHE > $FACECOMB_OUT/dir"
      env: {TAG: ${tag}}
`;

test('FACECOMB_STAGE_CACHE: one folder per stage kind, kept across cache keys and runs', () => {
  const dir = project({ 'a.yaml': PIPE('a'), 'b.yaml': PIPE('b') });
  const r1 = cli(['run', 'a.yaml'], { cwd: dir });
  assert.equal(r1.code, 0, r1.stdout + r1.stderr);
  const r2 = cli(['run', 'b.yaml'], { cwd: dir });
  assert.equal(r2.code, 0, r2.stdout + r2.stderr);
  const folder = join(dir, '.facecomb', 'stage-cache', 'shell');
  const art = (file: string) => join(dir, '.facecomb', 'cache', statusJson(dir, file)[0].key, 'out');
  assert.notEqual(art('a.yaml'), art('b.yaml'), 'two cache keys');
  assert.equal(readFileSync(join(art('a.yaml'), 'dir'), 'utf8').trim(), folder);
  assert.equal(readFileSync(join(art('a.yaml'), 'n'), 'utf8').trim(), '1');
  assert.equal(readFileSync(join(art('b.yaml'), 'n'), 'utf8').trim(), '2', 'the second key found what the first left');
  // a cached run does not run the stage again
  assert.equal(cli(['run', 'b.yaml'], { cwd: dir }).code, 0);
  assert.equal(readFileSync(join(folder, 'n'), 'utf8').trim(), '2');
});
