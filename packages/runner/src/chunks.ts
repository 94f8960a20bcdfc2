/**
 * Frame chunks: a per-frame stage with `chunk: N` runs as one job per N frames (each its own cache entry), then
 * an assembly job links the chunks' files into the stage's artifact, which equals an unchunked run's. The chunk
 * size is not in the stage key: a changed size reruns nothing whose stage entry is cached.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { StageStore } from './cache.js';
import { canonicalJson, KEY_FORMAT } from './plan.js';
import type { ChunkSpec } from './registry.js';
import { readJsonOrNull } from '@facecomb/stage';

export interface ChunkRef {
  key: string;
  frames: [number, number];
}

/** Key of the chunk of stage `stageKey` that computes frames [first, last]. */
export function chunkKey(stageKey: string, frames: [number, number]): string {
  return createHash('sha256').update(canonicalJson({ format: KEY_FORMAT, chunkOf: stageKey, frames })).digest('hex');
}

/** Splits sorted frame numbers into runs of `n` frames: [[first, last], ...]. */
export function chunkRanges(frames: number[], n: number): [number, number][] {
  const sorted = [...new Set(frames)].sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (let i = 0; i < sorted.length; i += n) out.push([sorted[i], sorted[Math.min(i + n, sorted.length) - 1]]);
  return out;
}

const isFrameList = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => Number.isInteger(x));
/** `{"12": ..., "13": ...}`: per-frame values keyed by frame number (align's noFaceReasons). */
const isFrameMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).every((k) => /^-?\d+$/.test(k));

/**
 * The frame numbers a chunked stage splits: every frame listed (meta.json `frames`) by any of its needs, so a
 * need that lists fewer (swap: the frames with a face) leaves no frame out.
 */
export function upstreamFrames(cache: StageStore, stage: string, needs: [string, string][]): number[] {
  const all = new Set<number>();
  for (const [, key] of needs) {
    // no meta.json: look at the next one
    const meta = readJsonOrNull(join(cache.artifacts(key), 'meta.json'));
    if (meta && isFrameList(meta.frames)) for (const f of meta.frames) all.add(f);
  }
  if (!all.size) throw new Error(`stage '${stage}' has 'chunk' but none of its needs (${needs.map(([n]) => n).join(', ') || 'none'}) lists its frames in meta.json ("frames": [numbers], docs/ARTIFACTS.md)`);
  return [...all].sort((a, b) => a - b);
}

/**
 * Merges the chunks' meta.json: `sum` fields add up, frame-number lists concatenate, objects keyed by frame
 * number unite, other fields must agree.
 */
export function mergeMeta(metas: { frames: [number, number]; meta: Record<string, unknown> }[], spec: ChunkSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of Object.keys(metas[0].meta)) {
    const vals = metas.map((m) => m.meta[field]);
    if (spec.sum.includes(field) && vals.every((v) => typeof v === 'number')) out[field] = (vals as number[]).reduce((a, b) => a + b, 0);
    else if (vals.every(isFrameList)) out[field] = [...new Set((vals as number[][]).flat())].sort((a, b) => a - b);
    else if (vals.every(isFrameMap) && vals.some((v) => Object.keys(v).length)) out[field] = Object.assign({}, ...vals);
    else {
      const bad = metas.findIndex((m) => canonicalJson(m.meta[field]) !== canonicalJson(vals[0]));
      if (bad >= 0) {
        const at = (i: number) => `frames ${metas[i].frames[0]}-${metas[i].frames[1]}: ${JSON.stringify(vals[i])}`;
        throw new Error(`meta.json field '${field}' differs between chunks (${at(0)}; ${at(bad)}): the kind cannot merge it (list it in its stages.json "chunk": {"sum": [...]} if it is a count, or drop 'chunk' from the stage)`);
      }
      out[field] = vals[0];
    }
  }
  return out;
}

/** Indentation of a JSON text as written by JSON.stringify (so a merged meta.json is byte-equal to a whole run's). */
function jsonIndent(text: string): number {
  const m = /^\{\n( +)"/.exec(text);
  return m ? m[1].length : 0;
}

/**
 * Builds a stage's artifact in `out` from its committed chunks: every file is hard-linked (copied across
 * filesystems); a path written by two chunks must have the same content; meta.json files are merged.
 * Returns the summary stored in the manifest.
 */
export async function assembleChunks(cache: StageStore, chunks: ChunkRef[], out: string, spec: ChunkSpec): Promise<Record<string, unknown>> {
  const seen = new Map<string, { sha256: string; frames: [number, number] }>();
  const metas: { frames: [number, number]; meta: Record<string, unknown> }[] = [];
  let metaText = '';
  mkdirSync(out, { recursive: true });
  for (const c of chunks) {
    const m = cache.manifest(c.key);
    if (!m) throw new Error(`chunk ${c.frames[0]}-${c.frames[1]} (${c.key.slice(0, 12)}) is not in the cache ${cache.cacheDir}`);
    const src = cache.artifacts(c.key);
    for (const f of m.outputs) {
      if (f.path === 'meta.json') {
        metaText = readFileSync(join(src, f.path), 'utf8');
        metas.push({ frames: c.frames, meta: JSON.parse(metaText) as Record<string, unknown> });
        continue;
      }
      const prev = seen.get(f.path);
      if (prev) {
        if (prev.sha256 !== f.sha256) throw new Error(`chunks ${prev.frames.join('-')} and ${c.frames.join('-')} both wrote ${f.path} with different content: only per-frame files may be split (name them by frame number)`);
        continue;
      }
      seen.set(f.path, { sha256: f.sha256, frames: c.frames });
      const dest = join(out, f.path);
      mkdirSync(dirname(dest), { recursive: true });
      try {
        linkSync(join(src, f.path), dest);
      } catch {
        copyFileSync(join(src, f.path), dest);
      }
    }
  }
  if (metas.length) {
    if (metas.length !== chunks.length) throw new Error(`only ${metas.length} of ${chunks.length} chunks wrote meta.json`);
    const indent = jsonIndent(metaText);
    writeFileSync(join(out, 'meta.json'), `${JSON.stringify(mergeMeta(metas, spec), null, indent || undefined)}${metaText.endsWith('\n') ? '\n' : ''}`);
  }
  if (!existsSync(out)) mkdirSync(out);
  return { chunks: chunks.length, first: chunks[0]?.frames[0] ?? null, last: chunks.at(-1)?.frames[1] ?? null };
}
