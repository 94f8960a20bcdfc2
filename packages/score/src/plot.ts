import sharp from 'sharp';
import type { ScoreResult } from './score.js';

interface Series { name: string; colour: string; values: (number | null)[] }
interface Panel { title: string; series: Series[]; ref?: { value: number; label: string } }

const W = 960, PH = 170, LEFT = 60, RIGHT = 180, TOP = 28;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function panelSvg(p: Panel, y0: number, frames: number[]): string {
  const all = p.series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  if (p.ref) all.push(p.ref.value);
  let lo = Math.min(0, ...all), hi = Math.max(...all, lo + 1e-6);
  hi += (hi - lo) * 0.08;
  if (!all.length) { lo = 0; hi = 1; }
  const pw = W - LEFT - RIGHT, ph = PH - 40;
  const x = (i: number) => LEFT + (frames.length > 1 ? (i / (frames.length - 1)) * pw : pw / 2);
  const y = (v: number) => y0 + TOP + ph - ((v - lo) / (hi - lo)) * ph;
  const out = [
    `<text x="${LEFT}" y="${y0 + 18}" font-size="14" font-weight="bold">${esc(p.title)}</text>`,
    `<rect x="${LEFT}" y="${y0 + TOP}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`,
    `<text x="${LEFT - 6}" y="${y0 + TOP + 10}" font-size="11" text-anchor="end">${hi.toPrecision(3)}</text>`,
    `<text x="${LEFT - 6}" y="${y0 + TOP + ph}" font-size="11" text-anchor="end">${lo.toPrecision(3)}</text>`,
    `<text x="${LEFT}" y="${y0 + TOP + ph + 14}" font-size="11">frame ${frames[0] ?? ''}</text>`,
    `<text x="${LEFT + pw}" y="${y0 + TOP + ph + 14}" font-size="11" text-anchor="end">${frames[frames.length - 1] ?? ''}</text>`,
  ];
  if (p.ref) {
    out.push(`<line x1="${LEFT}" x2="${LEFT + pw}" y1="${y(p.ref.value)}" y2="${y(p.ref.value)}" stroke="#888" stroke-dasharray="5,4"/>`);
    out.push(`<text x="${LEFT + pw - 4}" y="${y(p.ref.value) - 4}" font-size="10" text-anchor="end" fill="#666">${esc(p.ref.label)}</text>`);
  }
  p.series.forEach((s, k) => {
    // a gap (no face, no previous frame) breaks the line
    let d = '';
    s.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) { d += ' '; return; }
      d += `${d === '' || d.endsWith(' ') ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
    });
    const dots = s.values.map((v, i) => (v === null || !Number.isFinite(v) ? '' : `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2" fill="${s.colour}"/>`)).join('');
    out.push(`<path d="${d.trim()}" fill="none" stroke="${s.colour}" stroke-width="1.5"/>${dots}`);
    out.push(`<rect x="${LEFT + pw + 14}" y="${y0 + TOP + 6 + k * 18}" width="12" height="4" fill="${s.colour}"/>`);
    out.push(`<text x="${LEFT + pw + 32}" y="${y0 + TOP + 12 + k * 18}" font-size="12">${esc(s.name)}</text>`);
  });
  return out.join('\n');
}

/** The per-frame figures as a PNG: identity distances, performance, stability, detail (and seams with a blend). */
export async function plotScore(r: ScoreResult, file: string): Promise<void> {
  const fr = r.frames;
  const v = (f: (s: (typeof fr)[number]) => number | undefined) => fr.map((s) => (s.status === 'scored' ? (f(s) ?? null) : null));
  const q = (pair: [number, number] | undefined) => (pair && pair[1] > 0 ? pair[0] / pair[1] : undefined);
  const ids = r.identities.map((i) => i.name);
  const palette = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
  const label = (n: string) => (n === r.source ? `${n} (source)` : n === r.target ? `${n} (target)` : n);
  const identity = (title: string, d: (s: (typeof fr)[number]) => Record<string, number> | undefined): Panel => ({
    title, ref: { value: 0.6, label: 'same person < 0.6' },
    series: ids.map((n, k) => ({ name: label(n), colour: palette[k % palette.length], values: v((s) => d(s)?.[n]) })),
  });
  const panels: Panel[] = [
    ...(fr.some((s) => s.delivered) ? [identity(`delivered: distance of the face found in the blended plate to each identity (gaps: no face found)`, (s) => s.delivered?.distances)] : []),
    identity(`swap crops: descriptor distance of the swapped face to each identity (source ${r.source})`, (s) => s.distances),
    {
      title: 'performance kept: swap vs plate',
      series: [
        { name: 'landmark error (IOD)', colour: '#1f77b4', values: v((s) => s.landmarkError) },
        { name: 'expression L1', colour: '#ff7f0e', values: v((s) => s.expressionL1) },
      ],
    },
    {
      title: 'stability: in-mask change from the previous frame',
      series: [
        { name: 'swap', colour: '#d62728', values: v((s) => s.change) },
        { name: 'plate', colour: '#7f7f7f', values: v((s) => s.changePlate) },
      ],
    },
    {
      title: 'detail: high-frequency energy, swap / plate' + (fr.some((s) => s.seam !== undefined) ? '; seam: blend / plate gradient at the mask border' : ''),
      series: [
        { name: 'mouth', colour: '#9467bd', values: v((s) => q(s.detailMouth)) },
        { name: 'eyes/forehead', colour: '#2ca02c', values: v((s) => q(s.detailEyes)) },
        ...(fr.some((s) => s.seam !== undefined) ? [{ name: 'seam', colour: '#8c564b', values: v((s) => (s.seam !== undefined && s.seamPlate ? (s.seamPlate + s.seam) / s.seamPlate : undefined)) }] : []),
      ],
      ref: { value: 1, label: 'as the plate' },
    },
  ];
  const H = panels.length * PH + 10;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
${panels.map((p, i) => panelSvg(p, i * PH, fr.map((s) => s.frame))).join('\n')}
</svg>`;
  await sharp(Buffer.from(svg)).png().toFile(file);
}
