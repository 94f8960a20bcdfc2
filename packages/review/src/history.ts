/** The cached runs of one stage to compare (A/B), and folder listings for the artifact links. */
import { readdirSync } from 'node:fs';
import { safeResolve } from './paths.js';
import type { StageView } from './types.js';

/** Which frame folder of each kind's artifacts an A/B compares. */
const FRAME_FOLDER: Record<string, string> = { ingest: 'frames', synth: 'frames', align: 'crops', swap: 'faces', blend: 'frames' };

function flatten(v: unknown, prefix: string, out: Map<string, string>): void {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, JSON.stringify(v));
}

/** `a.b: value` for each param whose value differs from `base` (what tells two cached runs apart). */
export function paramsDiff(params: Record<string, unknown>, base: Record<string, unknown>): string[] {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  flatten(params, '', a);
  flatten(base, '', b);
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  return keys.filter((k) => a.get(k) !== b.get(k)).map((k) => `${k}: ${a.get(k) ?? '(unset)'}`);
}

export interface AbEntry {
  key: string;
  /** The differences from the run the page shows now ('shown' for that run itself). */
  label: string;
  startMs: number | null;
  /** Frame folder relative to the cache root, and its frame numbers. */
  dir: string;
  frames: number[];
}

/** The stage's cached runs that have a frame folder, labelled by how their params differ from the shown run. */
export function abCandidates(root: string, history: { key: string; startMs: number | null; params: Record<string, unknown> }[], view: StageView): { folder: string | null; entries: AbEntry[] } {
  const folder = FRAME_FOLDER[view.kind] ?? null;
  if (!folder) return { folder, entries: [] };
  const shownKey = view.dir?.startsWith('cache/') ? view.dir.split('/')[1] : null;
  const base = history.find((h) => h.key === shownKey)?.params ?? history[0]?.params ?? {};
  const entries: AbEntry[] = [];
  for (const h of history) {
    let names: string[];
    try {
      names = readdirSync(safeResolve(root, `cache/${h.key}/out/${folder}`));
    } catch {
      continue;
    }
    const frames = names
      .map((n) => /^(\d+)\.png$/.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((x, y) => x - y);
    if (!frames.length) continue;
    const diff = paramsDiff(h.params, base);
    const label = h.key === shownKey ? 'shown' : diff.length ? diff.join(', ') : 'same params (other inputs)';
    entries.push({ key: h.key, label, startMs: h.startMs, dir: `cache/${h.key}/out/${folder}`, frames });
  }
  return { folder, entries };
}

/** The names in a sub-folder of an artifact folder (folders end with '/'), at most `max` of them. */
export function listFolder(root: string, stageDir: string, sub: string, max = 2000): { sub: string; names: string[]; total: number } {
  const rel = [...stageDir.split('/'), ...sub.split('/').filter(Boolean)].map(encodeURIComponent).join('/');
  const abs = safeResolve(root, rel);
  const all = readdirSync(abs, { withFileTypes: true })
    .map((e) => (e.isDirectory() ? `${e.name}/` : e.name))
    .sort();
  return { sub, names: all.slice(0, max), total: all.length };
}
