import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createImage, readExr, srgbToLinear, readImage, readSamples, resize, writeExr, writePng,
  type ColourDescription, type Image, type ImageSamples,
} from '@facecomb/image';
import { frameName, frameNumber } from '@facecomb/stage';
import { parseRational, rationalText } from './media/rational.js';
import { narrow, StillWriter, VideoWriter, widen, type Samples, type StillFormat, type VideoFormat } from './media/writers.js';

/** Output formats of `encode`: videos, image sequences, the compositing patch, and the showcase grid. */
export type EncodeFormat = VideoFormat | StillFormat | 'exr' | 'patch' | 'grid';
export const VIDEO_FORMATS: VideoFormat[] = ['mp4', 'prores', 'prores4444'];
export const SEQUENCE_FORMATS: Array<StillFormat | 'exr'> = ['exr', 'png16', 'tiff16', 'png'];
export const ENCODE_FORMATS: EncodeFormat[] = [...VIDEO_FORMATS, ...SEQUENCE_FORMATS, 'patch', 'grid'];

const EXT: Record<StillFormat | 'exr', string> = { exr: 'exr', png16: 'png', tiff16: 'tif', png: 'png' };

/** Frame numbers of the NNNNNN.png files in a folder, sorted. */
export async function listFrames(dir: string): Promise<number[]> {
  const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    throw new Error(`cannot list frames folder ${dir}: ${e.code === 'ENOENT' ? 'not found' : e.message}`);
  });
  return names.filter((f) => /^\d{6}\.png$/.test(f)).map((f) => Number(f.slice(0, 6))).sort((a, b) => a - b);
}

export function fpsValue(fps: number | string): number {
  const r = parseRational(fps);
  return r.num / r.den;
}

export interface EncodeOptions {
  /** Folder of NNNNNN.png frames. */
  framesDir: string;
  /** Which frames (default: every NNNNNN.png in the folder). */
  frames?: number[];
  /** Output file (mp4/mov), or folder for an image sequence. */
  out: string;
  /** Frame rate, a number or a rational ("30000/1001"). */
  fps: number | string;
  format?: Exclude<EncodeFormat, 'patch' | 'grid'>;
  /** H.264 constant rate factor (default 18). */
  crf?: number;
  /** Audio to mux (trimmed to the video): a file and the second in it where frame `frames[0]` starts. */
  audio?: { file: string; offset?: number };
  /** Folder of NNNNNN.png mattes (16-bit grey, plate-sized): the alpha of exr/png/tiff/prores4444. */
  mattesDir?: string | null;
  /** Folder of NNNNNN.exr scene-linear frames: the pixels of an exr output (else the PNGs, linearised). */
  linearDir?: string | null;
  /** Colour description to tag the output with (ingest's meta.colour). */
  colour?: ColourDescription | null;
  /** File name stem of image sequence frames (`<name>.NNNNNN.<ext>`, default "shot"). */
  name?: string;
  onProgress?: (done: number, total: number) => void;
}

export interface EncodeResult {
  file: string;
  codec: string;
  count: number;
  fps: number;
  duration: number;
  audio: boolean;
}

/** Runs `fn` over `items` with at most `limit` running at once; the first error is thrown after the rest settle. */
async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  const results = await Promise.allSettled(workers);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** A matte's samples as a float alpha in [0, 1]. */
function matteImage(m: ImageSamples): Image {
  const max = m.data instanceof Uint16Array ? 65535 : 255;
  const data = new Float32Array(m.data.length);
  for (let i = 0; i < data.length; i++) data[i] = m.data[i] / max;
  return { width: m.width, height: m.height, channels: 1, data };
}

/** A frame's RGB samples (at 16 or 8 bits) with the matte (if any) as alpha. */
async function framesWithMatte(dir: string, n: number, mattesDir: string | null | undefined, sixteen: boolean): Promise<Samples> {
  const rgb = depthOf(await readSamples(join(dir, frameName(n)), { channels: 3 }), sixteen);
  const matte = mattesDir ? await readMatte(mattesDir, n, rgb) : null;
  return matte ? addAlpha(rgb, depthOf(matte, sixteen)) : (rgb as Samples);
}

/** Samples at 16 bits (8-bit widened by 257) or 8 bits (16-bit rounded). */
function depthOf(s: ImageSamples, sixteen: boolean): ImageSamples {
  const is16 = s.data instanceof Uint16Array;
  if (is16 === sixteen) return s;
  return { ...s, data: sixteen ? widen(s.data) : narrow(s.data as Uint16Array) };
}

async function readMatte(dir: string, n: number, size: { width: number; height: number }): Promise<ImageSamples | null> {
  const file = join(dir, frameName(n));
  if (!existsSync(file)) return null;
  const m = await readSamples(file, { channels: 1 });
  if (m.width !== size.width || m.height !== size.height) throw new Error(`matte ${file} is ${m.width}x${m.height} but its frame is ${size.width}x${size.height}`);
  return m;
}

/** RGB + a grey matte of the same depth -> RGBA. */
function addAlpha(rgb: ImageSamples, matte: ImageSamples): Samples {
  const n = rgb.width * rgb.height;
  const out = rgb.data instanceof Uint16Array ? new Uint16Array(n * 4) : new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    out[4 * i] = rgb.data[3 * i];
    out[4 * i + 1] = rgb.data[3 * i + 1];
    out[4 * i + 2] = rgb.data[3 * i + 2];
    out[4 * i + 3] = matte.data[i];
  }
  return { width: rgb.width, height: rgb.height, channels: 4, data: out };
}

/** The float RGB of frame n for an EXR: the scene-linear frame when there is one, else the PNG linearised (sRGB). */
async function linearFrame(framesDir: string, linearDir: string | null | undefined, n: number): Promise<Image> {
  const exr = linearDir ? join(linearDir, frameName(n, 'exr')) : null;
  if (exr && existsSync(exr)) {
    const img = await readExr(exr);
    return img.channels === 3 ? img : { ...img, channels: 3, data: img.data.filter((_, i) => i % 4 !== 3) };
  }
  // sRGB -> linear through a table of the file's sample values (a pow per sample costs seconds at 1080p)
  const px = await readSamples(join(framesDir, frameName(n)), { channels: 3 });
  const lut = linearTable(px.data instanceof Uint16Array ? 65536 : 256);
  const data = new Float32Array(px.data.length);
  for (let i = 0; i < data.length; i++) data[i] = lut[px.data[i]];
  return { width: px.width, height: px.height, channels: 3, data };
}

const LUTS = new Map<number, Float32Array>();
function linearTable(size: number): Float32Array {
  let t = LUTS.get(size);
  if (!t) {
    t = new Float32Array(size);
    for (let v = 0; v < size; v++) t[v] = srgbToLinear(v / (size - 1));
    LUTS.set(size, t);
  }
  return t;
}

/**
 * Encodes a PNG sequence to a video (H.264 mp4, ProRes 422 HQ / 4444 mov, with audio trimmed to the video) or
 * writes it as an image sequence (exr, png16, tiff16, png) into the folder `out`, alpha from `mattesDir`.
 */
export async function encodeVideo(opts: EncodeOptions): Promise<EncodeResult> {
  const numbers = opts.frames ?? (await listFrames(opts.framesDir));
  if (numbers.length === 0) throw new Error(`no frames (NNNNNN.png) in ${opts.framesDir}`);
  const fps = parseRational(opts.fps);
  const count = numbers.length;
  const duration = (count * fps.den) / fps.num;
  const format = opts.format ?? 'mp4';
  for (const n of [numbers[0], numbers[count - 1]]) {
    const f = join(opts.framesDir, frameName(n));
    if (!(await stat(f).catch(() => null))) throw new Error(`frame ${n} missing: ${f}`);
  }
  const result = (codec: string, audio: boolean): EncodeResult => ({ file: opts.out, codec, count, fps: fps.num / fps.den, duration, audio });
  opts.onProgress?.(0, count);
  if (format === 'exr') {
    const name = opts.name ?? 'shot';
    let done = 0;
    // a few frames at once: FFmpeg's EXR encoder runs on one thread per frame, in libuv's pool
    await forEachLimited(numbers, 3, async (n) => {
      const img = await linearFrame(opts.framesDir, opts.linearDir, n);
      const m = opts.mattesDir ? await readMatte(opts.mattesDir, n, img) : null;
      await writeExr(join(opts.out, `${name}.${frameNumber(n)}.exr`), img, { alpha: m ? matteImage(m) : undefined });
      opts.onProgress?.(++done, count);
    });
    return result('exr', false);
  }
  if (format === 'png' || format === 'png16' || format === 'tiff16') {
    const name = opts.name ?? 'shot';
    const writer = new StillWriter(format, opts.colour ?? null);
    let done = 0;
    try {
      // PNG (libvips) frames in parallel; TIFF shares one FFmpeg encoder, one frame at a time
      await forEachLimited(numbers, format === 'tiff16' ? 1 : 3, async (n) => {
        await writer.write(join(opts.out, `${name}.${frameNumber(n)}.${EXT[format]}`), await framesWithMatte(opts.framesDir, n, opts.mattesDir, format !== 'png'));
        opts.onProgress?.(++done, count);
      });
    } finally {
      writer.close();
    }
    return result(format === 'tiff16' ? 'tiff' : 'png', false);
  }
  const audio = opts.audio ? { file: opts.audio.file, start: opts.audio.offset ?? 0, duration } : undefined;
  const writer = new VideoWriter(opts.out, { format, fps, crf: opts.crf, colour: opts.colour, audio });
  const read = (n: number): Promise<Samples> => format === 'prores4444' ? framesWithMatte(opts.framesDir, n, opts.mattesDir, true) : readSamples(join(opts.framesDir, frameName(n)), { channels: 3 }) as Promise<Samples>;
  try {
    // the next frames are read (libvips, other threads) while this one is encoded
    const ahead: Promise<Samples>[] = [];
    for (let i = 0; i < count; i++) {
      while (ahead.length < 3 && i + ahead.length < count) {
        const p = read(numbers[i + ahead.length]);
        p.catch(() => undefined); // reported when awaited
        ahead.push(p);
      }
      await writer.write(await ahead.shift()!);
      opts.onProgress?.(i + 1, count);
    }
    const r = await writer.finish();
    return result(r.codec, !!audio);
  } catch (e) {
    await writer.abort();
    throw new Error(`cannot encode ${opts.framesDir} to ${opts.out}: ${(e as Error).message}`);
  }
}

export interface CompareOptions {
  plateDir: string;
  swapDir: string;
  /** Frame numbers present in both. */
  frames: number[];
  fps: number | string;
  out: string;
  crf?: number;
  audio?: { file: string; offset?: number };
  colour?: ColourDescription | null;
  onProgress?: (done: number, total: number) => void;
}

/** Float samples in [0, 1] -> 8-bit, rounded and clamped. */
export function to8(img: Image): Uint8Array {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = img.data[i] * 255 + 0.5;
    out[i] = v <= 0 ? 0 : v >= 255 ? 255 : v;
  }
  return out;
}

/** compare.mp4: the plate (left) and the swap (right) side by side, at the swap's height. */
export async function encodeCompare(opts: CompareOptions): Promise<EncodeResult> {
  const fps = parseRational(opts.fps);
  const count = opts.frames.length;
  const duration = (count * fps.den) / fps.num;
  const audio = opts.audio ? { file: opts.audio.file, start: opts.audio.offset ?? 0, duration } : undefined;
  const writer = new VideoWriter(opts.out, { format: 'mp4', fps, crf: opts.crf, colour: opts.colour, audio });
  try {
    for (let i = 0; i < count; i++) {
      const n = opts.frames[i];
      const plate = await readImage(join(opts.plateDir, frameName(n)), { channels: 3 });
      const swap = await readImage(join(opts.swapDir, frameName(n)), { channels: 3 });
      const h = swap.height;
      const pw = Math.max(1, Math.round((plate.width * h) / plate.height));
      const side = createImage(pw + swap.width, h, 3);
      paste(side, plate.width === pw && plate.height === h ? plate : resize(plate, pw, h), 0, 0);
      paste(side, swap, pw, 0);
      await writer.write({ width: side.width, height: h, channels: 3, data: to8(side) });
      opts.onProgress?.(i + 1, count);
    }
    const r = await writer.finish();
    return { file: opts.out, codec: r.codec, count, fps: fps.num / fps.den, duration, audio: !!audio };
  } catch (e) {
    await writer.abort();
    throw new Error(`cannot encode the comparison ${opts.out}: ${(e as Error).message}`);
  }
}

/** Copies `src` into `dst` with its top-left corner at (x0, y0); what falls outside is dropped. */
export function paste(dst: Image, src: Image, x0: number, y0: number): void {
  const c = dst.channels;
  for (let y = 0; y < src.height; y++) {
    const dy = y + y0;
    if (dy < 0 || dy >= dst.height) continue;
    for (let x = 0; x < src.width; x++) {
      const dx = x + x0;
      if (dx < 0 || dx >= dst.width) continue;
      const o = (dy * dst.width + dx) * c, i = (y * src.width + x) * src.channels;
      for (let k = 0; k < c; k++) dst.data[o + k] = src.data[i + Math.min(k, src.channels - 1)];
    }
  }
}

/** compare.png: a few frames spread over the shot, the plate above the swap, `thumb` px wide each. */
export async function compareSheet(opts: { plateDir: string; swapDir: string; frames: number[]; out: string; columns?: number; thumb?: number }): Promise<number[]> {
  const n = Math.min(opts.columns ?? 4, opts.frames.length);
  const picks = Array.from({ length: n }, (_, i) => opts.frames[n === 1 ? 0 : Math.round((i * (opts.frames.length - 1)) / (n - 1))]);
  const gap = 4;
  let sheet: Image | null = null;
  let tw = 0, th = 0;
  for (let i = 0; i < n; i++) {
    const plate = await readImage(join(opts.plateDir, frameName(picks[i])), { channels: 3 });
    const swap = await readImage(join(opts.swapDir, frameName(picks[i])), { channels: 3 });
    if (!sheet) {
      tw = Math.min(opts.thumb ?? 320, swap.width);
      th = Math.max(1, Math.round((swap.height * tw) / swap.width));
      sheet = createImage(n * tw + (n + 1) * gap, 2 * th + 3 * gap, 3, 0.12);
    }
    const x = gap + i * (tw + gap);
    paste(sheet, plate.width === tw && plate.height === th ? plate : resize(plate, tw, th), x, gap);
    paste(sheet, swap.width === tw && swap.height === th ? swap : resize(swap, tw, th), x, 2 * gap + th);
  }
  await writePng(opts.out, sheet!, { bitDepth: 8, compression: 6 });
  return picks;
}

export { rationalText };
