import { FIGURES, type FigureName, type Figures } from './figures.js';
import type { Threshold } from './params.js';

export interface Breach {
  figure: FigureName;
  value: number | null;
  bound: 'min' | 'max';
  limit: number;
  message: string;
}

/** The figures outside their thresholds; a threshold on a figure that was not measured is a breach too. */
export function checkThresholds(figures: Figures, thresholds: Partial<Record<FigureName, Threshold>>): Breach[] {
  const out: Breach[] = [];
  for (const [name, t] of Object.entries(thresholds) as [FigureName, Threshold][]) {
    const v = figures[name];
    for (const bound of ['min', 'max'] as const) {
      const limit = t[bound];
      if (limit === undefined) continue;
      if (v === null || !Number.isFinite(v)) {
        out.push({ figure: name, value: null, bound, limit, message: `${name} was not measured (${FIGURES[name].group}: ${unmeasured(name)}) but has a ${bound} threshold of ${limit}` });
      } else if (bound === 'min' ? v < limit : v > limit) {
        out.push({ figure: name, value: v, bound, limit, message: `${name} = ${fmt(v)} is ${bound === 'min' ? 'below its min' : 'above its max'} ${limit} (${FIGURES[name].what})` });
      }
    }
  }
  return out;
}

function unmeasured(name: FigureName): string {
  const g = FIGURES[name].group;
  if (g === 'seams' || g === 'delivered') return 'add the blend stage to the needs';
  if (g === 'reconstruction') return "the source is not the target: set 'reconstruction: true' or 'target'";
  if (g === 'stability') return 'needs two consecutive frames with a face';
  return 'no frame with a face was scored';
}

export function fmt(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '-';
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(3) : v.toFixed(4);
}
