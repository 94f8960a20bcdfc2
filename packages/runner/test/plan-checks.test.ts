import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cli, project } from './helpers.js';

/** A real clip of the shared footage (200 frames); the test fails when ../shared is missing. */
function clip(): string {
  const file = fileURLToPath(new URL('../../../../shared/footage/congress/katiehill.mp4', import.meta.url));
  if (!existsSync(file)) throw new Error(`test footage missing: ${file}; the tests need ../shared/footage beside the repository`);
  return file;
}

/** An ingest of the real clip with a frame range. */
const plate = (range: [number, number]) => `version: 1\nname: shot\nstages:\n  plate:\n    uses: ingest\n    with: { src: "${clip()}", range: [${range.join(', ')}] }\n`;

/** Two identity sets from a shell stage, a train over them, a swap and a score: `edit` makes one mistake. */
function pipeline(edit: (s: string) => string = (s) => s): string {
  return edit(`version: 1
name: shot
stages:
  frames:
    uses: shell
    with: { cmd: "true" }
  ava:
    uses: dataset
    needs: [frames]
    with: { name: ava }
  bea:
    uses: dataset
    needs: [frames]
    with: { name: bea }
  train:
    uses: train
    needs: [ava, bea]
    with: { seed: 1 }
  swap:
    uses: swap
    needs: [train]
    with: { source: ava }
  score:
    uses: score
    needs: [swap, train, ava, bea]
    with: { target: bea }
`);
}

/** `runner status` and `runner run` both refuse with exactly these lines, and nothing enters the cache. */
function refused(yaml: string, args: string[] = []): string[] {
  const dir = project({ 'shot.yaml': yaml });
  const lines: string[][] = [];
  for (const cmd of ['status', 'run']) {
    const r = cli([cmd, 'shot.yaml', ...args], { cwd: dir });
    assert.equal(r.code, 2, `${cmd}: expected a refusal, got ${r.code}: ${r.stdout}${r.stderr}`);
    lines.push(r.stderr.trim().split('\n'));
  }
  assert.deepEqual(lines[0], lines[1], 'status and run report the same');
  assert.ok(!existsSync(join(dir, '.facecomb', 'cache')), 'no stage ran');
  return lines[1];
}

test('the pipeline without mistakes passes the checks', () => {
  const dir = project({ 'shot.yaml': pipeline() });
  const r = cli(['status', 'shot.yaml'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /swap\s+stale\s+never run/);
});

test('swap source and score target are checked against the identities the train collects', () => {
  const e = refused(pipeline((s) => s.replace('source: ava', 'source: avaa').replace('target: bea', 'target: cleo')));
  assert.deepEqual(e, [
    "shot.yaml:22:21: stages.swap.with.source: unknown identity 'avaa' (did you mean 'ava'?); identity names upstream of 'swap': ava, bea",
    "shot.yaml:26:21: stages.score.with.target: unknown identity 'cleo'; identity names upstream of 'score': ava, bea",
    '2 error(s) in the pipeline; nothing was run',
  ]);
});

test("swap source 'all' (every identity, a keyword of the kind) passes the identity check; a misspelling does not", () => {
  const dir = project({ 'shot.yaml': pipeline((s) => s.replace('source: ava', 'source: all')) });
  const r = cli(['status', 'shot.yaml'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const e = refused(pipeline((s) => s.replace('source: ava', 'source: alll')));
  assert.equal(e[0], "shot.yaml:22:21: stages.swap.with.source: unknown identity 'alll'; identity names upstream of 'swap': ava, bea");
});

test('train identities must list exactly the datasets in needs', () => {
  const e = refused(pipeline((s) => s.replace('with: { seed: 1 }', 'with: { identities: [ava, sam] }')));
  assert.deepEqual(e, [
    "shot.yaml:18:25: stages.train.with.identities: stage 'bea' (identity 'bea') is in needs but not in identities: add 'bea' to identities, or remove 'bea' from needs",
    "shot.yaml:18:31: stages.train.with.identities[1]: no stage in needs provides identity 'sam'; needs provide: ava, bea",
    '2 error(s) in the pipeline; nothing was run',
  ]);
});

test('a frame range past the end of a real clip is found by a probe before anything runs', () => {
  const e = refused(plate([150, 260]));
  assert.equal(e.length, 2);
  assert.match(e[0], /^shot\.yaml:6:\d+: stages\.plate\.with\.range: range \[150, 260\] ends past the last frame of .*katiehill\.mp4 \(200\)$/);
});

test('a range inside the clip passes', () => {
  const dir = project({ 'shot.yaml': plate([199, 200]) });
  const r = cli(['status', 'shot.yaml'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
});

test('CLI flags: an unknown option gets the nearest one, an option of another command is refused', () => {
  const dir = project({ 'shot.yaml': pipeline() });
  const job = cli(['run', 'shot.yaml', '--job', '1'], { cwd: dir });
  assert.equal(job.code, 2);
  assert.match(job.stderr, /^runner: run: unknown option '--job' \(did you mean '--jobs'\?\); options of run: .*--jobs/);
  const force = cli(['status', 'shot.yaml', '--force', 'swap'], { cwd: dir });
  assert.equal(force.code, 2);
  assert.match(force.stderr, /status: --force is an option of run, not of status/);
  const stage = cli(['run', 'shot.yaml', '--force', 'swpa'], { cwd: dir });
  assert.equal(stage.code, 2);
  assert.match(stage.stderr, /--force swpa: no stage 'swpa' in shot \(did you mean 'swap'\?\)/);
  const backend = cli(['run', 'shot.yaml', '--backend', 'gpu'], { cwd: dir });
  assert.equal(backend.code, 2);
  assert.match(backend.stderr, /--backend gpu: not a tensor engine \(the GPU engines are webgpu and tensorflow\); engines: auto, tensorflow, webgpu, wasm, cpu/);
  const cmd = cli(['stauts', 'shot.yaml'], { cwd: dir });
  assert.equal(cmd.code, 2);
  assert.match(cmd.stderr, /unknown command 'stauts' \(did you mean 'status'\?\)/);
  assert.ok(!existsSync(join(dir, '.facecomb', 'cache')), 'no stage ran');
});
