import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@facecomb/stage';
import type { Image } from '@facecomb/image';
import { modelDir, type FaceType } from '@facecomb/align';
import type { FaceReader, FaceReading } from './faces.js';

/** Bump when FaceReader.read computes something different for the same crop (a new window, chip or net). */
const READING_VERSION = 1;

type ReadOptions = { detect?: boolean[]; minScore?: number };

interface Stored { landmarks: [number, number][]; expression: number[]; descriptor: number[]; detected?: boolean }

/** A stored reading with the shape FaceReader.read gives, or null (damaged, or without the detection asked for). */
function parse(text: string, detect: boolean): FaceReading | null {
  let s: Stored;
  try {
    s = JSON.parse(text) as Stored;
  } catch {
    return null;
  }
  const nums = (a: unknown, n: number) => Array.isArray(a) && a.length === n && a.every((v) => typeof v === 'number' && Number.isFinite(v));
  if (!Array.isArray(s.landmarks) || s.landmarks.length !== 68 || !s.landmarks.every((p) => nums(p, 2))) return null;
  if (!nums(s.expression, 7) || !nums(s.descriptor, 128) || (detect && typeof s.detected !== 'boolean')) return null;
  const r: FaceReading = { landmarks: s.landmarks, expression: s.expression, descriptor: Float32Array.from(s.descriptor) };
  if (detect) r.detected = s.detected;
  return r;
}

/**
 * The nets' readings of face crop files, kept in a stage cache folder (FACECOMB_STAGE_CACHE) under the sha256 of
 * the file's bytes plus what else decides the reading (face type, detector threshold, face-api's version, the
 * engine, READING_VERSION). A blend change reruns score, but its swap crops, plate crops and identity crops are
 * the same files: their readings come from here instead of the nets. Without a folder every crop is read.
 */
export class ReadingCache {
  /** Crops whose reading came from the folder / from the nets. */
  hits = 0;
  misses = 0;

  private constructor(private readonly dir: string | null, private readonly salt: string) {}

  static async open(dir: string | undefined, reader: FaceReader): Promise<ReadingCache> {
    if (!dir) return new ReadingCache(null, '');
    let faceapi = 'unknown';
    try {
      faceapi = String(JSON.parse(await readFile(join(modelDir(), '..', 'package.json'), 'utf8')).version);
    } catch { /* an unknown version still keys consistently within one install */ }
    return new ReadingCache(join(dir, 'readings'), `v${READING_VERSION}|face-api ${faceapi}|${reader.rt.backend}`);
  }

  private async key(file: string, faceType: FaceType, detect: boolean, minScore: number): Promise<string> {
    const h = createHash('sha256').update(`${this.salt}|${faceType}|${detect ? `detect ${minScore}` : 'no detect'}\n`);
    h.update(await readFile(file));
    return h.digest('hex');
  }

  /** FaceReader.read for crops that are files: stored readings where there are, the rest read in one batch and stored. */
  async read(reader: FaceReader, crops: Image[], files: string[], faceType: FaceType, opts: ReadOptions = {}): Promise<FaceReading[]> {
    if (!this.dir) {
      this.misses += crops.length;
      return reader.read(crops, faceType, opts);
    }
    const minScore = opts.minScore ?? 0.5;
    const detect = crops.map((_, i) => !!opts.detect?.[i]);
    const paths = await Promise.all(files.map(async (f, i) => {
      const k = await this.key(f, faceType, detect[i], minScore);
      return join(this.dir!, k.slice(0, 2), `${k}.json`);
    }));
    const out: (FaceReading | null)[] = await Promise.all(paths.map((p, i) => readFile(p, 'utf8').then((t) => parse(t, detect[i]), () => null)));
    // crops whose files have the same bytes share a path: each path is read by the nets and stored once (two
    // writes of one path raced on its temp file)
    const first = new Map<string, number>();
    for (let i = 0; i < out.length; i++) if (!out[i] && !first.has(paths[i])) first.set(paths[i], i);
    const todo = [...first.values()];
    this.hits += crops.length - todo.length;
    this.misses += todo.length;
    if (todo.length) {
      const got = await reader.read(todo.map((i) => crops[i]), faceType, { detect: todo.map((i) => detect[i]), minScore });
      // temp file then rename: a reader never sees half an entry
      todo.forEach((i, k) => {
        const r = got[k];
        writeFileAtomic(paths[i], JSON.stringify({ landmarks: r.landmarks, expression: r.expression, descriptor: Array.from(r.descriptor), detected: r.detected }));
      });
      const byPath = new Map(todo.map((i, k) => [paths[i], got[k]]));
      for (let i = 0; i < out.length; i++) out[i] ??= byPath.get(paths[i])!;
    }
    return out as FaceReading[];
  }
}
