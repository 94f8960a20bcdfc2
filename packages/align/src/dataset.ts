import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { readImage, resize, writePng } from '@facecomb/image';
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { frameName, readJson } from '@facecomb/stage';
import { readMeta } from './frames.js';
import type { FaceRecord } from './align.js';
import { transformPoints } from './umeyama.js';
import type { Point } from './template.js';

export interface DatasetParams {
  /** Identity name. */
  name: string;
  /** Fraction of clips held out (default 0.1 with >= 2 clips, else 0). */
  heldout?: number;
  /** Fraction of the frames of every training clip held out as its contiguous tail (default 0). */
  heldoutFrames?: number;
  /** Faces scoring below this are rejected (default 0). */
  minScore: number;
  /** At most this many crops per clip, evenly spaced (default: all). */
  maxPerClip?: number;
}

export interface DatasetItem {
  crop: string;
  mask: string;
  clip: string;
  frame: number;
  split: 'train' | 'heldout';
  /** The 68 landmarks in crop pixels (train's region weights and expression balancing); absent in datasets of stage version 1. */
  landmarks?: Point[];
}

export interface DatasetCounts {
  train: number;
  heldout: number;
  rejected: number;
}

export interface DatasetResult {
  items: DatasetItem[];
  counts: DatasetCounts;
  clips: { clip: string; split: 'train' | 'heldout'; usable: number; used: number; heldoutFrames: number; rejected: number; frames: number }[];
}

export function parseDatasetParams(raw: Record<string, unknown>): DatasetParams {
  const known = ['name', 'heldout', 'heldoutFrames', 'minScore', 'maxPerClip'];
  for (const k of Object.keys(raw)) if (!known.includes(k)) throw new Error(`dataset: unknown param '${k}' (known: ${known.join(', ')})`);
  if (typeof raw.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(raw.name)) {
    throw new Error(`dataset: param 'name' (the identity) is required: letters, digits, '_', '-', '.' (got ${JSON.stringify(raw.name)})`);
  }
  const p: DatasetParams = { name: raw.name, minScore: 0 };
  if (raw.heldout !== undefined) {
    if (typeof raw.heldout !== 'number' || raw.heldout < 0 || raw.heldout >= 1) throw new Error(`dataset: param 'heldout' must be a fraction of clips in [0, 1)`);
    p.heldout = raw.heldout;
  }
  if (raw.heldoutFrames !== undefined) {
    if (typeof raw.heldoutFrames !== 'number' || raw.heldoutFrames < 0 || raw.heldoutFrames >= 1) throw new Error(`dataset: param 'heldoutFrames' must be a fraction of each clip's frames in [0, 1) (got ${JSON.stringify(raw.heldoutFrames)})`);
    p.heldoutFrames = raw.heldoutFrames;
  }
  if (raw.minScore !== undefined) {
    if (typeof raw.minScore !== 'number' || raw.minScore < 0 || raw.minScore > 1) throw new Error(`dataset: param 'minScore' must be in [0, 1]`);
    p.minScore = raw.minScore;
  }
  if (raw.maxPerClip !== undefined) {
    if (!Number.isInteger(raw.maxPerClip) || (raw.maxPerClip as number) < 1) throw new Error(`dataset: param 'maxPerClip' must be a positive integer`);
    p.maxPerClip = raw.maxPerClip as number;
  }
  return p;
}

/** Which clips are held out: round(fraction * clips), at least one when fraction > 0 and there are >= 2 clips, never all; chosen by a hash of the clip name (stable when clips are added). */
export function heldoutClips(clips: string[], fraction: number): Set<string> {
  if (clips.length < 2 || fraction <= 0) return new Set();
  const k = Math.min(clips.length - 1, Math.max(1, Math.round(fraction * clips.length)));
  const order = [...clips].sort((a, b) => {
    const ha = createHash('sha1').update(a).digest('hex'), hb = createHash('sha1').update(b).digest('hex');
    return ha < hb ? -1 : ha > hb ? 1 : a < b ? -1 : 1;
  });
  return new Set(order.slice(0, k));
}

/**
 * How many of a clip's n frames its held-out tail takes: round(fraction * n), at least one when
 * fraction > 0 and n >= 2, never all. A tail (not a random sample) so held-out frames are not the
 * neighbours of training frames, except at the one boundary.
 */
export function heldoutTail(n: number, fraction: number): number {
  if (n < 2 || fraction <= 0) return 0;
  return Math.min(n - 1, Math.max(1, Math.round(fraction * n)));
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_');

/** One clip's span of an ingest's frames, as align copies it on into its meta.json (`clips`). */
export interface ClipSpan {
  source: string;
  first: number;
  last: number;
}

/** Writes to `dst` the align mask `hull` times the occlusion stage's visible-face mask `visible`. */
async function occludedMask(hull: string, visible: string, dst: string): Promise<void> {
  if (!existsSync(visible)) throw new Error(`dataset: the occlusion stage has no mask ${visible} for a face of its align stage: rerun occlusion`);
  const [h, v] = await Promise.all([readImage(hull, { channels: 1 }), readImage(visible, { channels: 1 })]);
  const w = v.width === h.width ? v : resize(v, h.width, h.height);
  await writePng(dst, { ...h, data: h.data.map((x, i) => x * w.data[i]) });
}

/** A clip of the dataset: a whole align input, or one clip of it when its ingest took several (by glob or list). */
interface ClipUnit {
  clip: string;
  input: string;
  frames: number[];
}

/** The clips of one align input: its ingest's clips (named `<input>/<file name>`) when it recorded two or more. */
export function clipUnits(input: string, frames: number[], clips: unknown): ClipUnit[] {
  const spans = Array.isArray(clips) ? (clips as ClipSpan[]).filter((c) => Number.isInteger(c.first) && Number.isInteger(c.last)) : [];
  if (spans.length < 2) return [{ clip: input, input, frames }];
  const seen = new Set<string>();
  return spans
    .map((c, i) => {
      let clip = `${input}/${basename(String(c.source ?? i + 1))}`;
      if (seen.has(clip)) clip = `${clip}#${i + 1}`;
      seen.add(clip);
      return { clip, input, frames: frames.filter((f) => f >= c.first && f <= c.last) };
    })
    .filter((u) => u.frames.length > 0);
}

/**
 * Gathers several align artifacts (one per clip; `clips` maps clip name -> folder) of one person into one
 * identity set in `out`: crops/<clip>_NNNNNN.png, masks/..., items.json, meta.json (kind "dataset").
 * `occluded` maps a clip to an occlusion stage's folder: its masks are multiplied into the clip's, so the loss
 * (weighted by the mask) ignores hands and objects in front of the face.
 */
export async function buildDataset(clips: Record<string, string>, out: string, params: DatasetParams, occluded: Record<string, string> = {}): Promise<DatasetResult> {
  const names = Object.keys(clips).sort();
  if (names.length === 0) throw new Error('dataset: needs at least one align stage');
  const metas: Record<string, Record<string, unknown>> = {};
  for (const c of names) {
    const m = await readMeta(clips[c]);
    if (m.kind !== 'align') throw new Error(`dataset: input '${c}' (${clips[c]}) has kind '${String(m.kind)}'; every input must be an align stage`);
    metas[c] = m;
  }
  const sizes = new Set(names.map((c) => metas[c].size));
  if (sizes.size > 1) throw new Error(`dataset: the clips have different crop sizes (${names.map((c) => `${c}: ${metas[c].size}`).join(', ')}); give every align stage the same 'size'`);
  const types = new Set(names.map((c) => metas[c].faceType));
  if (types.size > 1) throw new Error(`dataset: the clips have different face types (${names.map((c) => `${c}: ${metas[c].faceType}`).join(', ')}); give every align stage the same 'faceType'`);
  const units = names.flatMap((c) => clipUnits(c, (metas[c].frames as number[]) ?? [], metas[c].clips));
  if (units.length === 1 && params.heldout) {
    // align outputs made before align recorded the clips have no `clips`: a rerun of align finds them
    const old = metas[names[0]].clips === undefined ? ` (if its ingest took several clips, rerun ${names[0]}: its align output predates clip records)` : '';
    throw new Error(`dataset '${params.name}': 'heldout' (${params.heldout}) holds out whole clips, and there is only one (${names[0]})${old}; use 'heldoutFrames' to hold out the tail of each clip's frames`);
  }
  const fraction = params.heldout ?? (units.length >= 2 ? 0.1 : 0);
  const held = heldoutClips(units.map((u) => u.clip), fraction);
  await mkdir(join(out, 'crops'), { recursive: true });
  await mkdir(join(out, 'masks'), { recursive: true });
  const items: DatasetItem[] = [];
  const perClip: DatasetResult['clips'] = [];
  const counts: DatasetCounts = { train: 0, heldout: 0, rejected: 0 };
  for (const { clip: c, input, frames } of units) {
    const dir = clips[input];
    const usable: number[] = [];
    const inCrop = new Map<number, Point[]>();
    let rejected = 0;
    for (const f of frames) {
      const rec = await readJson<FaceRecord>(join(dir, 'faces', frameName(f, 'json')), `dataset '${params.name}'`);
      if (!rec.face || rec.face.score < params.minScore) rejected++;
      else {
        usable.push(f);
        inCrop.set(f, transformPoints(rec.face.matrix, rec.face.landmarks).map(([x, y]): Point => [Math.round(x * 100) / 100, Math.round(y * 100) / 100]));
      }
    }
    let used = usable;
    if (params.maxPerClip && usable.length > params.maxPerClip) {
      const k = params.maxPerClip;
      used = Array.from({ length: k }, (_, i) => usable[Math.round((i * (usable.length - 1)) / Math.max(1, k - 1))]);
      used = [...new Set(used)];
    }
    const split = held.has(c) ? 'heldout' : 'train';
    const tail = split === 'train' ? heldoutTail(used.length, params.heldoutFrames ?? 0) : 0;
    for (const [k, f] of used.entries()) {
      const name = `${safe(c)}_${frameName(f)}`;
      const s = k >= used.length - tail ? 'heldout' : split;
      await copyFile(join(dir, 'crops', frameName(f)), join(out, 'crops', name));
      if (occluded[input]) await occludedMask(join(dir, 'masks', frameName(f)), join(occluded[input], 'masks', frameName(f)), join(out, 'masks', name));
      else await copyFile(join(dir, 'masks', frameName(f)), join(out, 'masks', name));
      items.push({ crop: `crops/${name}`, mask: `masks/${name}`, clip: c, frame: f, split: s, landmarks: inCrop.get(f) });
      counts[s]++;
    }
    counts.rejected += rejected;
    perClip.push({ clip: c, split, usable: usable.length, used: used.length, heldoutFrames: tail, rejected, frames: frames.length });
  }
  if (items.length === 0) throw new Error(`dataset '${params.name}': no usable crops in any clip (${counts.rejected} frames rejected: no face or score < minScore ${params.minScore})`);
  await writeFile(join(out, 'items.json'), JSON.stringify(items, null, 1));
  const meta = { kind: 'dataset', name: params.name, size: [...sizes][0], faceType: [...types][0], counts, clips: perClip, heldoutFraction: fraction, heldoutFrames: params.heldoutFrames ?? 0 };
  await writeFile(join(out, 'meta.json'), JSON.stringify(meta, null, 2));
  return { items, counts, clips: perClip };
}
