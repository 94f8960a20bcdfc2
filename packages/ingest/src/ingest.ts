import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { convertSequence, extractAudio, extractFrames, checkRange, type BitDepthParam, type FrameRange, type ScaleLimit } from './extract.js';
import { assertFile, probe } from './probe.js';
import { isSequenceSource, listSequence } from './sequence.js';

/** meta.json of an `ingest` (and `synth`) artifact, see docs/ARTIFACTS.md. */
export interface FramesMeta {
  kind: 'ingest' | 'synth';
  source: string;
  fps: number;
  /** The frame rate as ffmpeg writes it ("25", "30000/1001"). */
  fpsRational: string;
  width: number;
  height: number;
  bitDepth: 8 | 16;
  frames: number[];
  first: number;
  last: number;
  count: number;
  audio: string | null;
  /** Seconds: count / fps. */
  duration: number;
  [extra: string]: unknown;
}

export interface IngestOptions {
  /** Video file, or image sequence (printf pattern, #### pattern, glob, single image). Absolute or cwd-relative. */
  src: string;
  /** Output folder: frames/, audio.m4a, meta.json are written here. */
  out: string;
  range?: FrameRange;
  /** Frame rate of an image sequence (default 25); ignored for videos, which keep their own. */
  fps?: number;
  scale?: ScaleLimit;
  bitDepth?: BitDepthParam;
  onProgress?: (done: number, total: number) => void;
}

function fpsToRational(fps: number): string {
  if (Number.isInteger(fps)) return String(fps);
  for (const base of [24, 30, 60, 120]) {
    if (Math.abs(fps - (base * 1000) / 1001) < 1e-3) return `${base * 1000}/1001`;
  }
  return `${Math.round(fps * 1000)}/1000`;
}

/** Ingests a video or an image sequence into `out` (frames/NNNNNN.png, audio.m4a, meta.json). */
export async function ingest(opts: IngestOptions): Promise<FramesMeta> {
  const src = resolve(opts.src);
  const framesDir = join(opts.out, 'frames');
  await mkdir(framesDir, { recursive: true });
  let meta: FramesMeta;
  if (isSequenceSource(src)) {
    const fps = opts.fps ?? 25;
    if (!(fps > 0)) throw new Error(`fps must be a positive number, got ${opts.fps}`);
    const all = await listSequence(src);
    const [s, e] = checkRange(opts.range, all[0].number, all[all.length - 1].number, src);
    const selected = all.filter((f) => f.number >= s && f.number <= e);
    if (selected.length === 0) throw new Error(`range [${s}, ${e}] selects no file of image sequence ${src}`);
    const r = await convertSequence({ frames: selected, outDir: framesDir, scale: opts.scale, bitDepth: opts.bitDepth, onProgress: opts.onProgress });
    const gaps = r.frames[r.frames.length - 1] - r.frames[0] + 1 - r.frames.length;
    meta = {
      kind: 'ingest', source: src, fps, fpsRational: fpsToRational(fps), width: r.width, height: r.height, bitDepth: r.bitDepth,
      frames: r.frames, first: r.frames[0], last: r.frames[r.frames.length - 1], count: r.frames.length, audio: null,
      duration: r.frames.length / fps, sourceType: 'sequence', missing: gaps,
    };
  } else {
    await assertFile(src, 'input video');
    const info = await probe(src);
    const r = await extractFrames({ src, outDir: framesDir, range: opts.range, scale: opts.scale, bitDepth: opts.bitDepth, onProgress: opts.onProgress, info });
    const first = r.frames[0], last = r.frames[r.frames.length - 1], count = r.frames.length;
    let audio: string | null = null;
    if (info.audio) {
      const whole = first === 1 && info.video?.framesExact && last === info.video.frames;
      await extractAudio({ src, out: join(opts.out, 'audio.m4a'), start: (first - 1) / r.fps, duration: count / r.fps, copy: whole && info.audio.codec === 'aac' });
      audio = 'audio.m4a';
    }
    meta = {
      kind: 'ingest', source: src, fps: r.fps, fpsRational: r.fpsRational, width: r.width, height: r.height, bitDepth: r.bitDepth,
      frames: r.frames, first, last, count, audio, duration: count / r.fps, sourceType: 'video',
      video: { codec: info.video!.codec, pixFmt: info.video!.pixFmt, width: info.video!.width, height: info.video!.height, frames: info.video!.frames },
      sourceAudio: info.audio,
    };
  }
  await writeFile(join(opts.out, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  return meta;
}
