import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alignFixture, datasetFixture, type Fixture } from './fixtures.js';

const PKG = fileURLToPath(new URL('..', import.meta.url));
const BACKEND = process.env.FACECOMB_TEST_BACKEND ?? 'wasm';
let fx: Fixture;
let work: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the stage CLI as the runner does; `interruptAt` sends SIGINT once a progress line reports that step. */
function runCli(kind: string, env: Record<string, string>, interruptAt?: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(PKG, 'src', 'cli.ts'), kind], {
      cwd: work,
      env: { ...process.env, FACECOMB_BACKEND: BACKEND, FACECOMB_PIPELINE_DIR: work, FACECOMB_STAGE: kind, ...env },
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (interruptAt !== undefined && !sent) {
        const m = [...stdout.matchAll(/::progress (\{.*\})/g)].map((x) => JSON.parse(x[1]).done as number);
        if (m.some((d) => d >= interruptAt)) {
          sent = true;
          child.kill('SIGINT');
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const trainParams = {
  resolution: 32, startResolution: 16, stepsPerFade: 40, stepsPerStable: 60, batch: 2, lr: 1e-3,
  channels: { 4: 8, 8: 8, 16: 8, 32: 8 }, latent: 16, checkpointEvery: 1000, previewEvery: 1000, seed: 5,
};

before(async () => {
  fx = await datasetFixture(48, 20);
  work = await mkdtemp(join(tmpdir(), 'facecomb-train-stage-'));
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

test('train stage: Ctrl-C checkpoints and exits non-zero; the rerun resumes and continues the loss curve', async () => {
  const inputs = JSON.stringify({ 'ds-aoc': fx.datasets.aoc, 'ds-katie': fx.datasets.katie, 'ds-speaker': fx.datasets.speaker1 });
  const resume = join(work, 'resume');
  await mkdir(resume, { recursive: true });
  const env = { FACECOMB_INPUTS: inputs, FACECOMB_PARAMS: JSON.stringify(trainParams), FACECOMB_RESUME: resume };
  const first = await runCli('train', { ...env, FACECOMB_OUT: join(work, 'out1') }, 5);
  assert.notEqual(first.code, 0, `an interrupted train must fail; stdout: ${first.stdout.slice(-500)}`);
  assert.match(first.stderr, /interrupted at step \d+; checkpoint saved in/);
  assert.match(first.stdout, /::engine \{"name":"(wasm|cpu)"/);
  const st = JSON.parse(await readFile(join(resume, 'checkpoint', 'state.json'), 'utf8'));
  assert.ok(st.step >= 5 && st.step < 160, `checkpoint step ${st.step}`);
  const firstLines = (await readFile(join(work, 'out1', 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));

  const out = join(work, 'out2');
  const second = await runCli('train', { ...env, FACECOMB_OUT: out });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, new RegExp(`resuming from .* at step ${st.step}`));
  const lines = (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.step), Array.from({ length: 160 }, (_, i) => i + 1));
  // the steps before the checkpoint are the interrupted run's own
  assert.deepEqual(lines.slice(0, st.step).map((l) => l.loss), firstLines.slice(0, st.step).map((l) => l.loss));
  const meta = JSON.parse(await readFile(join(out, 'meta.json'), 'utf8'));
  assert.deepEqual(meta, { kind: 'train', identities: ['aoc', 'katie', 'speaker1'], resolution: 32, targetResolution: 32, level: 5, alpha: 1, step: 160, engine: BACKEND, precision: 'f32' });
  const summary = JSON.parse(/::summary (.*)/.exec(second.stdout)![1]);
  assert.equal(summary.resumedFrom, st.step);
  assert.ok(existsSync(join(out, 'model', 'card.json')));

  // swap stage from this model
  const align = await alignFixture(fx, 'speaker1', 4);
  const swapOut = join(work, 'swap');
  const swap = await runCli('swap', { FACECOMB_OUT: swapOut, FACECOMB_INPUTS: JSON.stringify({ train: out, target: align }), FACECOMB_PARAMS: JSON.stringify({ source: 'katie', batch: 2 }) });
  assert.equal(swap.code, 0, swap.stderr);
  assert.deepEqual((await readdir(join(swapOut, 'faces'))).sort(), ['000001.png', '000003.png', '000004.png']);
  assert.match(swap.stdout, /::summary \{"frames":3,"noFace":1,"source":"katie"/);
});

test('train stage: bad inputs and params are clear errors', async () => {
  const one = await runCli('train', { FACECOMB_OUT: join(work, 'bad1'), FACECOMB_INPUTS: JSON.stringify({ 'ds-aoc': fx.datasets.aoc }), FACECOMB_PARAMS: '{}' });
  assert.equal(one.code, 1);
  assert.match(one.stderr, /needs at least 2 dataset stages in 'needs'/);
  const inputs = JSON.stringify({ a: fx.datasets.aoc, b: fx.datasets.katie });
  const bad = await runCli('train', { FACECOMB_OUT: join(work, 'bad2'), FACECOMB_INPUTS: inputs, FACECOMB_PARAMS: JSON.stringify({ resolution: 48 }) });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /train param 'resolution' = 48: must be a power of 2/);
  if (BACKEND === 'wasm') {
    // the real model at 256 px with batch 8 needs more than the 4 GiB wasm heap: refused before any step
    const big = await runCli('train', { FACECOMB_OUT: join(work, 'bad4'), FACECOMB_INPUTS: inputs, FACECOMB_PARAMS: JSON.stringify({ resolution: 256, batch: { 256: 8 } }) });
    assert.equal(big.code, 1);
    assert.match(big.stderr, /train param 'with\.batch' at 256 px = 8 needs an estimated [\d.]+ GiB per training step, more than the 4 GiB wasm heap: set with\.batch to \{"256": \d\} or less, or use --backend webgpu or --backend tensorflow/);
    assert.doesNotMatch(big.stdout, /::progress/);
  }
  const swap = await runCli('swap', { FACECOMB_OUT: join(work, 'bad3'), FACECOMB_INPUTS: inputs, FACECOMB_PARAMS: JSON.stringify({ source: 'aoc' }) });
  assert.equal(swap.code, 1);
  assert.match(swap.stderr, /needs exactly one train stage/);
});
