import { DELIVERED_GROUPS, FIGURES, type FigureName } from './figures.js';
import { fmt } from './gate.js';
import type { ScoreResult } from './score.js';

const HEADINGS: Record<string, string> = {
  delivered: 'delivered (the face found again in the blended plate)',
  crops: "swap crops, before the blend (diagnostics of the decoder's output):",
};

/** The summary as a text table: one line per figure, grouped (delivered first), with what it measures. */
export function scoreTable(r: ScoreResult): string {
  const lines = [
    `source ${r.source}, target ${r.target ?? '(not a trained identity: the plate\'s own faces)'}; ` +
      `${r.counts.scored} of ${r.counts.frames} frames scored (${r.counts.noFace} without a face in the plate, ${r.counts.missing} without a swapped face)`,
  ];
  const w = Math.max(...Object.keys(FIGURES).map((k) => k.length));
  let group = '', crops = false;
  for (const [name, f] of Object.entries(FIGURES) as [FigureName, (typeof FIGURES)[FigureName]][]) {
    const v = r.figures[name];
    if (v === null) continue;
    const crop = !DELIVERED_GROUPS.includes(f.group);
    if (crop && !crops) { crops = true; lines.push(HEADINGS.crops); }
    const indent = crop ? '  ' : '';
    if (f.group !== group) { group = f.group; lines.push(`${indent}${HEADINGS[group] ?? group}:`); }
    lines.push(`${indent}  ${name.padEnd(w)}  ${fmt(v).padStart(9)}  ${f.better.padEnd(7)}  ${f.what}`);
  }
  return lines.join('\n');
}
