/**
 * One training run as named steps over its state: open (resume or build), then per step grow, draw, step,
 * after (read losses, checkpoint, snapshot, preview, stop), then finish and close. train() (trainer.ts) is
 * the loop over them.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrainConfig } from './config.js';
import { CombModel } from './model.js';
import { readLosses } from './lean.js';
import { Adam } from './adam.js';
import { GradientPool, resolveWorkers } from './parallel.js';
import { BatchLoader, previewSamples, type Batch, type Sample } from './data.js';
import { planStep, totalSteps } from './schedule.js';
import { heldoutMeter, type HeldoutLoss } from './heldout.js';
import { findCheckpoint, keepSnapshot, linkSnapshots, loadCheckpoint, readMetrics, saveCheckpoint } from './checkpoint.js';
import { writePreviews } from './preview.js';
import { hash32 } from './rng.js';
import { tf, type Scalar } from './tf.js';
import { resumedScale, startPrecision, type PrecisionRun } from './precision.js';
import { MetricsLog, type MetricsRecord } from './metrics-log.js';
import { StopSignals } from './stop-signals.js';
import { stepPath, type StepPath } from './step-path.js';
import type { TrainOptions, TrainResult } from './trainer.js';

/** A step run whose loss is not read yet. */
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

/** Where a run starts: a checkpoint's step, loss scale and curve, or nothing. */
interface Start {
  step: number;
  resumedFrom: number | null;
  savedScale?: number;
  lines: string[];
}

async function resume(ckptDir: string, model: CombModel, adam: Adam, cfg: TrainConfig, log: (line: string) => void): Promise<Start> {
  const found = await findCheckpoint(ckptDir);
  if (!found) {
    model.build(planStep(cfg, 0).resolution);
    return { step: 0, resumedFrom: null, lines: [] };
  }
  const st = await loadCheckpoint(found, model, adam);
  const lines = (await readMetrics(found)).filter((l) => (JSON.parse(l) as MetricsRecord).step <= st.step);
  log(`resuming from ${found} at step ${st.step} (resolution ${st.resolution}, alpha ${st.alpha.toFixed(3)})`);
  const was = st.batch?.[String(st.resolution)], now = cfg.schedule.batch[String(st.resolution)];
  if (was !== undefined && was !== now) log(`batch at ${st.resolution} px: ${was} in the checkpoint (engine ${st.engine}), ${now} now: the batch is a run-time choice, the model is the same`);
  return { step: st.step, resumedFrom: st.step, savedScale: st.lossScale, lines };
}

export class TrainRun {
  readonly cfg: TrainConfig;
  readonly log: (line: string) => void;
  readonly modelDir: string;
  readonly ckptDir: string;
  readonly snapDir: string;
  readonly model: CombModel;
  readonly adam: Adam;
  step = 0;
  total = 0;
  resumedFrom: number | null = null;
  private metrics!: MetricsLog;
  private loader!: BatchLoader;
  private pool?: GradientPool;
  private path!: StepPath;
  private prec?: PrecisionRun;
  private heldout: HeldoutLoss | null = null;
  private signals?: StopSignals;
  private built = 0;
  private previewRes = 0;
  private previews: Sample[][] = [];
  private readonly pending: PendingStep[] = [];
  /** Start of the current read run (steps between two reads of their losses). */
  private t0 = 0;

  private constructor(readonly opts: TrainOptions) {
    this.cfg = opts.config;
    this.log = opts.log ?? (() => undefined);
    this.modelDir = join(opts.out, 'model');
    this.ckptDir = opts.checkpointDir ?? this.modelDir;
    this.snapDir = opts.snapshotDir ?? join(opts.out, 'checkpoints');
    this.model = new CombModel(this.cfg);
    this.adam = new Adam(this.cfg.optim);
  }

  /** Checks the sets, resumes from the checkpoint or builds the model, and starts the loader, workers and precision. */
  static async open(opts: TrainOptions): Promise<TrainRun> {
    const names = opts.config.model.identities;
    if (opts.sets.length !== names.length || opts.sets.some((s, i) => s.name !== names[i])) {
      throw new Error(`identity sets [${opts.sets.map((s) => s.name)}] do not match the config's identities [${names}]`);
    }
    await mkdir(opts.out, { recursive: true });
    const run = new TrainRun(opts);
    try {
      await run.start();
    } catch (e) {
      await run.close();
      throw e;
    }
    return run;
  }

  private async start(): Promise<void> {
    const { cfg, opts, log } = this;
    const from = await resume(this.ckptDir, this.model, this.adam, cfg, log);
    this.step = from.step;
    this.resumedFrom = from.resumedFrom;
    this.total = Math.min(opts.maxSteps ?? Infinity, totalSteps(cfg));
    this.metrics = new MetricsLog(join(opts.out, 'metrics.jsonl'), from.lines, cfg.model.identities, cfg, this.total, opts);
    await this.metrics.start();
    const par = resolveWorkers(opts.workers, opts.engine.name, cfg);
    log(`train: ${par.why}`);
    // the loader checks the datasets (it may throw): made before the pool, whose worker threads a throw would leak
    this.loader = new BatchLoader(opts.sets, cfg);
    if (par.workers > 1 && this.step < this.total) this.pool = new GradientPool(par.workers, cfg, opts.engine.name);
    this.built = planStep(cfg, Math.max(0, this.step - 1)).resolution;
    this.heldout = heldoutMeter(cfg, opts.sets, log);
    if (this.step < this.total) this.memoryNote(planStep(cfg, this.step).resolution);
    this.signals = new StopSignals(opts.signals === true);
    this.prec = startPrecision(cfg.run.precision, opts.engine.name, log, resumedScale(opts.lossScale, from.savedScale));
    this.path = stepPath(this.model, this.adam, { engine: opts.engine.name, lossEvery: cfg.run.lossEvery, pool: this.pool, scaler: this.prec.scaler });
  }

  private memoryNote(r: number): void {
    const n = this.opts.batchPlan?.levels.find((l) => l.resolution === r)?.note;
    if (n) this.log(n);
  }

  /** Grows the model when the schedule reaches a new level (the losses of the old level read first). */
  async grow(): Promise<void> {
    const plan = planStep(this.cfg, this.step);
    if (plan.resolution === this.built) return;
    await this.readLosses();
    this.model.build(plan.resolution);
    this.log(`level ${Math.log2(plan.resolution)}: growing to ${plan.resolution} px (fade-in over ${this.cfg.schedule.stepsPerFade} steps); trained weights kept`);
    this.memoryNote(plan.resolution);
    this.built = plan.resolution;
  }

  /** Draws the step's batch and runs the step; its loss is read by readLosses. */
  async trainStep(): Promise<Batch> {
    // a read run's time starts at its first step (checkpoints and previews between runs are not counted)
    if (!this.pending.length) this.t0 = performance.now();
    const wait0 = this.loader.waitMs;
    const batch = await this.loader.next(this.step);
    this.pending.push({ batch, loss: await this.path.step(batch), waitMs: this.loader.waitMs - wait0 });
    this.step++;
    return batch;
  }

  /** After a step: reads the losses when due, checkpoints, keeps a snapshot, writes previews, stops when asked. */
  async after(batch: Batch): Promise<void> {
    const { step, cfg } = this;
    const stop = this.signals?.received != null || (this.opts.stopAfter !== undefined && step >= this.opts.stopAfter && step < this.total);
    const ckpt = step % cfg.run.checkpointEvery === 0 && step < this.total;
    const prev = step % cfg.run.previewEvery === 0;
    // the losses are read before anything that saves or shows them, so the records stay one per step
    // a held-out measurement reads the model as it is after its step: read up to it
    const held = this.heldout !== null && step % cfg.run.heldoutEvery === 0;
    if (this.pending.length >= this.path.readEvery || stop || ckpt || prev || held || step >= this.total) await this.readLosses();
    if (ckpt) await this.checkpoint(this.ckptDir);
    if (ckpt && cfg.run.keepCheckpoints > 0) await keepSnapshot(this.snapDir, step, cfg.run.keepCheckpoints, (dir) => this.checkpoint(dir, { optimizer: false }));
    if (prev) await this.preview(batch.resolution, batch.alpha);
    if (stop) {
      await this.checkpoint(this.ckptDir);
      throw new Interrupted(step, this.ckptDir);
    }
  }

  /**
   * Reads the pending steps' losses in one transfer and writes their records; the run's wall time (steps +
   * read) is shared evenly among its steps for the speed figures and the ETA.
   */
  async readLosses(): Promise<void> {
    if (!this.pending.length) return;
    const run = this.pending.splice(0);
    const names = this.cfg.model.identities;
    const values = await readLosses(run.map((p) => p.loss), (i) => `step ${run[i].batch.step + 1} (identity ${names[run[i].batch.identity]})`);
    const ms = (performance.now() - this.t0) / run.length;
    for (let i = 0; i < run.length; i++) {
      const { batch, waitMs } = run[i];
      const rec = this.metrics.make(batch, values[i], ms, waitMs);
      if (this.heldout && rec.step % this.cfg.run.heldoutEvery === 0) {
        const h = await this.heldout.measure(this.model, batch.resolution, batch.alpha);
        rec.heldoutLoss = h.mean;
        rec.heldoutLosses = h.perIdentity;
      }
      await this.metrics.write(rec);
    }
  }

  private state() {
    const p = planStep(this.cfg, Math.max(0, this.step - 1));
    return {
      step: this.step,
      resolution: p.resolution,
      alpha: this.step === 0 ? 0 : p.alpha,
      rng: { seed: hash32(this.cfg.run.seed, 'batch'), key: 'step', counter: this.step },
      engine: this.opts.engine.name,
    };
  }

  private async checkpoint(dir: string, o: { optimizer?: boolean } = {}): Promise<void> {
    await this.adam.settleSkips(); // f16: steps skipped on the GPU do not count in the saved step numbers
    // f16: the loss scale goes with the checkpoint, so a resumed run does not re-learn it through skipped steps
    const lossScale = this.prec?.scaler ? (await this.prec.scaler.read()).scale : undefined;
    const state = { ...this.state(), ...(lossScale !== undefined ? { lossScale } : {}) };
    await saveCheckpoint(dir, this.model, this.adam, state, o.optimizer === false ? [] : this.metrics.lines, o);
  }

  private async preview(r: number, alpha: number): Promise<void> {
    if (r !== this.previewRes) {
      this.previews = await previewSamples(this.opts.sets, r, this.opts.previewCount ?? 4);
      this.previewRes = r;
    }
    await writePreviews(join(this.opts.out, 'previews'), this.step, this.model, this.previews, r, alpha);
  }

  /** The end of the schedule: last losses, last preview, the final model, snapshots linked into the artifact. */
  async finish(): Promise<TrainResult> {
    await this.readLosses();
    const last = planStep(this.cfg, Math.max(0, this.step - 1));
    if (this.step % this.cfg.run.previewEvery !== 0) await this.preview(last.resolution, this.step === 0 ? 0 : last.alpha);
    await this.checkpoint(this.modelDir);
    const artifactSnaps = join(this.opts.out, 'checkpoints');
    if (this.snapDir !== artifactSnaps) await linkSnapshots(this.snapDir, artifactSnaps);
    const st = this.state();
    const precision = this.prec?.precision ?? 'f32';
    return { step: this.step, resolution: st.resolution, alpha: st.alpha, resumedFrom: this.resumedFrom, metrics: this.metrics.records, modelDir: this.modelDir, precision };
  }

  /** Frees the run's threads, handlers and tensors, whether it finished or not. */
  async close(): Promise<void> {
    this.signals?.remove();
    await this.pool?.close();
    tf.dispose(this.pending.map((p) => p.loss));
    await this.prec?.end(this.log);
    this.model.dispose();
    this.adam.dispose();
  }
}
