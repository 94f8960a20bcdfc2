/** The gradients of one batch (or one shard of a batch) of the comb model's reconstruction loss. */
import { tf, type Scalar, type Tensor, type Tensor4D } from './tf.js';
import type { CombModel, BatchStat } from './model.js';
import { reconstructionLoss, type LossNorm } from './loss.js';

/** What a gradient pass needs of a batch: the step's level and identity and its samples. */
export interface GradBatch {
  identity: number;
  resolution: number;
  alpha: number;
  size: number;
  /** [B, R, R, 3]. */
  x: Float32Array;
  /** [B, R, R, 1]. */
  m: Float32Array;
}

export interface Gradients {
  value: Scalar;
  /** Model variable name -> gradient. */
  grads: Record<string, Tensor>;
}

/**
 * Loss and gradients of the variables this batch trains; `norm` makes it a shard's part of a whole batch's loss.
 * With `scale` (a scalar tensor: loss scaling for f16) the gradients are those of loss * scale; the value stays the loss.
 */
export function gradients(model: CombModel, b: GradBatch, stats: BatchStat[], norm?: LossNorm, scale?: Tensor): Gradients {
  const r = b.resolution;
  const vars = model.trainableAt(r, b.alpha, b.identity);
  const { value, grads } = tf.tidy(() => {
    const x = tf.tensor4d(b.x, [b.size, r, r, 3]);
    const m = tf.tensor4d(b.m, [b.size, r, r, 1]);
    return tf.variableGrads(() => {
      const z = model.encode(x, b.alpha, { training: true, stats });
      const y = model.decode(z, b.identity, r, b.alpha, { training: true, stats });
      const loss = reconstructionLoss(y, x as Tensor4D, m as Tensor4D, model.cfg.loss, norm);
      return scale ? scaledGradient(loss, scale) : loss;
    }, vars);
  });
  const named: Record<string, Tensor> = {};
  for (const [k, g] of Object.entries(grads)) named[model.nameOf(k)] = g;
  return { value, grads: named };
}

/** The loss unchanged, with its gradient multiplied by `scale` (one multiply, no extra pass over the loss). */
function scaledGradient(loss: Scalar, scale: Tensor): Scalar {
  const f = (l: Tensor) => ({ value: l.clone(), gradFunc: (dy: Tensor) => tf.mul(dy, scale) });
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0])(loss) as Scalar;
}

/** Samples [from, to) of a batch. */
export function shard(b: GradBatch, from: number, to: number): GradBatch {
  const px = b.resolution * b.resolution;
  return { ...b, size: to - from, x: b.x.slice(from * px * 3, to * px * 3), m: b.m.slice(from * px, to * px) };
}

/** Splits n samples into k contiguous shards as even as possible (the first ones one larger): [from, to) each. */
export function shardRanges(n: number, k: number): [number, number][] {
  const parts = Math.max(1, Math.min(k, n));
  const out: [number, number][] = [];
  let at = 0;
  for (let i = 0; i < parts; i++) {
    const len = Math.floor(n / parts) + (i < n % parts ? 1 : 0);
    out.push([at, at + len]);
    at += len;
  }
  return out;
}
