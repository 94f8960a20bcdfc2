import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, project } from './helpers.js';

/** Runs `runner run` on `yaml` and returns its error lines (it must refuse to run). */
function errors(yaml: string, files: Record<string, string> = {}): string[] {
  const dir = project({ 'pipelines/shot.yaml': yaml, ...files });
  const r = cli(['run', 'pipelines/shot.yaml'], { cwd: dir });
  assert.equal(r.code, 2, `expected a pipeline error, got ${r.code}: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, /nothing was run/);
  assert.ok(!existsSync(join(dir, '.facecomb', 'cache')), 'nothing ran');
  return r.stderr.trim().split('\n').slice(0, -1);
}

test('unknown field: line and column of the key, with a hint', () => {
  const e = errors(`version: 1
name: shot42
stages:
  ingest:
    uses: shell
    with: {cmd: "true"}
  align:
    uses: shell
    need: [ingest]
    with: {cmd: "true"}
`);
  assert.deepEqual(e, ["pipelines/shot.yaml:9:5: stages.align.need: unknown field 'need' (did you mean 'needs'?)"]);
});

test('wrong type, at the value', () => {
  const e = errors(`version: 1
name: shot42
stages:
  a:
    uses: shell
    with:
      cmd: 42
    needs: ingest
`);
  assert.deepEqual(e, ['pipelines/shot.yaml:7:12: stages.a.with.cmd: must be string, got number', 'pipelines/shot.yaml:8:12: stages.a.needs: must be array, got string (write needs: [ingest])']);
});

test('bad version, missing name and a missing uses', () => {
  const e = errors(`version: 2
stages:
  a:
    with: {cmd: "true"}
`);
  assert.deepEqual(e, ["pipelines/shot.yaml:1:1: name: missing required field 'name'", 'pipelines/shot.yaml:1:10: version: must be 1, got 2', "pipelines/shot.yaml:4:5: stages.a.uses: missing required field 'uses'"]);
});

test('unknown uses, with a hint', () => {
  const e = errors(`version: 1
name: shot42
stages:
  a:
    uses: shel
    with: {cmd: "true"}
`);
  assert.equal(e.length, 1);
  assert.match(e[0], /^pipelines\/shot\.yaml:5:11: stages\.a\.uses: unknown stage kind 'shel' \(did you mean 'shell'\?\); known kinds: shell/);
});

test('unknown stage in needs, with a hint', () => {
  const e = errors(`version: 1
name: shot42
stages:
  ingest:
    uses: shell
    with: {cmd: "true"}
  align:
    uses: shell
    needs:
      - ingest
      - ingets
    with: {cmd: "true"}
`);
  assert.deepEqual(e, ["pipelines/shot.yaml:11:9: stages.align.needs[1]: unknown stage 'ingets' (did you mean 'ingest'?); stages: ingest, align"]);
});

test('a dependency cycle, at the edge that closes it', () => {
  const e = errors(`version: 1
name: shot42
stages:
  a:
    uses: shell
    needs: [c]
    with: {cmd: "true"}
  b:
    uses: shell
    needs: [a]
    with: {cmd: "true"}
  c:
    uses: shell
    needs: [b]
    with: {cmd: "true"}
  d:
    uses: shell
    needs: [d]
    with: {cmd: "true"}
`);
  assert.deepEqual(e, ['pipelines/shot.yaml:10:13: stages.b.needs[0]: dependency cycle: a -> c -> b -> a', 'pipelines/shot.yaml:18:13: stages.d.needs[0]: dependency cycle: d -> d']);
});

test('missing input files and globs that match nothing', () => {
  const e = errors(
    `version: 1
name: shot42
stages:
  a:
    uses: shell
    with:
      cmd: "true"
      inputs:
        - plates/shot42.mov
        - plates/*.exr
        - plates/present.txt
`,
    { 'pipelines/plates/present.txt': 'x' },
  );
  assert.equal(e.length, 2);
  assert.match(e[0], /^pipelines\/shot\.yaml:9:11: stages\.a\.with\.inputs\[0\]: input file 'plates\/shot42\.mov' not found \(looked at .*pipelines\/plates\/shot42\.mov\)$/);
  assert.match(e[1], /^pipelines\/shot\.yaml:10:11: stages\.a\.with\.inputs\[1\]: input glob 'plates\/\*\.exr' matches no file/);
});

test('unknown ${var}, with a hint; env vars resolve', () => {
  const e = errors(`version: 1
name: shot42
vars:
  plate: plates/shot42.mov
  home: \${env:HOME}
stages:
  a:
    uses: shell
    with:
      cmd: "echo \${plates} \${home} \${env:FACECOMB_SURELY_UNSET_VAR}"
`);
  assert.deepEqual(e, [
    "pipelines/shot.yaml:10:12: stages.a.with.cmd: unknown variable '${plates}' (did you mean '${plate}'?)",
    "pipelines/shot.yaml:10:12: stages.a.with.cmd: environment variable 'FACECOMB_SURELY_UNSET_VAR' is not set",
  ]);
});

test('YAML syntax errors and duplicate keys carry their position', () => {
  const e = errors(`version: 1
name: shot42
stages:
  a:
    uses: shell
    uses: shell
    with: {cmd: "true"}
`);
  assert.equal(e.length, 1);
  assert.match(e[0], /^pipelines\/shot\.yaml:6:5: YAML: Map keys must be unique/);
  const e2 = errors(`version: 1
name: shot42
stages:
  a: {uses: shell, with: {cmd: "true"}
`);
  assert.match(e2[0], /^pipelines\/shot\.yaml:\d+:\d+: YAML: /);
});

test('every error at once, sorted by line', () => {
  const e = errors(`version: 1
name: shot42
stages:
  a:
    uses: shell
    with: {cmd: "\${nope}", inptus: x}
  b:
    uses: shell
    needs: [zz]
    with: {cmd: "true"}
`);
  assert.deepEqual(
    e.map((l) => l.split(': ')[0]),
    ['pipelines/shot.yaml:6:17', 'pipelines/shot.yaml:6:28', 'pipelines/shot.yaml:9:13'],
  );
  assert.match(e[1], /unknown field 'inptus' \(did you mean 'inputs'\?\)/);
});
