import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { ColourDescription } from '@facecomb/image';
import { convertSequence, extractAudio, extractFrames, checkRange, type BitDepthParam, type FrameRange, type ScaleLimit } from './extract.js';
import { assertFile, probe } from './probe.js';
import { globToRegex, IMAGE_EXTENSIONS, isSequenceSource, listSequence } from './sequence.js';

/** One source clip of an ingest: which output frames came from it. */
export interface ClipRecord {
  source: string;
  /** First and last output frame numbers of this clip (inclusive). */
  first: number;
  last: number;
  count: number;
  fps: number;
  fpsRational: string;
  /** Clockwise rotation applied from the file's display matrix. */
  rotation: number;
  /** The source was variable-rate and was resampled to `fpsRational`. */
  vfr: boolean;
}

/** meta.json of an `ingest` (and `synth`) artifact, see docs/ARTIFACTS.md. */
export interface FramesMeta {
  kind: 'ingest' | 'synth';
  source: string;
  fps: number;
  /** The frame rate as a rational ("25", "30000/1001"). */
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
  /** The source's colour description (primaries, transfer, matrix, range, bit depth), carried by later stages. */
  colour?: ColourDescription;
  /** Folder of the scene-linear frames (NNNNNN.exr, EXR sources), relative to the artifact; null otherwise. */
  linear?: string | null;
  /** Source clips in output order (several for `src` as a list or glob); also written as clips.json. */
  clips?: ClipRecord[];
  [extra: string]: unknown;
}

export interface IngestOptions {
  /**
   * Video file, several video files (a list, or a glob matching videos: one clip after another, frames numbered
   * on), or an image sequence (printf pattern, #### pattern, glob, single image). Absolute or cwd-relative.
   */
  src: string | string[];
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

/** The video files of `src`: a list, a glob of videos (sorted by name), or one file; null for an image sequence. */
export async function videoSources(src: string | string[]): Promise<string[] | null> {
  if (Array.isArray(src)) {
    if (src.length === 0) throw new Error("param 'src' is an empty list: give one or more video files");
    for (const f of src) if (isSequenceSource(f)) throw new Error(`src list: ${f} is an image or sequence; a list takes video files only`);
    return src.map((f) => resolve(f));
  }
  const abs = resolve(src);
  const name = basename(abs);
  if (/[*?[]/.test(name) && !IMAGE_EXTENSIONS.has(extname(name).toLowerCase())) {
    const re = globToRegex(name);
    const entries = await readdir(dirname(abs)).catch(() => {
      throw new Error(`cannot list the folder of ${abs}: folder not found`);
    });
    const hits = entries.filter((e) => re.test(e) && !IMAGE_EXTENSIONS.has(extname(e).toLowerCase())).sort();
    if (hits.length === 0) throw new Error(`no video file in ${dirname(abs)} matches ${name}`);
    return hits.map((e) => join(dirname(abs), e));
  }
  return isSequenceSource(abs) ? null : [abs];
}

/** Ingests videos or an image sequence into `out` (frames/NNNNNN.png, audio.m4a, clips.json, meta.json). */
export async function ingest(opts: IngestOptions): Promise<FramesMeta> {
  const framesDir = join(opts.out, 'frames');
  await mkdir(framesDir, { recursive: true });
  const videos = await videoSources(opts.src);
  const meta = videos ? await ingestVideos(videos, opts) : await ingestSequence(resolve(opts.src as string), opts);
  if (meta.clips) await writeFile(join(opts.out, 'clips.json'), `${JSON.stringify(meta.clips, null, 2)}\n`);
  await writeFile(join(opts.out, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  return meta;
}

async function ingestSequence(src: string, opts: IngestOptions): Promise<FramesMeta> {
  const fps = opts.fps ?? 25;
  if (!(fps > 0)) throw new Error(`fps must be a positive number, got ${opts.fps}`);
  const all = await listSequence(src);
  const [s, e] = checkRange(opts.range, all[0].number, all[all.length - 1].number, src);
  const selected = all.filter((f) => f.number >= s && f.number <= e);
  if (selected.length === 0) throw new Error(`range [${s}, ${e}] selects no file of image sequence ${src}`);
  const r = await convertSequence({ frames: selected, outDir: join(opts.out, 'frames'), linearDir: join(opts.out, 'linear'), scale: opts.scale, bitDepth: opts.bitDepth, onProgress: opts.onProgress });
  const first = r.frames[0], last = r.frames[r.frames.length - 1];
  const fpsRational = fpsToRational(fps);
  return {
    kind: 'ingest', source: src, fps, fpsRational, width: r.width, height: r.height, bitDepth: r.bitDepth,
    frames: r.frames, first, last, count: r.frames.length, audio: null, duration: r.frames.length / fps, sourceType: 'sequence',
    missing: last - first + 1 - r.frames.length, colour: r.colour, linear: r.linear ? 'linear' : null,
    clips: [{ source: src, first, last, count: r.frames.length, fps, fpsRational, rotation: 0, vfr: false }],
  };
}

async function ingestVideos(videos: string[], opts: IngestOptions): Promise<FramesMeta> {
  if (videos.length > 1 && opts.range) throw new Error(`range applies to one video; src names ${videos.length}: cut the clips, or ingest them one by one`);
  const framesDir = join(opts.out, 'frames');
  const infos = [];
  for (const v of videos) {
    await assertFile(v, 'input video');
    infos.push(await probe(v));
  }
  const total = infos.reduce((t, i) => t + (i.video ? 1 : 0), 0);
  if (total !== infos.length) throw new Error(`${infos.find((i) => !i.video)!.file} has no video stream`);
  const clips: ClipRecord[] = [];
  const frames: number[] = [];
  let width = 0, height = 0, bitDepth: 8 | 16 = 8;
  const sizes = new Set<string>();
  let done = 0;
  const grand = videos.length > 1 ? infos.reduce((t, i) => t + (i.video!.frames ?? 0), 0) : 0;
  for (let c = 0; c < videos.length; c++) {
    const info = infos[c];
    const v = info.video!;
    const r = await extractFrames({
      src: videos[c], outDir: framesDir, range: opts.range, scale: opts.scale, bitDepth: opts.bitDepth, info,
      numberFrom: videos.length > 1 ? frames.length + 1 : undefined,
      onProgress: (d, t) => opts.onProgress?.(done + d, videos.length > 1 ? Math.max(grand, done + t) : t),
    });
    done += r.frames.length;
    frames.push(...r.frames);
    clips.push({ source: videos[c], first: r.frames[0], last: r.frames[r.frames.length - 1], count: r.frames.length, fps: r.fps, fpsRational: r.fpsRational, rotation: v.rotation, vfr: v.vfr });
    sizes.add(`${r.width}x${r.height}`);
    if (c === 0) ({ width, height, bitDepth } = r);
  }
  if (sizes.size > 1) process.stderr.write(`warning: the clips differ in size (${[...sizes].join(', ')}); meta.json gives the first clip's\n`);
  const head = infos[0];
  const fps = clips[0].fps;
  const first = frames[0], last = frames[frames.length - 1], count = frames.length;
  let audio: string | null = null;
  if (videos.length === 1 && head.audio) {
    await extractAudio({ src: videos[0], out: join(opts.out, 'audio.m4a'), start: (first - 1) / fps, duration: count / fps });
    audio = 'audio.m4a';
  }
  const hv = head.video!;
  return {
    kind: 'ingest', source: videos.length === 1 ? videos[0] : videos.join(', '), fps, fpsRational: clips[0].fpsRational, width, height, bitDepth,
    frames, first, last, count, audio, duration: count / fps, sourceType: 'video',
    video: { codec: hv.codec, pixFmt: hv.pixFmt, width: hv.width, height: hv.height, frames: hv.frames, rotation: hv.rotation, vfr: hv.vfr },
    sourceAudio: head.audio, colour: { ...hv.colour, bitDepth: hv.bitDepth }, linear: null, clips,
  };
}
