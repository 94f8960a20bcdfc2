/**
 * Adam (as torch.optim.Adam: bias-corrected, eps outside the square root) with its moments in named
 * variables, so the optimizer state checkpoints exactly. A variable's step count advances only on the
 * steps that update it (decoders are trained in turn; a new level's variables start at step 0).
 */
import { tf, type Tensor, type Variable } from './tf.js';
import { adamSteps, type LossScaler } from '@facecomb/engine';

export interface AdamSettings {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export interface AdamSlot {
  m: Variable;
  v: Variable;
  t: number;
  /**
   * Loss-scaled (f16) runs: steps skipped on the GPU since the last settleSkips (int32 [1]); the step count
   * proper is t minus these (the GPU's Adam uses that, the CPU learns it at settleSkips).
   */
  skips?: Variable;
}

export class Adam {
  readonly slots = new Map<string, AdamSlot>();

  constructor(readonly s: AdamSettings) {}

  slot(name: string, like: Variable): AdamSlot {
    let sl = this.slots.get(name);
    if (!sl) {
      sl = tf.tidy(() => ({ m: tf.variable(tf.zerosLike(like), false), v: tf.variable(tf.zerosLike(like), false), t: 0 }));
      this.slots.set(name, sl);
    }
    return sl;
  }

  /** Restores a slot from stored moments. */
  setSlot(name: string, shape: number[], m: Float32Array, v: Float32Array, t: number): void {
    const old = this.slots.get(name);
    if (old) {
      old.m.dispose();
      old.v.dispose();
      old.skips?.dispose();
    }
    this.slots.set(name, tf.tidy(() => ({ m: tf.variable(tf.tensor(m, shape), false), v: tf.variable(tf.tensor(v, shape), false), t })));
  }

  /**
   * Applies one update; `grads` maps variable name -> gradient, `vars` name -> variable. With `scaler` (f16 on
   * webgpu) the gradients are scaled by its scale and a flagged step is skipped on the GPU, where it is also
   * counted in the slot's `skips` so that it does not count as a step (settleSkips brings t up to date).
   */
  apply(vars: Map<string, Variable>, grads: Record<string, Tensor>, scaler?: LossScaler): void {
    const items = Object.entries(grads).map(([name, g]) => {
      const w = vars.get(name);
      if (!w) throw new Error(`optimizer: gradient for unknown variable ${name}`);
      const sl = this.slot(name, w);
      sl.t++;
      if (scaler && !sl.skips) sl.skips = tf.tidy(() => tf.variable(tf.zeros([1], 'int32'), false));
      return { w, m: sl.m, v: sl.v, g, t: sl.t, skips: sl.skips, sl };
    });
    adamSteps(items, this.s, scaler); // webgpu: fused, several variables per dispatch, in place; tf ops elsewhere
  }

  /**
   * Subtracts the steps skipped on the GPU from each slot's t (one read for all slots; none when no slot was
   * loss-scaled), so that t is the number of updates made, e.g. before a checkpoint. Returns how many were skipped.
   */
  async settleSkips(): Promise<number> {
    const scaled = [...this.slots.values()].filter((sl) => sl.skips);
    if (!scaled.length) return 0;
    const all = tf.concat(scaled.map((sl) => sl.skips!));
    const n = await all.data();
    all.dispose();
    let total = 0;
    scaled.forEach((sl, i) => {
      sl.t -= n[i];
      total += n[i];
      tf.tidy(() => sl.skips!.assign(tf.zeros([1], 'int32')));
    });
    return total;
  }

  dispose(): void {
    for (const sl of this.slots.values()) {
      sl.m.dispose();
      sl.v.dispose();
      sl.skips?.dispose();
    }
    this.slots.clear();
  }
}
