/**
 * A lean training step for GPU engines: the forward pass, gradients and Adam update are recorded on the
 * engine and nothing is read back, so the CPU never waits for the GPU inside a step; the loss stays a tensor
 * and a batch of them is read with one GPU->CPU transfer every N steps (`readLosses`). Same arithmetic as
 * trainStep (trainer.ts), which reads the loss at every step.
 */
import { tf, type Scalar } from './tf.js';
import type { LossScaler } from '@facecomb/engine';
import type { CombModel, BatchStat } from './model.js';
import type { Adam } from './adam.js';
import { gradients } from './gradients.js';
import type { Batch } from './data.js';

/**
 * One optimisation step; returns the loss as a scalar tensor (the caller disposes it, e.g. via readLosses).
 * With a loss scaler (f16): the gradients of loss * scale are checked for inf/NaN, Adam unscales them and
 * skips the step if one was found, and the scale is updated, all on the GPU.
 */
export function leanTrainStep(model: CombModel, adam: Adam, b: Batch, scaler?: LossScaler): Scalar {
  const stats: BatchStat[] = [];
  const { value, grads } = gradients(model, b, stats, undefined, scaler?.scale);
  if (scaler) scaler.checkAll(Object.values(grads));
  adam.apply(model.params, grads, scaler);
  scaler?.update();
  for (const g of Object.values(grads)) g.dispose();
  model.updateRunningStats(stats);
  return value;
}

/**
 * Reads scalar losses with one transfer and disposes them; throws on a non-finite loss, naming its step
 * (`where(i)` says which step losses[i] is; by default its place in the run).
 */
export async function readLosses(losses: Scalar[], where = (i: number) => `step ${i + 1} of the last ${losses.length}`): Promise<number[]> {
  if (!losses.length) return [];
  const all = tf.stack(losses);
  const values = [...(await all.data())];
  tf.dispose([all, ...losses]);
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new Error(`loss is ${values[bad]} at ${where(bad)}; lower 'lr'`);
  return values;
}
