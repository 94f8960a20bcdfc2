import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { chunkRanges, mergeMeta } from '../src/chunks.js';
import { FIXTURES, cacheKeys, cli, manifest, project, statusJson } from './helpers.js';

// `frames` makes 10 numbered files and lists them in meta.json; `squares` is per-frame: it squares the
// frames of FACECOMB_FRAMES (first-last), all of them without it, and logs each process to runs.txt
const SCRIPTS = {
  'frames.sh': `mkdir -p $FACECOMB_OUT/f; for i in $(seq 11 20); do echo $i > $FACECOMB_OUT/f/$i.txt; done
echo '{"kind":"frames","fps":24,"frames":[11,12,13,14,15,16,17,18,19,20]}' > $FACECOMB_OUT/meta.json
`,
  'squares.sh': `if [ -n "$FACECOMB_FRAMES" ]; then a=\${FACECOMB_FRAMES%-*}; b=\${FACECOMB_FRAMES#*-}; else a=11; b=20; fi
echo "$a-$b" >> runs.txt; mkdir -p $FACECOMB_OUT/f; list=""
for i in $(seq $a $b); do v=$(cat $FACECOMB_IN_PLATE/f/$i.txt); echo $((v * v)) > $FACECOMB_OUT/f/$i.txt; list="$list\${list:+,}$i"; done
printf '{"kind":"squares","fps":24,"frames":[%s]}\\n' "$list" > $FACECOMB_OUT/meta.json
if [ -n "$STAMP" ]; then echo "$a-$b" > $FACECOMB_OUT/stamp.txt; fi
`,
};
const pipe = (chunk: string, stamp = '') => `version: 1
name: chunky
stages:
  plate:
    uses: shell
    with: { cmd: sh frames.sh, inputs: [frames.sh] }
  sq:
    uses: shell
    needs: [plate]${chunk}
    with: { cmd: sh squares.sh, inputs: [squares.sh]${stamp} }
`;

const runs = (dir: string) => readFileSync(join(dir, 'runs.txt'), 'utf8').trim().split('\n');

test('chunk: N runs one job per N frames; the assembled artifact equals an unchunked run; a new chunk size reruns nothing', () => {
  const dir = project({ ...SCRIPTS, 'whole.yaml': pipe(''), 'p.yaml': pipe('\n    chunk: 3') });
  const whole = cli(['run', 'whole.yaml', '--cache', join(dir, 'whole-cache')], { cwd: dir });
  assert.equal(whole.code, 0, whole.stderr);
  assert.deepEqual(runs(dir), ['11-20']);
  writeFileSync(join(dir, 'runs.txt'), '');

  const r = cli(['run', 'p.yaml', '--jobs', '2'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.deepEqual(runs(dir).sort(), ['11-13', '14-16', '17-19', '20-20']);
  const [, sq] = statusJson(dir, 'p.yaml');
  const [, sqWhole] = statusJson(dir, 'whole.yaml', { FACECOMB_CACHE: join(dir, 'whole-cache') });
  assert.equal(sq.key, sqWhole.key, 'the chunk size is not part of the stage key');
  const m = manifest(dir, sq.key);
  const w = JSON.parse(readFileSync(join(dir, 'whole-cache', 'cache', sq.key, 'manifest.json'), 'utf8'));
  assert.deepEqual(m.outputs, w.outputs, 'same files, same bytes (meta.json included)');
  assert.equal(m.chunks.length, 4);
  assert.equal(cacheKeys(dir).length, 2 + 4, 'plate, sq and its 4 chunks');

  writeFileSync(join(dir, 'p.yaml'), pipe('\n    chunk: 5'));
  assert.equal(statusJson(dir, 'p.yaml')[1].state, 'cached');
  const again = cli(['run', 'p.yaml'], { cwd: dir });
  assert.match(again.stdout, /0 ran, 2 cached/);
  assert.equal(runs(dir).length, 4, 'nothing reran');
});

test('chunks that write the same non-frame file differently fail with a clear message; chunk on a kind without frames is a pipeline error', () => {
  const dir = project({ ...SCRIPTS, 'p.yaml': pipe('\n    chunk: 4', ', env: { STAMP: 1 }') });
  const r = cli(['run', 'p.yaml'], { cwd: dir });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /stage 'sq' \(assembling its chunks\) failed/);
  assert.match(r.stdout, /chunks 11-14 and 15-18 both wrote stamp\.txt with different content/);

  const k = project({
    'in.txt': 'x',
    'k.yaml': `version: 1
name: k
stages:
  c:
    uses: concat
    chunk: 2
    with: { src: in.txt }
`,
  });
  const bad = cli(['run', 'k.yaml'], { cwd: k, env: { FACECOMB_STAGE_PATHS: join(FIXTURES, 'kinds') } });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /k\.yaml:6:12: stages\.c\.chunk: stage kind 'concat' cannot be split into frame chunks; kinds that can: shell/);
});

test('chunk ranges and meta.json merging', () => {
  assert.deepEqual(chunkRanges([5, 1, 2, 3, 9, 4], 2), [[1, 2], [3, 4], [5, 9]]);
  const merged = mergeMeta(
    [
      { frames: [1, 2], meta: { kind: 'blend', fps: 24, frames: [1, 2], count: 2, noFace: [], why: {} } },
      { frames: [3, 4], meta: { kind: 'blend', fps: 24, frames: [3, 4], count: 2, noFace: [4], why: { 4: 'no face' } } },
    ],
    { sum: ['count'] },
  );
  assert.deepEqual(merged, { kind: 'blend', fps: 24, frames: [1, 2, 3, 4], count: 4, noFace: [4], why: { 4: 'no face' } });
  assert.throws(
    () => mergeMeta([{ frames: [1, 1], meta: { fps: 24 } }, { frames: [2, 2], meta: { fps: 25 } }], { sum: [] }),
    /meta\.json field 'fps' differs between chunks \(frames 1-1: 24; frames 2-2: 25\)/,
  );
});
