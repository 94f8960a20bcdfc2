// Odd file names in inputs: a name that is not UTF-8 is refused at load with the folder named (it crashed
// run and status with ENOENT), names with glob characters match as written, and a backslash escapes a glob
// character inside a real glob.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, manifest, project, statusJson } from './helpers.js';

const LATIN1 = `version: 1
name: odd
stages:
  take:
    uses: shell
    with: { cmd: 'ls plates > $FACECOMB_OUT/list.txt', inputs: [plates] }
`;

test('a non-UTF-8 file name in an input folder: run and status refuse it naming the folder, no stack', () => {
  const dir = project({ 'odd.yaml': LATIN1, 'plates/ok.txt': 'ok' });
  // "shoté.txt" in Latin-1, as a camera card or an old archive writes it
  writeFileSync(Buffer.concat([Buffer.from(join(dir, 'plates/')), Buffer.from([0x73, 0x68, 0x6f, 0x74, 0xe9]), Buffer.from('.txt')]), 'x');
  for (const cmd of ['run', 'status']) {
    const r = cli([cmd, 'odd.yaml'], { cwd: dir });
    assert.equal(r.code, 2, `${cmd}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, new RegExp(`odd\\.yaml:6:\\d+: .*folder ${join(dir, 'plates')} holds a file name that is not valid UTF-8 \\('shot\\uFFFD\\.txt', bytes 73686f74e92e747874\\): rename it`));
    assert.doesNotMatch(r.stderr, /\n\s+at |ENOENT/);
  }
});

test("inputs named 'take #2.txt' and 'shot[1].txt' match as written; '\\#' escapes a glob character", () => {
  const P = `version: 1
name: names
stages:
  s:
    uses: shell
    with: { cmd: 'cat "take #2.txt" "shot[1].txt" > $FACECOMB_OUT/all.txt', inputs: ['take #2.txt', 'shot[1].txt', 'clips/take \\#*.txt'] }
`;
  const dir = project({ 'names.yaml': P, 'take #2.txt': 'two\n', 'shot[1].txt': 'one\n', 'shot1.txt': 'not me\n' });
  mkdirSync(join(dir, 'clips'));
  for (const f of ['take #4.txt', 'take #5.txt', 'take 6.txt', 'take #x.txt']) writeFileSync(join(dir, 'clips', f), f);
  const r = cli(['run', 'names.yaml'], { cwd: dir });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const [s] = statusJson(dir, 'names.yaml');
  const m = manifest(dir, s.key);
  assert.deepEqual(m.inputs.map((i: { path: string }) => i.path), ['clips/take #4.txt', 'clips/take #5.txt', 'clips/take #x.txt', 'shot[1].txt', 'take #2.txt']);
});
