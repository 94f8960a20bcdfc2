/** The `train` and `swap` stage bodies (docs/STAGES.md). */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { engine, progress, readUpstream, summary, type StageEnv } from '@facecomb/stage';
import { initEngine } from './tf.js';
import { resolveConfig } from './config.js';
import { engineMemoryLimit, explicitBatches, planBatches } from './memory.js';
import { readDataset, type IdentitySet } from './data.js';
import { train, type MetricsRecord } from './trainer.js';
import { ALL_SOURCES, swapFaces } from './swap.js';
import { modelAtStep } from './checkpoint.js';

const log = (line: string) => process.stdout.write(`${line}\n`);

async function startEngine(env: StageEnv): Promise<{ name: string; why: string }> {
  const e = await initEngine({ backend: env.backend, log });
  engine(e.name, e.why);
  return e;
}

/**
 * FACECOMB_WORKERS: data-parallel workers on CPU engines (default: the core count). Not a stage param on
 * purpose: the result equals one worker's up to float rounding, so it must not change the cache key.
 */
function workersFromEnv(): number | undefined {
  const v = process.env.FACECOMB_WORKERS;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`FACECOMB_WORKERS='${v}': must be an integer >= 1 (data-parallel training workers)`);
  return n;
}

export async function trainStage(env: StageEnv): Promise<void> {
  const inputs = await readUpstream(env.inputs);
  const datasets = inputs.filter((i) => i.kind === 'dataset');
  if (datasets.length < 2) {
    throw new Error(
      `stage '${env.stage}' (train) needs at least 2 dataset stages in 'needs' (one per identity); found ${datasets.length} among [${inputs.map((i) => `${i.name}: ${i.kind || '?'}`).join(', ')}]`,
    );
  }
  const sets = await Promise.all(datasets.map((d) => readDataset(d.dir)));
  const requested = resolveConfig(env.params, sets.map((s) => s.name));
  const ordered: IdentitySet[] = requested.model.identities.map((n) => sets.find((s) => s.name === n)!);
  for (const s of ordered) {
    if (s.size && s.size < requested.model.resolution) log(`warning: dataset '${s.name}' has ${s.size} px crops, upscaled to the ${requested.model.resolution} px target; align at ${requested.model.resolution} px or more for full detail`);
  }
  const eng = await startEngine(env);
  // a step that outgrows an engine's hard memory limit (wasm: 4 GB) aborts the process: check every level now
  const plan = planBatches(requested, explicitBatches(env.params), eng.name, await engineMemoryLimit(eng.name));
  const cfg = plan.config;
  log(`train: identities [${cfg.model.identities.join(', ')}] (${ordered.map((s) => s.train.length).join('/')} crops), ${cfg.model.startResolution} -> ${cfg.model.resolution} px`);
  const res = await train({
    config: cfg,
    workers: workersFromEnv(),
    sets: ordered,
    out: env.out,
    checkpointDir: env.resume ? join(env.resume, 'checkpoint') : undefined,
    snapshotDir: env.resume ? join(env.resume, 'checkpoints') : undefined,
    engine: eng,
    signals: true,
    batchPlan: plan,
    log,
    onProgress: (done, total, msg) => progress({ done, total, unit: 'steps', msg }, done === total),
  });
  const last: MetricsRecord | undefined = res.metrics[res.metrics.length - 1];
  await writeFile(
    join(env.out, 'meta.json'),
    JSON.stringify(
      { kind: 'train', identities: cfg.model.identities, resolution: res.resolution, targetResolution: cfg.model.resolution, level: Math.log2(res.resolution), alpha: res.alpha, step: res.step, engine: eng.name, precision: res.precision },
      null,
      1,
    ),
  );
  const rates = res.metrics.map((m) => m.imgPerSec);
  summary({
    steps: res.step,
    resolution: res.resolution,
    alpha: res.alpha,
    losses: last?.losses ?? {},
    imgPerSec: rates.length ? rates.reduce((a, b) => a + b, 0) / rates.length : null,
    resumedFrom: res.resumedFrom,
  });
}

export async function swapStage(env: StageEnv): Promise<void> {
  const inputs = await readUpstream(env.inputs);
  const trains = inputs.filter((i) => i.kind === 'train');
  const aligns = inputs.filter((i) => i.kind === 'align');
  if (trains.length !== 1) throw new Error(`stage '${env.stage}' (swap) needs exactly one train stage in 'needs'; found ${trains.length}`);
  if (aligns.length !== 1) throw new Error(`stage '${env.stage}' (swap) needs exactly one align stage (the target's crops) in 'needs'; found ${aligns.length}`);
  const source = env.params.source;
  if (typeof source !== 'string' || !source) throw new Error(`swap param 'source' (the identity whose face is rendered, or 'all' for every identity) is required`);
  const batch = env.params.batch ?? 8;
  if (typeof batch !== 'number' || !Number.isInteger(batch) || batch < 1) throw new Error(`swap param 'batch' must be an integer >= 1`);
  const eng = await startEngine(env);
  const res = await swapFaces({
    modelDir: await modelAtStep(trains[0].dir, env.params.step),
    alignDir: aligns[0].dir,
    out: env.out,
    source,
    batch,
    engine: eng.name,
    range: env.frames,
    onProgress: (done, total) => progress({ done, total, unit: 'frames' }, done === total),
  });
  summary({ frames: res.frames.length, noFace: res.noFace.length, source, resolution: res.resolution, size: res.size, ...(source === ALL_SOURCES ? { identities: res.identities } : {}) });
}
