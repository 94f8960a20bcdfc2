import { mkdir } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import {
  exrDescription, readExr, readImage, resize, srgbDescription, srgbProxy, writeExr, writePng, writePngSamples,
  type ColourDescription, type Image,
} from '@facecomb/image';
import { frameName } from '@facecomb/stage';
import { addAudio } from './media/audio.js';
import { decodeVideo, rotationFilters } from './media/decode.js';
import { MediaOutput } from './media/output.js';
import { assertFile, probe, type ProbeResult, type VideoStreamInfo } from './probe.js';
import { SHARP_EXTENSIONS, type SequenceFrame } from './sequence.js';

/** A frame range [start, end], inclusive, in source frame numbers. */
export type FrameRange = [number, number];
/** Largest output size: one number for both sides, or [maxWidth, maxHeight]. Never enlarges. */
export type ScaleLimit = number | [number, number];
export type BitDepthParam = 8 | 16 | 'auto';

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
  /** Number the first written frame this (default: its source frame number); frames after it count on. */
  numberFrom?: number;
  /** Frames written so far, of total. */
  onProgress?: (done: number, total: number) => void;
  /** Probe result when the caller has one already. */
  info?: ProbeResult;
}

export interface ExtractResult {
  /** Frame numbers written (file names). */
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

/** Frames a video gives: its packets, or for a variable-rate stream the frames at its constant rate. */
export function outputFrameCount(v: VideoStreamInfo): number | null {
  if (v.vfr && v.duration) return Math.max(1, Math.round(v.duration * v.fps));
  return v.frames;
}

/**
 * Decodes frames `range` (1-based, inclusive) of a video into outDir/NNNNNN.png, numbered by source frame.
 * Frames are counted as decoded (trimmed by index), so the numbering is exact whatever the timestamps. The
 * picture is turned upright by the stream's rotation, and a variable-rate stream is first resampled to its
 * constant rate (frames repeated or dropped by time, as the ffmpeg CLI's cfr mode), so the frames play in sync.
 */
export async function extractFrames(opts: ExtractOptions): Promise<ExtractResult> {
  const info = opts.info ?? (await probe(opts.src));
  const v = info.video;
  if (!v) throw new Error(`${opts.src} has no video stream`);
  const available = outputFrameCount(v);
  const [s, e] = checkRange(opts.range, 1, available, opts.src);
  const [w, h] = fitSize(v.width, v.height, opts.scale);
  const depth = chooseDepth(opts.bitDepth, v.bitDepth);
  const total = e - s + 1;
  await mkdir(opts.outDir, { recursive: true });
  const filters = rotationFilters(v.rotation);
  if (v.vfr) filters.push(`fps=${v.fpsRational}`);
  if (s !== 1 || e !== available) filters.push(`trim=start_frame=${s - 1}:end_frame=${e}`);
  if (w !== v.width || h !== v.height) filters.push(`scale=${w}:${h}:flags=lanczos`);
  const first = opts.numberFrom ?? s;
  const frames: number[] = [];
  opts.onProgress?.(0, total);
  let size: [number, number] = [w, h];
  const n = await decodeVideo(opts.src, filters, depth === 16 ? 'rgb48le' : 'rgb24', async (i, pic) => {
    size = [pic.width, pic.height];
    const samples = depth === 16 ? new Uint16Array(pic.data.buffer, pic.data.byteOffset, pic.data.length / 2) : pic.data;
    await writePngSamples(join(opts.outDir, frameName(first + i)), samples, pic.width, pic.height, 3);
    frames.push(first + i);
    opts.onProgress?.(frames.length, Math.max(total, frames.length));
  });
  // the whole clip: every picture the decoder gives (packets that decode to nothing, or a resampled variable
  // rate, may differ from the count by a frame); a range must come out exactly
  if (n === 0 || (opts.range && n !== total)) {
    throw new Error(`${opts.src}: asked for frames ${s}-${e} but the decoder gave ${n}; the file may be truncated`);
  }
  frames.sort((a, b) => a - b);
  return { frames, width: size[0], height: size[1], bitDepth: depth, fps: v.fps, fpsRational: v.fpsRational, info };
}

export interface AudioOptions {
  src: string;
  out: string;
  /** Start in seconds. */
  start: number;
  /** Length in seconds. */
  duration: number;
}

/** Writes the audio of [start, start + duration) seconds of `src` to an .m4a file (AAC 192 kb/s, cut to the sample). */
export async function extractAudio(opts: AudioOptions): Promise<void> {
  const out = MediaOutput.create(opts.out, 'ipod');
  try {
    const write = await addAudio(out, opts.src, { start: opts.start, duration: opts.duration });
    await out.start();
    await write();
    await out.finish();
  } catch (e) {
    await out.close().catch(() => undefined);
    throw new Error(`cannot read the audio of ${opts.src}: ${(e as Error).message}`);
  }
}

export interface SequenceOptions {
  frames: SequenceFrame[];
  outDir: string;
  /** Folder for the scene-linear copies of an EXR sequence (NNNNNN.exr); default: beside outDir, `linear/`. */
  linearDir?: string;
  scale?: ScaleLimit;
  bitDepth?: BitDepthParam;
  onProgress?: (done: number, total: number) => void;
}

export interface SequenceResult {
  frames: number[];
  width: number;
  height: number;
  bitDepth: 8 | 16;
  colour: ColourDescription;
  /** Folder of the scene-linear EXR frames (EXR sources only), else null. */
  linear: string | null;
}

/** Decodes one image that sharp cannot read (DPX, BMP, TGA) with FFmpeg into a PNG. */
async function convertWithAv(file: string, out: string, size: [number, number] | null, depth: 8 | 16): Promise<void> {
  const filters = size ? [`scale=${size[0]}:${size[1]}:flags=lanczos`] : [];
  const n = await decodeVideo(file, filters, depth === 16 ? 'rgb48le' : 'rgb24', async (_, pic) => {
    const samples = depth === 16 ? new Uint16Array(pic.data.buffer, pic.data.byteOffset, pic.data.length / 2) : pic.data;
    await writePngSamples(out, samples, pic.width, pic.height, 3);
  });
  if (n === 0) throw new Error(`cannot read image ${file}: FFmpeg decodes no picture from it`);
}

function rgbOnly(img: Image): Image {
  if (img.channels === 3) return img;
  const out = new Float32Array(img.width * img.height * 3);
  for (let i = 0, o = 0; o < out.length; i += img.channels, o += 3) out.set(img.data.subarray(i, i + 3), o);
  return { width: img.width, height: img.height, channels: 3, data: out };
}

/** How many samples are NaN or infinite. */
export function countNonFinite(data: Float32Array): number {
  let n = 0;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) n++;
  return n;
}

type Kind = 'sharp' | 'exr' | 'av';
function kindOf(file: string): Kind {
  const ext = extname(file).toLowerCase();
  return ext === '.exr' ? 'exr' : SHARP_EXTENSIONS.has(ext) ? 'sharp' : 'av';
}

async function firstFrame(file: string): Promise<{ width: number; height: number; bits: number; colour: ColourDescription }> {
  const kind = kindOf(file);
  if (kind === 'sharp') {
    const img = await readImage(file, { channels: 3 });
    return { width: img.width, height: img.height, bits: img.bitDepth, colour: srgbDescription(img.bitDepth) };
  }
  if (kind === 'exr') {
    const img = await readExr(file);
    return { width: img.width, height: img.height, bits: 16, colour: exrDescription(img.sampleType) };
  }
  const info = await probe(file);
  if (!info.video) throw new Error(`cannot read image ${file}: FFmpeg finds no picture in it`);
  return { width: info.video.width, height: info.video.height, bits: info.video.bitDepth, colour: info.video.colour };
}

/**
 * Converts an image sequence into outDir/NNNNNN.png (RGB, 8 or 16 bit), keeping the frame numbers. An EXR
 * sequence also keeps its scene-linear pixels, exactly, as `linear/NNNNNN.exr` (half or float, as the source;
 * alpha dropped); its PNG is the display proxy (sRGB transfer, clipped).
 */
export async function convertSequence(opts: SequenceOptions): Promise<SequenceResult> {
  const { frames } = opts;
  if (frames.length === 0) throw new Error('image sequence: no frames selected');
  for (const f of frames) await assertFile(f.file, 'image sequence frame');
  await mkdir(opts.outDir, { recursive: true });
  const first = await firstFrame(frames[0].file);
  const exr = kindOf(frames[0].file) === 'exr';
  const depth = exr ? 16 : chooseDepth(opts.bitDepth, first.bits);
  const [w, h] = fitSize(first.width, first.height, opts.scale);
  const linearDir = exr ? (opts.linearDir ?? join(dirname(opts.outDir), 'linear')) : null;
  const total = frames.length;
  const sizeCheck = (f: SequenceFrame, img: { width: number; height: number }) => {
    if (img.width !== first.width || img.height !== first.height) {
      throw new Error(`image sequence: ${f.file} is ${img.width}x${img.height}, but the first frame ${frames[0].file} is ${first.width}x${first.height}`);
    }
  };
  // NaN and infinite samples (a renderer's bad pixels) are kept in linear/ as they are; counted and said once
  const bad = { samples: 0, frames: 0, first: '' };
  opts.onProgress?.(0, total);
  for (let i = 0; i < total; i++) {
    const f = frames[i];
    const out = join(opts.outDir, frameName(f.number));
    const kind = kindOf(f.file);
    if (kind === 'sharp') {
      const img = await readImage(f.file, { channels: 3 });
      sizeCheck(f, img);
      await writePng(out, w !== img.width || h !== img.height ? resize(img, w, h) : img, { bitDepth: depth });
    } else if (kind === 'exr') {
      const src = await readExr(f.file);
      sizeCheck(f, src);
      const n = countNonFinite(src.data);
      if (n) {
        bad.samples += n;
        bad.frames++;
        bad.first ||= f.file;
      }
      const img = rgbOnly(w !== src.width || h !== src.height ? resize(src, w, h) : src);
      await writeExr(join(linearDir!, frameName(f.number, 'exr')), img, { sampleType: src.sampleType });
      await writePng(out, srgbProxy(img), { bitDepth: 16 });
    } else {
      await convertWithAv(f.file, out, w !== first.width || h !== first.height ? [w, h] : null, depth);
    }
    opts.onProgress?.(i + 1, total);
  }
  if (bad.samples) {
    process.stderr.write(
      `warning: ${bad.frames} of ${total} EXR frame(s) hold NaN or infinite values (${bad.samples} samples; first in ${bad.first}): kept as they are in linear/, shown black (NaN, -inf) or white (+inf) in the PNG proxies; fix them in comp (e.g. a NaN-to-zero node) if the face is affected\n`,
    );
  }
  const colour = { ...first.colour, bitDepth: exr ? first.colour.bitDepth : depth };
  return { frames: frames.map((f) => f.number), width: w, height: h, bitDepth: depth, colour, linear: linearDir };
}
