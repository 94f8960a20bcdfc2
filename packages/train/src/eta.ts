/**
 * The time left of a training run, level by level: a level already trained at uses its own measured time
 * per step; a level not reached yet is estimated from the nearest measured level below it, scaled by the
 * work of a batch (batch x the forward pass's multiply-accumulates: the pixels of each level times its
 * channels). Projecting the current level's speed onto every remaining step instead is off by about 2x
 * through the early, cheap levels.
 */
import type { TrainConfig } from './config.js';
import { phases } from './schedule.js';
import { forwardMacs } from './flops.js';

export class Eta {
  /** resolution -> moving average of ms per step. */
  private readonly ms = new Map<number, number>();

  constructor(readonly cfg: TrainConfig) {}

  /** Records a step's time at a resolution. */
  observe(resolution: number, ms: number): void {
    const old = this.ms.get(resolution);
    this.ms.set(resolution, old === undefined ? ms : 0.9 * old + 0.1 * ms);
  }

  /** Estimated ms per step at resolution r (NaN before any step was measured). */
  msPerStep(r: number): number {
    const own = this.ms.get(r);
    if (own !== undefined) return own;
    const known = [...this.ms.keys()].sort((a, b) => a - b);
    if (!known.length) return NaN;
    const from = [...known].reverse().find((k) => k < r) ?? known[0];
    const work = (res: number) => (this.cfg.schedule.batch[String(res)] ?? 1) * forwardMacs(res, this.cfg.model.channels, this.cfg.model.latent);
    return this.ms.get(from)! * (work(r) / work(from));
  }

  /** Seconds left from step `done` (steps done) to `total`. */
  remainingSeconds(done: number, total: number): number {
    let ms = 0;
    for (const p of phases(this.cfg)) {
      const from = Math.max(done, p.start);
      const to = Math.min(total, p.start + p.steps);
      if (to > from) ms += (to - from) * this.msPerStep(p.resolution);
    }
    return ms / 1000;
  }
}
