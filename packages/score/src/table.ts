import { FIGURES, type FigureName } from './figures.js';
import { fmt } from './gate.js';
import type { ScoreResult } from './score.js';

/** The summary as a text table: one line per figure, grouped, with what it measures. */
export function scoreTable(r: ScoreResult): string {
  const lines = [
    `source ${r.source}, target ${r.target ?? '(not a trained identity: the plate\'s own faces)'}; ` +
      `${r.counts.scored} of ${r.counts.frames} frames scored (${r.counts.noFace} without a face in the plate, ${r.counts.missing} without a swapped face)`,
  ];
  const w = Math.max(...Object.keys(FIGURES).map((k) => k.length));
  let group = '';
  for (const [name, f] of Object.entries(FIGURES) as [FigureName, (typeof FIGURES)[FigureName]][]) {
    const v = r.figures[name];
    if (v === null) continue;
    if (f.group !== group) { group = f.group; lines.push(`${group}:`); }
    lines.push(`  ${name.padEnd(w)}  ${fmt(v).padStart(9)}  ${f.better.padEnd(7)}  ${f.what}`);
  }
  return lines.join('\n');
}
