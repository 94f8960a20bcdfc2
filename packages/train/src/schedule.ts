/** The progressive schedule: a stable phase at the start resolution, then per level a fade-in and a stable phase. */
import { levels, type TrainConfig } from './config.js';

export interface Phase {
  resolution: number;
  kind: 'fade' | 'stable';
  /** First step index (0-based) of the phase. */
  start: number;
  steps: number;
}

export interface StepPlan {
  resolution: number;
  /** Fade-in weight of the newest level: k / stepsPerFade during a fade, 1 when stable. */
  alpha: number;
  phase: 'fade' | 'stable';
  batch: number;
}

export function phases(cfg: TrainConfig): Phase[] {
  const out: Phase[] = [];
  let start = 0;
  for (const r of levels(cfg)) {
    if (r > cfg.model.startResolution) {
      out.push({ resolution: r, kind: 'fade', start, steps: cfg.schedule.stepsPerFade });
      start += cfg.schedule.stepsPerFade;
    }
    const n = cfg.schedule.stepsPerStable[String(r)];
    out.push({ resolution: r, kind: 'stable', start, steps: n });
    start += n;
  }
  return out;
}

export function totalSteps(cfg: TrainConfig): number {
  const ph = phases(cfg);
  const last = ph[ph.length - 1];
  return last.start + last.steps;
}

/** What step index `s` (0-based) trains. Steps past the end stay at the final level, alpha 1. */
export function planStep(cfg: TrainConfig, s: number): StepPlan {
  const ph = phases(cfg);
  let p = ph[ph.length - 1];
  for (const q of ph) {
    if (s >= q.start && s < q.start + q.steps) {
      p = q;
      break;
    }
  }
  const alpha = p.kind === 'fade' && s < p.start + p.steps ? (s - p.start) / p.steps : 1;
  return { resolution: p.resolution, alpha, phase: p.kind, batch: cfg.schedule.batch[String(p.resolution)] };
}
