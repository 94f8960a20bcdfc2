/**
 * The one step path of the training loop and the engine-specific parts behind it: where a step's arithmetic
 * runs (the engine, or the data-parallel workers on CPU engines) and how often its loss is read back (every
 * step on CPU engines; every `lossEvery` steps on GPU engines, whose steps are recorded without a read).
 */
import type { LossScaler } from '@facecomb/engine';
import type { Adam } from './adam.js';
import type { CombModel } from './model.js';
import type { Batch } from './data.js';
import type { GradientPool } from './parallel.js';
import { leanTrainStep } from './lean.js';
import type { Scalar } from './tf.js';

/** Engines that run a step on their own device: the loop reads their losses every `lossEvery` steps (lean.ts). */
export const GPU_ENGINES = ['webgpu', 'tensorflow'];

/** How the loop runs a step on an engine. */
export interface StepPath {
  /** Steps run between reads of their losses (1: each loss is read after its step). */
  readonly readEvery: number;
  /** One optimisation step; its loss stays a scalar tensor until the loop reads it (readLosses). */
  step(b: Batch): Promise<Scalar>;
}

/**
 * One optimisation step: on the pool's workers when it splits the batch (CPU engines, no batch norm), on the
 * engine otherwise (webgpu: its fused kernels, and with a scaler the f16 loss scaling; lean.ts).
 */
export async function runStep(model: CombModel, adam: Adam, b: Batch, pool?: GradientPool, scaler?: LossScaler): Promise<Scalar> {
  if (!pool?.splits(model, b)) return leanTrainStep(model, adam, b, scaler);
  const shared = await pool.gradients(model, b);
  adam.apply(model.params, shared.grads);
  for (const g of Object.values(shared.grads)) g.dispose();
  return shared.value;
}

/** The step path for an engine: GPU engines read the losses every `lossEvery` steps, CPU engines every step. */
export function stepPath(model: CombModel, adam: Adam, o: { engine: string; lossEvery: number; pool?: GradientPool; scaler?: LossScaler }): StepPath {
  const gpu = GPU_ENGINES.includes(o.engine) && !o.pool;
  return {
    readEvery: gpu ? o.lossEvery : 1,
    step: (b) => runStep(model, adam, b, o.pool, o.scaler),
  };
}
