// Every command ends quietly when the reader of its output closes the pipe (`runner show ... | head`):
// no 'write EPIPE' stack trace. Real OS pipes: a shell pipeline into head, and a reader closed before the
// command writes anything.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, cli, project } from './helpers.js';

const PIPELINE = `version: 1
name: piped
stages:
  many:
    uses: shell
    with: { cmd: 'i=0; while [ $i -lt 1500 ]; do : > "$FACECOMB_OUT/file-$i.txt"; i=$((i+1)); done' }
  slow:
    uses: shell
    needs: [many]
    with: { cmd: 'sleep 20' }
`;

/** Runs the CLI with its stdout a pipe whose reading end is closed before the command starts. */
function closedReader(args: string[], cwd: string): Promise<{ code: number | null; signal: string | null; stderr: string; ms: number }> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, FACECOMB_CACHE: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((res) => child.on('close', (code, signal) => res({ code, signal, stderr, ms: Date.now() - t0 })));
}

test('show --json | head: ends quietly, exit 0, no EPIPE', () => {
  const dir = project({ 'piped.yaml': PIPELINE.replace(/\n  slow:[\s\S]*$/, '\n') });
  assert.equal(cli(['run', 'piped.yaml'], { cwd: dir }).code, 0);
  // the manifest lists 1500 files: far more than a pipe buffer, so the writer meets the closed pipe
  const r = spawnSync('bash', ['-c', `set -o pipefail; node ${JSON.stringify(BIN)} show piped.yaml many --json | head -3`], { cwd: dir, encoding: 'utf8', env: { ...process.env, FACECOMB_CACHE: '' } });
  assert.equal(r.stdout.split('\n').length, 4, r.stdout);
  assert.equal(r.stderr, '', 'nothing on stderr');
  assert.equal(r.status, 0);
});

test('every command whose reader is gone exits quietly', async () => {
  const dir = project({ 'piped.yaml': PIPELINE.replace(/\n  slow:[\s\S]*$/, '\n') });
  assert.equal(cli(['run', 'piped.yaml'], { cwd: dir }).code, 0);
  for (const args of [['show', 'piped.yaml', 'many'], ['status', 'piped.yaml', '--json'], ['dag', 'piped.yaml'], ['ls'], ['gc', '--dry-run'], ['--help']]) {
    const r = await closedReader(args, dir);
    assert.equal(r.stderr, '', `runner ${args.join(' ')}: stderr`);
    assert.equal(r.code, 0, `runner ${args.join(' ')}: exit code`);
  }
});

test('run whose reader is gone stops its stages as on Ctrl-C, quietly, leaving no temp folder', async () => {
  const dir = project({ 'piped.yaml': PIPELINE });
  const r = await closedReader(['run', 'piped.yaml'], dir);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 130, 'interrupted');
  assert.ok(r.ms < 15000, `stopped the 20 s stage (took ${r.ms} ms)`);
  const tmp = join(dir, '.facecomb', 'tmp');
  assert.deepEqual(existsSync(tmp) ? readdirSync(tmp) : [], [], 'no temp folder left');
  const st = cli(['status', 'piped.yaml', '--json'], { cwd: dir });
  const states = JSON.parse(st.stdout) as { stage: string; state: string }[];
  assert.equal(states.find((s) => s.stage === 'slow')?.state, 'stale');
});
