/** The training loop: progressive schedule, one identity per step, checkpoints, metrics, previews, Ctrl-C. */
import type { TrainConfig } from './config.js';
import type { CombModel } from './model.js';
import { readLosses } from './lean.js';
import type { Adam } from './adam.js';
import type { GradientPool } from './parallel.js';
import type { Batch, IdentitySet } from './data.js';
import type { BatchPlan } from './memory.js';
import type { LossScaleOptions } from '@facecomb/engine';
import type { MetricsRecord } from './metrics-log.js';
import { runStep } from './step-path.js';
import { TrainRun } from './train-run.js';

export type { MetricsRecord } from './metrics-log.js';
export { GPU_ENGINES } from './step-path.js';
export { Interrupted } from './train-run.js';

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

/**
 * One optimisation step on a batch; returns the loss, read back at every step (CPU engines; on GPU engines train()
 * runs lean.ts's step and reads the losses every `lossEvery` steps). With a pool, the batch is split over its workers when it can be.
 */
export async function trainStep(model: CombModel, adam: Adam, b: Batch, pool?: GradientPool): Promise<number> {
  const value = await runStep(model, adam, b, pool);
  const [loss] = await readLosses([value], () => `step ${b.step + 1} (identity ${model.cfg.model.identities[b.identity]})`);
  return loss;
}

/** Trains on the schedule (resuming from the checkpoint when there is one): the loop over a run's named steps. */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const run = await TrainRun.open(opts);
  try {
    while (run.step < run.total) {
      await run.grow();
      await run.after(await run.trainStep());
    }
    return await run.finish();
  } finally {
    await run.close();
  }
}
