/** The training loop: progressive schedule, one identity per step, checkpoints, metrics, previews, Ctrl-C. */
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrainConfig } from './config.js';
import { CombModel } from './model.js';
import { leanTrainStep, readLosses } from './lean.js';
import { Adam } from './adam.js';
import { GradientPool, resolveWorkers } from './parallel.js';
import { BatchLoader, previewSamples, type Batch, type IdentitySet, type Sample } from './data.js';
import { planStep, totalSteps } from './schedule.js';
import { heldoutMeter } from './heldout.js';
import { findCheckpoint, keepSnapshot, linkSnapshots, loadCheckpoint, readMetrics, saveCheckpoint } from './checkpoint.js';
import { writePreviews } from './preview.js';
import { hash32 } from './rng.js';
import { Eta } from './eta.js';
import { tf, type Scalar } from './tf.js';
import type { BatchPlan } from './memory.js';
import { resumedScale, startPrecision } from './precision.js';
import type { LossScaleOptions } from '@facecomb/engine';

export interface MetricsRecord {
  step: number;
  resolution: number;
  level: number;
  alpha: number;
  /** Identity trained at this step. */
  identity: string;
  loss: number;
  /** Latest loss of every identity (null before its first step). */
  losses: Record<string, number | null>;
  imgPerSec: number;
  msPerStep: number;
  /** Share of the step spent waiting for data. */
  dataWait: number;
  /** Every heldoutEvery steps: the loss on the datasets' held-out frames (mean over identities), and per identity. */
  heldoutLoss?: number;
  heldoutLosses?: Record<string, number>;
}

export interface TrainOptions {
  config: TrainConfig;
  /** Identity sets in config.model.identities order. */
  sets: IdentitySet[];
  /** Output folder: model/, metrics.jsonl, previews/. */
  out: string;
  /** Folder of the periodic checkpoint (resumed from when present). Default: <out>/model. */
  checkpointDir?: string;
  /** Folder of the kept snapshots (keepCheckpoints), linked into <out>/checkpoints at the end. Default: <out>/checkpoints. */
  snapshotDir?: string;
  engine: { name: string; why: string };
  /** Stop as on Ctrl-C (checkpoint, then throw Interrupted) once this many steps are done. */
  stopAfter?: number;
  /** Train only up to this many steps in total (default: the whole schedule). */
  maxSteps?: number;
  /** Data-parallel workers on CPU engines (default: the core count); results equal one worker's up to float rounding. */
  workers?: number;
  /** Install SIGINT/SIGTERM handlers (stage use). */
  signals?: boolean;
  previewCount?: number;
  /** Per-level batch decisions (planBatches); their notes are logged when training starts and at each new level. */
  batchPlan?: BatchPlan;
  log?: (line: string) => void;
  /** Loss scaling of an f16 run (default: from 2^15, doubling after 1000 good steps); for tests. */
  lossScale?: LossScaleOptions;
  onStep?: (m: MetricsRecord) => void;
  onProgress?: (done: number, total: number, msg: string) => void;
}

export interface TrainResult {
  step: number;
  resolution: number;
  alpha: number;
  resumedFrom: number | null;
  metrics: MetricsRecord[];
  modelDir: string;
  /** The precision used (config.run.precision, or f32 where f16 is not available). */
  precision: 'f32' | 'f16';
}

/** Engines that run a step on their own device: the loop reads their losses every `lossEvery` steps (lean.ts). */
export const GPU_ENGINES = ['webgpu', 'tensorflow'];

/** A step recorded on the GPU whose loss is not read yet. */
interface PendingStep {
  batch: Batch;
  loss: Scalar;
  /** Data wait of this step (ms). */
  waitMs: number;
}

export class Interrupted extends Error {
  constructor(readonly step: number, readonly checkpoint: string) {
    super(`training interrupted at step ${step}; checkpoint saved in ${checkpoint}; run the stage again to resume`);
  }
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

/**
 * One optimisation step on a batch; returns the loss, read back at every step (CPU engines; on GPU engines train()
 * runs lean.ts's step and reads the losses every `lossEvery` steps). With a pool, the batch is split over its workers when it can be.
 */
export async function trainStep(model: CombModel, adam: Adam, b: Batch, pool?: GradientPool): Promise<number> {
  let value: Scalar;
  if (pool?.splits(model, b)) {
    const shared = await pool.gradients(model, b);
    adam.apply(model.params, shared.grads);
    for (const g of Object.values(shared.grads)) g.dispose();
    value = shared.value;
  } else {
    value = leanTrainStep(model, adam, b);
  }
  const loss = (await value.data())[0];
  value.dispose();
  if (!Number.isFinite(loss)) throw new Error(`loss is ${loss} at step ${b.step + 1} (identity ${model.cfg.model.identities[b.identity]}); lower 'lr'`);
  return loss;
}

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const cfg = opts.config;
  const log = opts.log ?? (() => undefined);
  const names = cfg.model.identities;
  if (opts.sets.length !== names.length || opts.sets.some((s, i) => s.name !== names[i])) {
    throw new Error(`identity sets [${opts.sets.map((s) => s.name)}] do not match the config's identities [${names}]`);
  }
  const modelDir = join(opts.out, 'model');
  const ckptDir = opts.checkpointDir ?? modelDir;
  const snapDir = opts.snapshotDir ?? join(opts.out, 'checkpoints');
  const previewDir = join(opts.out, 'previews');
  await mkdir(opts.out, { recursive: true });

  const model = new CombModel(cfg);
  const adam = new Adam(cfg.optim);
  let step = 0;
  let metricsLines: string[] = [];
  let resumedFrom: number | null = null;
  let savedScale: number | undefined;
  const found = await findCheckpoint(ckptDir);
  if (found) {
    const st = await loadCheckpoint(found, model, adam);
    step = st.step;
    savedScale = st.lossScale;
    resumedFrom = step;
    metricsLines = (await readMetrics(found)).filter((l) => (JSON.parse(l) as MetricsRecord).step <= step);
    log(`resuming from ${found} at step ${step} (resolution ${st.resolution}, alpha ${st.alpha.toFixed(3)})`);
    const was = st.batch?.[String(st.resolution)], now = cfg.schedule.batch[String(st.resolution)];
    if (was !== undefined && was !== now) log(`batch at ${st.resolution} px: ${was} in the checkpoint (engine ${st.engine}), ${now} now: the batch is a run-time choice, the model is the same`);
  } else {
    model.build(planStep(cfg, 0).resolution);
  }
  const metricsFile = join(opts.out, 'metrics.jsonl');
  await writeFile(metricsFile, metricsLines.length ? metricsLines.join('\n') + '\n' : '');

  const total = Math.min(opts.maxSteps ?? Infinity, totalSteps(cfg));
  const par = resolveWorkers(opts.workers, opts.engine.name, cfg);
  log(`train: ${par.why}`);
  // the loader checks the datasets (it may throw): made before the pool, whose worker threads a throw would leak
  const loader = new BatchLoader(opts.sets, cfg);
  const pool = par.workers > 1 && step < total ? new GradientPool(par.workers, cfg, opts.engine.name) : undefined;
  const losses: Record<string, number | null> = Object.fromEntries(names.map((n) => [n, null]));
  for (const l of metricsLines) {
    const m = JSON.parse(l) as MetricsRecord;
    losses[m.identity] = m.loss;
  }
  const records: MetricsRecord[] = [];
  let built = planStep(cfg, Math.max(0, step - 1)).resolution;
  let previewRes = 0;
  let previews: Sample[][] = [];
  const heldout = heldoutMeter(cfg, opts.sets, log);
  const eta = new Eta(cfg);
  const memoryNote = (r: number) => {
    const n = opts.batchPlan?.levels.find((l) => l.resolution === r)?.note;
    if (n) log(n);
  };
  if (step < total) memoryNote(planStep(cfg, step).resolution);

  let stopSignal: string | null = null;
  const onSignal = (sig: string) => {
    if (stopSignal) {
      process.stderr.write(`second ${sig}: exiting without a checkpoint\n`);
      process.exit(130);
    }
    stopSignal = sig;
    process.stderr.write(`${sig}: saving a checkpoint after this step, then stopping\n`);
  };
  const hInt = () => onSignal('SIGINT');
  const hTerm = () => onSignal('SIGTERM');
  if (opts.signals) {
    process.on('SIGINT', hInt);
    process.on('SIGTERM', hTerm);
  }

  const state = () => {
    const p = planStep(cfg, Math.max(0, step - 1));
    return {
      step,
      resolution: p.resolution,
      alpha: step === 0 ? 0 : p.alpha,
      rng: { seed: hash32(cfg.run.seed, 'batch'), key: 'step', counter: step },
      engine: opts.engine.name,
    };
  };
  const checkpoint = async (dir: string, o: { optimizer?: boolean } = {}) => {
    await adam.settleSkips(); // f16: steps skipped on the GPU do not count in the saved step numbers
    // f16: the loss scale goes with the checkpoint, so a resumed run does not re-learn it through skipped steps
    const lossScale = prec.scaler ? (await prec.scaler.read()).scale : undefined;
    return saveCheckpoint(dir, model, adam, { ...state(), ...(lossScale !== undefined ? { lossScale } : {}) }, o.optimizer === false ? [] : metricsLines, o);
  };
  const preview = async (r: number, alpha: number) => {
    if (r !== previewRes) {
      previews = await previewSamples(opts.sets, r, opts.previewCount ?? 4);
      previewRes = r;
    }
    await writePreviews(previewDir, step, model, previews, r, alpha);
  };

  /** Writes one step's record (the step counter already counts it when called from flush). */
  const record = async (batch: Batch, loss: number, ms: number, waitMs: number) => {
    const at = batch.step + 1;
    eta.observe(batch.resolution, ms);
    const name = names[batch.identity];
    losses[name] = loss;
    const rec: MetricsRecord = {
      step: at,
      resolution: batch.resolution,
      level: Math.log2(batch.resolution),
      alpha: batch.alpha,
      identity: name,
      loss,
      losses: { ...losses },
      imgPerSec: (batch.size * 1000) / ms,
      msPerStep: ms,
      dataWait: waitMs / ms,
    };
    if (heldout && at % cfg.run.heldoutEvery === 0) {
      const h = await heldout.measure(model, batch.resolution, batch.alpha);
      rec.heldoutLoss = h.mean;
      rec.heldoutLosses = h.perIdentity;
    }
    records.push(rec);
    const line = JSON.stringify(rec);
    metricsLines.push(line);
    await appendFile(metricsFile, line + '\n');
    opts.onStep?.(rec);
    opts.onProgress?.(
      at,
      total,
      `step ${at}/${total} ${batch.resolution}px alpha ${batch.alpha.toFixed(2)} loss ${loss.toFixed(4)} (${name}) ${rec.imgPerSec.toFixed(1)} img/s ETA ${fmtTime(eta.remainingSeconds(at, total))}`,
    );
  };
  // GPU engines: steps are recorded without a read; their losses are read in one transfer by flush(), and the
  // run's wall time (steps + read) is shared evenly among its steps for the speed figures and the ETA
  const lean = GPU_ENGINES.includes(opts.engine.name) && !pool;
  const pending: PendingStep[] = [];
  let t0 = performance.now();
  const flush = async () => {
    if (!pending.length) return;
    const run = pending.splice(0);
    const values = await readLosses(run.map((p) => p.loss), (i) => `step ${run[i].batch.step + 1} (identity ${names[run[i].batch.identity]})`);
    const ms = (performance.now() - t0) / run.length;
    for (let i = 0; i < run.length; i++) await record(run[i].batch, values[i], ms, run[i].waitMs);
  };

  const prec = startPrecision(cfg.run.precision, opts.engine.name, log, resumedScale(opts.lossScale, savedScale));
  try {
    while (step < total) {
      const plan = planStep(cfg, step);
      if (plan.resolution !== built) {
        await flush();
        model.build(plan.resolution);
        log(`level ${Math.log2(plan.resolution)}: growing to ${plan.resolution} px (fade-in over ${cfg.schedule.stepsPerFade} steps); trained weights kept`);
        memoryNote(plan.resolution);
        built = plan.resolution;
      }
      // a lean run's time starts at its first step (checkpoints and previews between runs are not counted)
      if (!lean || !pending.length) t0 = performance.now();
      const wait0 = loader.waitMs;
      const batch = await loader.next(step);
      if (lean) {
        pending.push({ batch, loss: leanTrainStep(model, adam, batch, prec.scaler), waitMs: loader.waitMs - wait0 });
      } else {
        const loss = await trainStep(model, adam, batch, pool);
        await record(batch, loss, performance.now() - t0, loader.waitMs - wait0);
      }
      step++;
      const stop = stopSignal !== null || (opts.stopAfter !== undefined && step >= opts.stopAfter && step < total);
      const ckpt = step % cfg.run.checkpointEvery === 0 && step < total;
      const prev = step % cfg.run.previewEvery === 0;
      // the losses are read before anything that saves or shows them, so the records stay one per step
      // a held-out measurement reads the model as it is after its step: flush up to it
      const held = heldout !== null && step % cfg.run.heldoutEvery === 0;
      if (pending.length >= cfg.run.lossEvery || stop || ckpt || prev || held || step >= total) await flush();
      if (ckpt) await checkpoint(ckptDir);
      if (ckpt && cfg.run.keepCheckpoints > 0) await keepSnapshot(snapDir, step, cfg.run.keepCheckpoints, (dir) => checkpoint(dir, { optimizer: false }));
      if (prev) await preview(batch.resolution, batch.alpha);
      if (stop) {
        await checkpoint(ckptDir);
        throw new Interrupted(step, ckptDir);
      }
    }
    await flush();
    const last = planStep(cfg, Math.max(0, step - 1));
    if (step % cfg.run.previewEvery !== 0) await preview(last.resolution, step === 0 ? 0 : last.alpha);
    await checkpoint(modelDir);
    if (snapDir !== join(opts.out, 'checkpoints')) await linkSnapshots(snapDir, join(opts.out, 'checkpoints'));
    const st = state();
    return { step, resolution: st.resolution, alpha: st.alpha, resumedFrom, metrics: records, modelDir, precision: prec.precision };
  } finally {
    if (opts.signals) {
      process.off('SIGINT', hInt);
      process.off('SIGTERM', hTerm);
    }
    await pool?.close();
    tf.dispose(pending.map((p) => p.loss));
    await prec.end(log);
    model.dispose();
    adam.dispose();
  }
}
