/** Per-kind data for a stage's view, read from its artifact folder (layouts: docs/ARTIFACTS.md). */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { StageView } from './types.js';
import { frameName } from '@facecomb/stage';
import { readJson, type Json } from './json.js';

/** Frame numbers of an artifact folder: meta.json `frames`, else the names in `<sub>/`. */
function frameNumbers(dir: string, meta: Json | null, sub: string): number[] {
  if (Array.isArray(meta?.frames) && meta.frames.every((f) => typeof f === 'number')) return meta.frames as number[];
  try {
    return readdirSync(join(dir, sub))
      .map((n) => /^(\d+)\.(png|json)$/.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  } catch {
    return [];
  }
}

/** A pair of frame sequences shown side by side with a wipe: `a` (before) and `b` (after), both `<dir>/NNNNNN.png`. */
export interface Compare {
  a: { label: string; dir: string };
  b: { label: string; dir: string };
  frames: number[];
}

/** A dataset's faces: the items it kept (train or held out) and the frames of its clips it rejected. */
export interface DatasetGrid {
  items: { crop: string; clip: string; frame: number; split: string }[];
  rejected: { clip: string; frame: number; why: string; crop: string | null }[];
}

export interface StageDetail {
  view: StageView;
  /** Frames per second of the clip the frames come from (playback rate). */
  fps?: number;
  meta: Json | null;
  params: Json | null;
  /** Top-level names in the artifact folder (folders end with '/'). */
  files: string[];
  frames?: { dir: string; frames: number[] };
  align?: { contact: string | null; faces: string; plate: string | null; frames: number[]; withFace: number };
  /** checkpoints: the steps of the snapshots train kept (`checkpoints/step-NNNNNN`), for swap's `step:`. */
  train?: { previews: { step: number; files: { identity: string; path: string }[] }[]; identities: string[]; checkpoints: number[] };
  compare?: Compare;
  videos?: string[];
  images?: string[];
  /** The score stage's figures (set by the server: overview.ts scoreView). */
  score?: unknown;
  dataset?: DatasetGrid;
}

/** Upstream stage name -> its view (for the plate frames an align, swap or blend is compared with). */
export type Upstream = Map<string, StageView>;

export function stageDetail(root: string, view: StageView, upstream: Upstream, params: Json | null): StageDetail {
  const d: StageDetail = { view, meta: null, params, files: [] };
  if (!view.dir) return d;
  const abs = join(root, view.dir);
  d.meta = readJson(join(abs, 'meta.json'));
  try {
    d.files = readdirSync(abs, { withFileTypes: true }).map((e) => (e.isDirectory() ? `${e.name}/` : e.name)).sort();
  } catch {
    return d;
  }
  const up = [...upstream.values()];
  const upDir = (kinds: string[], sub: string) => {
    const u = up.find((s) => kinds.includes(s.kind) && s.dir);
    return u ? `${u.dir}/${sub}` : null;
  };
  const kind = String(d.meta?.kind ?? view.kind);
  d.fps = clipFps(root, d.meta, up);
  if (kind === 'dataset') d.dataset = datasetGrid(root, view.dir, up, Number(params?.minScore ?? 0));
  if (kind === 'ingest' || kind === 'synth') d.frames = { dir: `${view.dir}/frames`, frames: frameNumbers(abs, d.meta, 'frames') };
  if (kind === 'align') {
    const frames = frameNumbers(abs, d.meta, 'faces');
    d.align = {
      contact: existsSync(join(abs, 'contact.png')) ? `${view.dir}/contact.png` : null,
      faces: `${view.dir}/faces`,
      plate: upDir(['ingest', 'synth'], 'frames'),
      frames,
      withFace: Array.isArray(d.meta?.withFace) ? (d.meta.withFace as unknown[]).length : frames.length,
    };
  }
  if (kind === 'train') {
    const byStep = new Map<number, { identity: string; path: string }[]>();
    let names: string[] = [];
    try {
      names = readdirSync(join(abs, 'previews'));
    } catch {
      /* no previews yet */
    }
    for (const n of names) {
      const m = /^(\d+)_(.+)\.png$/.exec(n);
      if (!m) continue;
      const step = Number(m[1]);
      if (!byStep.has(step)) byStep.set(step, []);
      byStep.get(step)!.push({ identity: m[2], path: `${view.dir}/previews/${n}` });
    }
    const identities = Array.isArray(d.meta?.identities) ? (d.meta.identities as string[]) : [...new Set([...byStep.values()].flat().map((f) => f.identity))];
    let kept: string[] = [];
    try {
      kept = readdirSync(join(abs, 'checkpoints'));
    } catch {
      /* none kept */
    }
    d.train = {
      checkpoints: kept
        .map((n) => /^step-(\d+)$/.exec(n))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => Number(m[1]))
        .sort((a, b) => a - b),
      previews: [...byStep.entries()].sort((a, b) => a[0] - b[0]).map(([step, files]) => ({ step, files: files.sort((a, b) => identities.indexOf(a.identity) - identities.indexOf(b.identity)) })),
      identities,
    };
  }
  if (kind === 'swap') {
    const crops = upDir(['align'], 'crops');
    // `source: all` writes faces/<identity>/: the compare shows the first identity's, named in its label
    const ids = d.meta?.source === 'all' && Array.isArray(d.meta.identities) ? (d.meta.identities as unknown[]).filter((x): x is string => typeof x === 'string') : [];
    const sub = ids.length ? `faces/${ids[0]}` : 'faces';
    const label = ids.length ? `swap: ${ids[0]} (1 of ${ids.length} identities)` : 'swap';
    d.compare = { a: { label: 'target crop', dir: crops ?? `${view.dir}/${sub}` }, b: { label, dir: `${view.dir}/${sub}` }, frames: frameNumbers(abs, d.meta, sub) };
  }
  if (kind === 'blend') {
    const plate = upDir(['ingest', 'synth'], 'frames');
    d.compare = { a: { label: 'plate', dir: plate ?? `${view.dir}/frames` }, b: { label: 'blend', dir: `${view.dir}/frames` }, frames: frameNumbers(abs, d.meta, 'frames') };
  }
  d.videos = d.files.filter((f) => /\.(mp4|mov|webm|m4v)$/i.test(f)).map((f) => `${view.dir}/${f}`);
  d.images = d.files.filter((f) => /\.(png|jpe?g)$/i.test(f) && !(kind === 'align' && f === 'contact.png')).map((f) => `${view.dir}/${f}`);
  return d;
}

/** The clip's frame rate: the folder's own meta.json `fps`, else an upstream frame folder's (24 when none says). */
function clipFps(root: string, meta: Json | null, up: StageView[]): number {
  const own = Number(meta?.fps);
  if (own > 0) return own;
  for (const u of up) {
    const m = u.dir ? readJson(join(root, u.dir, 'meta.json')) : null;
    const f = Number(m?.fps ?? (m?.source as Json | undefined)?.fps);
    if (f > 0) return f;
  }
  return 24;
}

/**
 * The faces of a dataset: items.json (train / heldout), and per upstream align stage the frames it did not
 * keep, with why (no face, or a detection score under the dataset's minScore).
 */
function datasetGrid(root: string, dir: string, up: StageView[], minScore: number): DatasetGrid {
  const items = readJsonArray(join(root, dir, 'items.json')).map((it) => ({
    crop: `${dir}/${String(it.crop)}`,
    clip: String(it.clip),
    frame: Number(it.frame),
    split: String(it.split),
  }));
  const kept = new Set(items.map((i) => `${i.clip}:${i.frame}`));
  const rejected: DatasetGrid['rejected'] = [];
  for (const u of up) {
    if (u.kind !== 'align' || !u.dir) continue;
    const abs = join(root, u.dir);
    for (const f of frameNumbers(abs, readJson(join(abs, 'meta.json')), 'faces')) {
      if (kept.has(`${u.name}:${f}`)) continue;
      const face = readJson(join(abs, 'faces', frameName(f, 'json')))?.face as { score?: number } | null | undefined;
      const why = !face ? 'no face' : typeof face.score === 'number' && face.score < minScore ? `score ${face.score.toFixed(2)} < ${minScore}` : 'not used';
      const crop = frameName(f);
      rejected.push({ clip: u.name, frame: f, why, crop: existsSync(join(abs, 'crops', crop)) ? `${u.dir}/crops/${crop}` : null });
    }
  }
  return { items, rejected };
}

function readJsonArray(file: string): Json[] {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return Array.isArray(v) ? (v as Json[]) : [];
  } catch {
    return [];
  }
}

/** A train's metrics.jsonl as chart columns. */
export interface TrainMetrics {
  step: number[];
  losses: Record<string, (number | null)[]>;
  /** Held-out loss (lines with `heldoutLosses`, one per identity, else `heldoutLoss`), null on the steps without one. */
  heldout: Record<string, (number | null)[]>;
  imgPerSec: number[];
  msPerStep: number[];
  resolution: number[];
  alpha: number[];
  /** Where the schedule changes: a new resolution starts fading in, or its fade-in ends (from every line). */
  marks: { step: number; what: string }[];
  last: Json | null;
}

/**
 * Loss curves of a train folder's metrics.jsonl as columns, thinned to at most `max` points (every line with
 * a held-out loss is kept); the schedule marks come from every line.
 */
export function trainMetrics(file: string, max = 4000): TrainMetrics {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    /* not written yet */
  }
  const lines = text.split('\n').filter((l) => l.trim());
  const every = Math.max(1, Math.ceil(lines.length / max));
  const out: TrainMetrics = { step: [], losses: {}, heldout: {}, imgPerSec: [], msPerStep: [], resolution: [], alpha: [], marks: [], last: null };
  const push = (cols: Record<string, (number | null)[]>, values: Record<string, number | null>, n: number) => {
    for (const [id, v] of Object.entries(values)) {
      cols[id] ??= new Array<number | null>(n).fill(null);
      cols[id].push(typeof v === 'number' && Number.isFinite(v) ? v : null);
    }
    for (const col of Object.values(cols)) if (col.length < n + 1) col.push(null);
  };
  let prev: { resolution: number; alpha: number } | null = null;
  for (let i = 0; i < lines.length; i++) {
    let r: Json;
    try {
      r = JSON.parse(lines[i]) as Json;
    } catch {
      continue; // a line being written
    }
    const res = Number(r.resolution);
    const alpha = Number(r.alpha);
    if (prev && res !== prev.resolution) out.marks.push({ step: Number(r.step), what: `${res} px fades in` });
    else if (prev && prev.alpha < 1 && alpha >= 1) out.marks.push({ step: Number(r.step), what: `${res} px stable` });
    if (Number.isFinite(res)) prev = { resolution: res, alpha };
    const ho = r.heldoutLosses ?? r.heldoutLoss;
    if (i % every !== 0 && i !== lines.length - 1 && ho === undefined) continue;
    const n = out.step.length;
    out.step.push(Number(r.step));
    out.imgPerSec.push(Number(r.imgPerSec));
    out.msPerStep.push(Number(r.msPerStep));
    out.resolution.push(res);
    out.alpha.push(alpha);
    push(out.losses, (r.losses ?? {}) as Record<string, number | null>, n);
    push(out.heldout, typeof ho === 'number' ? { 'held-out': ho } : ho && typeof ho === 'object' ? (ho as Record<string, number | null>) : {}, n);
    if (r.losses) out.last = r;
  }
  return out;
}

type Pt = [number, number];

/**
 * Jitter per frame, raw vs stabilised: the mean distance each of the 68 landmarks moved since the previous
 * frame with a face, in inter-ocular units (so shots of any size compare).
 */
export function alignJitter(facesDir: string, frames: number[]): { frame: number[]; raw: (number | null)[]; stabilised: (number | null)[] } {
  const out = { frame: [] as number[], raw: [] as (number | null)[], stabilised: [] as (number | null)[] };
  let prev: { raw: Pt[]; st: Pt[] } | null = null;
  for (const f of frames) {
    const j = readJson(join(facesDir, frameName(f, 'json')));
    const face = j?.face as { landmarksRaw?: Pt[]; landmarks?: Pt[] } | null | undefined;
    out.frame.push(f);
    if (!face?.landmarks || !face.landmarksRaw) {
      out.raw.push(null);
      out.stabilised.push(null);
      prev = null;
      continue;
    }
    const cur = { raw: face.landmarksRaw, st: face.landmarks };
    if (prev && cur.raw.length === prev.raw.length) {
      const iod = interOcular(cur.st);
      out.raw.push(meanMove(prev.raw, cur.raw) / iod);
      out.stabilised.push(meanMove(prev.st, cur.st) / iod);
    } else {
      out.raw.push(null);
      out.stabilised.push(null);
    }
    prev = cur;
  }
  return out;
}

function meanMove(a: Pt[], b: Pt[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.hypot(b[i][0] - a[i][0], b[i][1] - a[i][1]);
  return s / a.length;
}

/** Distance between the eye centres (68-point layout: 36-41 and 42-47). */
function interOcular(p: Pt[]): number {
  const c = (from: number) => {
    let x = 0;
    let y = 0;
    for (let i = from; i < from + 6; i++) {
      x += p[i][0];
      y += p[i][1];
    }
    return [x / 6, y / 6];
  };
  if (p.length < 48) return 1;
  const [l, r] = [c(36), c(42)];
  return Math.max(1e-6, Math.hypot(r[0] - l[0], r[1] - l[1]));
}
