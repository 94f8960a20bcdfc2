import { mkdir, readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { readImage, resize, writePng } from '@facecomb/image';
import { command, run } from './ffmpeg.js';
import { assertFile, probe, type ProbeResult } from './probe.js';
import { SHARP_EXTENSIONS, type SequenceFrame } from './sequence.js';

/** A frame range [start, end], inclusive, in source frame numbers. */
export type FrameRange = [number, number];
/** Largest output size: one number for both sides, or [maxWidth, maxHeight]. Never enlarges. */
export type ScaleLimit = number | [number, number];
export type BitDepthParam = 8 | 16 | 'auto';

/** Six-digit frame file name: 12 -> "000012.png". */
export function frameName(n: number): string {
  return `${String(n).padStart(6, '0')}.png`;
}

/** The output size for a source size under a scale limit (aspect kept, never enlarged, at least 1 px). */
export function fitSize(width: number, height: number, scale?: ScaleLimit): [number, number] {
  if (scale === undefined) return [width, height];
  const [mw, mh] = typeof scale === 'number' ? [scale, scale] : scale;
  const s = Math.min(1, mw / width, mh / height);
  return [Math.max(1, Math.round(width * s)), Math.max(1, Math.round(height * s))];
}

/** Checks a range against the available frame numbers [lo, hi]; returns the range to use. */
export function checkRange(range: FrameRange | undefined, lo: number, hi: number | null, src: string): FrameRange {
  if (!range) {
    if (hi === null) throw new Error(`cannot tell how many frames ${src} has; give range: [start, end]`);
    return [lo, hi];
  }
  const [s, e] = range;
  if (!Number.isInteger(s) || !Number.isInteger(e)) throw new Error(`range must be two whole frame numbers [start, end], got ${JSON.stringify(range)}`);
  if (s > e) throw new Error(`range [${s}, ${e}]: start is after end`);
  if (s < lo) throw new Error(`range [${s}, ${e}] starts before the first frame of ${src} (${lo}; video frames count from 1)`);
  if (hi !== null && e > hi) throw new Error(`range [${s}, ${e}] ends past the last frame of ${src} (${hi})`);
  return [s, e];
}

export interface ExtractOptions {
  /** Video file. */
  src: string;
  /** Folder for NNNNNN.png. */
  outDir: string;
  range?: FrameRange;
  scale?: ScaleLimit;
  bitDepth?: BitDepthParam;
  /** Frames written so far, of total. */
  onProgress?: (done: number, total: number) => void;
  /** Probe result when the caller has one already. */
  info?: ProbeResult;
}

export interface ExtractResult {
  frames: number[];
  width: number;
  height: number;
  bitDepth: 8 | 16;
  fps: number;
  fpsRational: string;
  info: ProbeResult;
}

function chooseDepth(param: BitDepthParam | undefined, sourceBits: number): 8 | 16 {
  if (param === 8 || param === 16) return param;
  return sourceBits > 8 ? 16 : 8;
}

/**
 * Decodes frames `range` (1-based, inclusive) of a video into outDir/NNNNNN.png, numbered by source frame.
 * Frames are counted as decoded (trim by frame index), so the numbering is exact whatever the timestamps.
 */
export async function extractFrames(opts: ExtractOptions): Promise<ExtractResult> {
  const info = opts.info ?? (await probe(opts.src));
  const v = info.video;
  if (!v) throw new Error(`${opts.src} has no video stream`);
  if (!v.fps) throw new Error(`${opts.src}: ffprobe reports no frame rate for the video stream`);
  // without a range and without an exact frame count in the container (mkv, avi), decode to the end
  const open = !opts.range && !v.framesExact;
  const [s, e] = open ? [1, Math.max(1, v.frames ?? 1)] : checkRange(opts.range, 1, v.framesExact ? v.frames : null, opts.src);
  const [w, h] = fitSize(v.width, v.height, opts.scale);
  const depth = chooseDepth(opts.bitDepth, v.bitDepth);
  const total = e - s + 1;
  await mkdir(opts.outDir, { recursive: true });
  const filters = open ? [] : [`trim=start_frame=${s - 1}:end_frame=${e}`, 'setpts=PTS-STARTPTS'];
  if (w !== v.width || h !== v.height) {
    // limits as expressions of the decoded size: correct also when ffmpeg auto-rotates a phone video
    const [mw, mh] = typeof opts.scale === 'number' ? [opts.scale, opts.scale] : opts.scale!;
    filters.push(`scale=w='min(iw,${mw})':h='min(ih,${mh})':force_original_aspect_ratio=decrease:flags=lanczos`);
  }
  const cmd = command(opts.src)
    .output(join(opts.outDir, '%06d.png'))
    .outputOptions(['-map', '0:v:0', ...(filters.length ? ['-vf', filters.join(',')] : []), '-vsync', '0', '-start_number', String(s), '-pix_fmt', depth === 16 ? 'rgb48be' : 'rgb24', '-compression_level', '3', '-an', '-sn', '-dn', '-f', 'image2']);
  opts.onProgress?.(0, total);
  await run(cmd, { what: `cannot decode video ${opts.src}`, onFrames: (n) => opts.onProgress?.(Math.min(n, total), total) });
  const written = (await readdir(opts.outDir)).filter((f) => /^\d{6}\.png$/.test(f)).map((f) => Number(f.slice(0, 6))).sort((a, b) => a - b);
  if (open && written.length > 0 && written[0] === 1 && written[written.length - 1] === written.length) {
    opts.onProgress?.(written.length, written.length);
    return { frames: written, ...(await decodedSize(opts.outDir, written[0], w, h)), bitDepth: depth, fps: v.fps, fpsRational: v.fpsRational, info };
  }
  if (written.length !== total || written[0] !== s || written[written.length - 1] !== e) {
    const have = written.length ? `${written.length} frames (${written[0]}-${written[written.length - 1]})` : 'no frames';
    throw new Error(`${opts.src}: asked for frames ${s}-${e} but ffmpeg decoded ${have}; the range may run past the end of the video`);
  }
  opts.onProgress?.(total, total);
  return { frames: written, ...(await decodedSize(opts.outDir, written[0], w, h)), bitDepth: depth, fps: v.fps, fpsRational: v.fpsRational, info };
}

/** The size of a written frame (rotation metadata or scaling may differ from the stream's coded size). */
async function decodedSize(dir: string, n: number, w: number, h: number): Promise<{ width: number; height: number }> {
  const img = await readImage(join(dir, frameName(n))).catch(() => null);
  return img ? { width: img.width, height: img.height } : { width: w, height: h };
}

export interface AudioOptions {
  src: string;
  out: string;
  /** Start in seconds. */
  start: number;
  /** Length in seconds. */
  duration: number;
  /** Copy the stream instead of encoding AAC (only when it is AAC and no trimming is needed). */
  copy?: boolean;
}

/** Writes the audio of [start, start + duration) seconds of `src` to an .m4a file (copied, or AAC). */
export async function extractAudio(opts: AudioOptions): Promise<void> {
  const cmd = command(opts.src);
  if (opts.start > 0) cmd.inputOptions(['-ss', opts.start.toFixed(6)]);
  cmd.output(opts.out).outputOptions(['-map', '0:a:0', '-vn', '-sn', '-dn', '-t', opts.duration.toFixed(6)]);
  cmd.outputOptions(opts.copy ? ['-c:a', 'copy'] : ['-c:a', 'aac', '-b:a', '192k']);
  await run(cmd, { what: `cannot read the audio of ${opts.src}` });
}

export interface SequenceOptions {
  frames: SequenceFrame[];
  outDir: string;
  scale?: ScaleLimit;
  bitDepth?: BitDepthParam;
  onProgress?: (done: number, total: number) => void;
}

export interface SequenceResult {
  frames: number[];
  width: number;
  height: number;
  bitDepth: 8 | 16;
}

const EXR_HINT = 'convert the EXR sequence to 16-bit PNG or TIFF first (e.g. `oiiotool shot.%04d.exr --colorconvert linear sRGB -d uint16 -o shot.%04d.png`)';

/** Converts one image that sharp cannot read (EXR, DPX, BMP, TGA) to PNG with ffmpeg. */
async function convertWithFfmpeg(file: string, out: string, size: [number, number] | null, depth: 8 | 16): Promise<void> {
  const isExr = extname(file).toLowerCase() === '.exr';
  const cmd = command(file);
  // EXR holds linear light: apply the sRGB transfer so the PNG looks like the plate on a monitor
  if (isExr) cmd.inputOptions(['-apply_trc', 'iec61966_2_1']);
  const opts = ['-frames:v', '1', '-pix_fmt', depth === 16 ? 'rgb48be' : 'rgb24', '-compression_level', '3', '-f', 'image2'];
  if (size) opts.push('-vf', `scale=${size[0]}:${size[1]}:flags=lanczos`);
  cmd.output(out).outputOptions(opts);
  try {
    await run(cmd, { what: `cannot read image ${file}` });
  } catch (e) {
    throw isExr ? new Error(`${(e as Error).message}; ${EXR_HINT}`) : e;
  }
}

async function sizeOf(file: string): Promise<{ width: number; height: number; bits: number }> {
  if (SHARP_EXTENSIONS.has(extname(file).toLowerCase())) {
    const img = await readImage(file, { channels: 3 });
    return { width: img.width, height: img.height, bits: img.bitDepth };
  }
  const info = await probe(file);
  if (!info.video) throw new Error(`cannot read image ${file}: ffprobe finds no picture in it`);
  return { width: info.video.width, height: info.video.height, bits: info.video.bitDepth };
}

/** Converts an image sequence into outDir/NNNNNN.png (RGB, 8 or 16 bit), keeping the frame numbers. */
export async function convertSequence(opts: SequenceOptions): Promise<SequenceResult> {
  const { frames } = opts;
  if (frames.length === 0) throw new Error('image sequence: no frames selected');
  for (const f of frames) await assertFile(f.file, 'image sequence frame');
  await mkdir(opts.outDir, { recursive: true });
  const first = await sizeOf(frames[0].file);
  const depth = chooseDepth(opts.bitDepth, first.bits);
  const [w, h] = fitSize(first.width, first.height, opts.scale);
  const total = frames.length;
  opts.onProgress?.(0, total);
  for (let i = 0; i < total; i++) {
    const f = frames[i];
    const out = join(opts.outDir, frameName(f.number));
    if (SHARP_EXTENSIONS.has(extname(f.file).toLowerCase())) {
      const img = await readImage(f.file, { channels: 3 });
      if (img.width !== first.width || img.height !== first.height) {
        throw new Error(`image sequence: ${f.file} is ${img.width}x${img.height}, but the first frame ${frames[0].file} is ${first.width}x${first.height}`);
      }
      const sized = w !== img.width || h !== img.height ? resize(img, w, h) : img;
      await writePng(out, sized, { bitDepth: depth });
    } else {
      await convertWithFfmpeg(f.file, out, w !== first.width || h !== first.height ? [w, h] : null, depth);
    }
    opts.onProgress?.(i + 1, total);
  }
  return { frames: frames.map((f) => f.number), width: w, height: h, bitDepth: depth };
}
