/**
 * The loss on the datasets' held-out frames: a small fixed sample per identity, reconstructed by its own
 * decoder in inference mode (no gradient, batch-norm running statistics), with the training loss. It tells
 * learning from memorising, which the training loss (on the frames trained on) cannot.
 */
import type { TrainConfig } from './config.js';
import { loadSample, type IdentitySet, type Sample } from './data.js';
import { reconstructionLoss } from './loss.js';
import type { CombModel } from './model.js';
import { concatFloat32 } from '@facecomb/engine';
import { tf } from './tf.js';

export interface HeldoutFigures {
  /** Mean over the identities that have held-out frames. */
  mean: number;
  /** Per identity (those with held-out frames). */
  perIdentity: Record<string, number>;
}

/** Up to `count` held-out items of a set, evenly spaced (the same ones at every measurement). */
function pick<T>(items: T[], count: number): T[] {
  const stride = Math.max(1, Math.floor(items.length / count));
  return Array.from({ length: Math.min(count, items.length) }, (_, k) => items[k * stride]);
}

export class HeldoutLoss {
  private samples: Sample[][] = [];
  private loadedAt = 0;

  /** `count` samples per identity; `chunk(r)`: most samples per forward pass at resolution r (the training batch). */
  constructor(
    private readonly sets: IdentitySet[],
    private readonly count: number,
    private readonly chunk: (r: number) => number,
  ) {}

  /** Identities without held-out frames (all of them: nothing to measure). */
  get without(): string[] {
    return this.sets.filter((s) => s.heldout.length === 0).map((s) => s.name);
  }

  get empty(): boolean {
    return this.without.length === this.sets.length;
  }

  /** The held-out loss of the model as it is now, at resolution r and fade-in alpha. */
  async measure(model: CombModel, r: number, alpha: number): Promise<HeldoutFigures> {
    if (this.loadedAt !== r) {
      this.samples = await Promise.all(this.sets.map((s) => Promise.all(pick(s.heldout, this.count).map((it) => loadSample(s, it, r)))));
      this.loadedAt = r;
    }
    const perIdentity: Record<string, number> = {};
    for (const [i, set] of this.sets.entries()) {
      const all = this.samples[i];
      if (!all.length) continue;
      let sum = 0;
      const n = Math.max(1, this.chunk(r));
      for (let k = 0; k < all.length; k += n) {
        const part = all.slice(k, k + n);
        const loss = tf.tidy(() => {
          const x = tf.tensor4d(concatFloat32(part.map((s) => s.x)), [part.length, r, r, 3]);
          const m = tf.tensor4d(concatFloat32(part.map((s) => s.m)), [part.length, r, r, 1]);
          const y = model.decode(model.encode(x, alpha, { training: false }), i, r, alpha, { training: false });
          return reconstructionLoss(y, x, m, model.cfg.loss);
        });
        sum += (await loss.data())[0] * part.length;
        loss.dispose();
      }
      perIdentity[set.name] = sum / all.length;
    }
    const values = Object.values(perIdentity);
    return { mean: values.reduce((a, b) => a + b, 0) / Math.max(1, values.length), perIdentity };
  }
}

/** Held-out samples per identity: a small fixed set (the forward passes cost about one training step). */
const SAMPLES = 4;

/** The meter of a training run, or null (with a log line saying why) when it measures nothing. */
export function heldoutMeter(cfg: TrainConfig, sets: IdentitySet[], log: (line: string) => void): HeldoutLoss | null {
  if (cfg.run.heldoutEvery === 0) return null;
  const meter = new HeldoutLoss(sets, SAMPLES, (r) => cfg.schedule.batch[String(r)] ?? 8);
  if (meter.empty) {
    log(`held-out loss: skipped: no dataset has held-out frames (dataset params 'heldout' or 'heldoutFrames')`);
    return null;
  }
  if (meter.without.length) log(`held-out loss: every ${cfg.run.heldoutEvery} steps; without held-out frames: ${meter.without.join(', ')}`);
  return meter;
}
