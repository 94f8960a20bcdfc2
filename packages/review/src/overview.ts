/** What the overview shows above the graph: a picture per stage and the shot's verdict from its score gate. */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FIGURES } from '@facecomb/score/figures';
import type { StageView } from './types.js';
import { readJson, type Json } from './json.js';

function firstImage(abs: string, sub: string, pick: 'first' | 'middle' | 'last'): string | null {
  let names: string[];
  try {
    names = readdirSync(join(abs, sub)).filter((n) => /\.png$/i.test(n)).sort();
  } catch {
    return null;
  }
  if (!names.length) return null;
  const i = pick === 'first' ? 0 : pick === 'last' ? names.length - 1 : Math.floor(names.length / 2);
  return `${sub}/${names[i]}`;
}

/** The picture of an artifact folder per kind (null: the stage made none), relative to the folder. */
function pictureOf(kind: string, abs: string): string | null {
  const file = (n: string) => (existsSync(join(abs, n)) ? n : null);
  switch (kind) {
    case 'ingest':
    case 'synth':
      return firstImage(abs, 'frames', 'first');
    case 'align':
      return file('contact.png') ?? firstImage(abs, 'crops', 'first');
    case 'dataset':
      return firstImage(abs, 'crops', 'first');
    case 'train':
      return firstImage(abs, 'previews', 'last');
    case 'swap':
      return firstImage(abs, 'faces', 'middle');
    case 'blend':
      return firstImage(abs, 'frames', 'middle');
    case 'score':
      return file('score.png');
    case 'occlusion':
      return file('contact.png') ?? firstImage(abs, 'masks', 'middle');
    case 'encode':
      return file('compare.png') ?? firstImage(abs, 'png', 'first');
    default:
      return firstImage(abs, '.', 'first');
  }
}

/** Thumbnails of finished artifact folders (immutable: looked up once per folder). */
export class Pictures {
  private known = new Map<string, string | null>();

  constructor(private readonly root: string) {}

  of(view: StageView): string | null {
    if (!view.dir || view.display === 'running') return null;
    if (!this.known.has(view.dir)) {
      const p = pictureOf(view.kind, join(this.root, view.dir));
      this.known.set(view.dir, p === null ? null : `${view.dir}/${p.replace(/^\.\//, '')}`);
    }
    return this.known.get(view.dir)!;
  }
}

export interface FigureRow {
  name: string;
  value: number | null;
  group: string | null;
  better: string | null;
  what: string | null;
  min?: number;
  max?: number;
  /** Inside its thresholds (null: no threshold on it). */
  ok: boolean | null;
}

/** One score stage's figures as the page shows them: every figure with its meaning and threshold. */
export function figureRows(figures: Json, thresholds: Json): FigureRow[] {
  const names = [...new Set([...Object.keys(FIGURES), ...Object.keys(figures), ...Object.keys(thresholds)])];
  return names
    .filter((n) => n in figures || n in thresholds)
    .map((name) => {
      const raw = figures[name];
      const value = typeof raw === 'number' && Number.isFinite(raw) ? raw : null;
      const t = (thresholds[name] ?? {}) as { min?: number; max?: number };
      const meta = (FIGURES as Record<string, { group: string; better: string; what: string }>)[name];
      const bounded = typeof t.min === 'number' || typeof t.max === 'number';
      const ok = !bounded ? null : value !== null && (typeof t.min !== 'number' || value >= t.min) && (typeof t.max !== 'number' || value <= t.max);
      return { name, value, group: meta?.group ?? null, better: meta?.better ?? null, what: meta?.what ?? null, min: t.min, max: t.max, ok };
    });
}

export interface Verdict {
  /** The score stage deciding it. */
  stage: string;
  /** pass / fail: the gate's answer; unscored: no gate run for these settings yet. */
  result: 'pass' | 'fail' | 'unscored';
  /** The figures that have a threshold (the deciding ones), with the gate's own messages when it failed. */
  figures: FigureRow[];
  breaches: string[];
  /** Why there is no answer, or that it comes from a run of earlier settings. */
  note: string | null;
}

/** The last `::summary {...}` line of a log (a failed gate prints its figures before it fails). */
export function summaryFromLog(file: string): Json | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^::summary (.*)$/.exec(lines[i].trim());
    if (!m) continue;
    try {
      return JSON.parse(m[1]) as Json;
    } catch {
      return null;
    }
  }
  return null;
}

/** The gate messages of a failed score run (its last error line). */
function breachesFromLog(file: string): string[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const m = /score outside its thresholds: (.*)$/m.exec(text);
  return m ? m[1].split('; ') : [];
}

/**
 * The figures of a score stage, wherever they are: score.json of its run (cached, or the last run of a stale
 * stage), else the summary its failed run printed to the log (the runner keeps no folder of a failed run).
 */
export function scoreFigures(root: string, view: StageView, plannedThresholds: Json): { figures: Json; thresholds: Json; breaches: string[]; from: 'run' | 'failed log' } | null {
  if (view.display === 'failed' && view.log) {
    const s = summaryFromLog(join(root, view.log));
    if (s) return { figures: s, thresholds: plannedThresholds, breaches: breachesFromLog(join(root, view.log)), from: 'failed log' };
  }
  if (view.dir) {
    const s = readJson(join(root, view.dir, 'score.json'));
    if (s) return { figures: (s.summary ?? {}) as Json, thresholds: (s.thresholds ?? {}) as Json, breaches: Array.isArray(s.breaches) ? (s.breaches as string[]) : [], from: 'run' };
  }
  return null;
}

/** The shot's verdict: the last score stage of the pipeline (the one nothing after it scores again). */
export function verdictOf(root: string, stages: StageView[], params: (stage: string) => Json | undefined): Verdict | null {
  const scores = stages.filter((s) => s.kind === 'score');
  const s = scores[scores.length - 1];
  if (!s) return null;
  const planned = (params(s.name)?.thresholds ?? {}) as Json;
  const got = scoreFigures(root, s, planned);
  if (!got || s.display === 'running') {
    const note = s.display === 'running' ? 'the score stage is running' : `the score stage '${s.name}' has not run with these settings`;
    return { stage: s.name, result: 'unscored', figures: [], breaches: [], note };
  }
  const rows = figureRows(got.figures, got.thresholds).filter((r) => r.ok !== null);
  const failed = s.display === 'failed' || got.breaches.length > 0 || rows.some((r) => r.ok === false);
  const stale = s.display === 'stale' ? `from its last run; the settings changed since (${s.reasons.join('; ')})` : null;
  return { stage: s.name, result: failed ? 'fail' : 'pass', figures: rows, breaches: got.breaches, note: stale };
}

/** The score view's data: one row per figure (meaning, threshold, inside or not), the gate's messages, the plot. */
export function scoreView(root: string, view: StageView, plannedThresholds: Json): { rows: FigureRow[]; breaches: string[]; from: string; plot: string | null } | null {
  const got = scoreFigures(root, view, plannedThresholds);
  if (!got) return null;
  const plot = got.from === 'run' && view.dir && existsSync(join(root, view.dir, 'score.png')) ? `${view.dir}/score.png` : null;
  return { rows: figureRows(got.figures, got.thresholds), breaches: got.breaches, from: got.from, plot };
}
