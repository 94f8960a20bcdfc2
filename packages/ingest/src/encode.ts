import { copyFile, mkdir, mkdtemp, readdir, rm, stat, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createImage, readImage, resize, writePng, type Image } from '@facecomb/image';
import { frameName } from './extract.js';
import { availableEncoders, command, run } from './ffmpeg.js';

export type EncodeFormat = 'mp4' | 'prores' | 'png';

/** Frame numbers of the NNNNNN.png files in a folder, sorted. */
export async function listFrames(dir: string): Promise<number[]> {
  const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    throw new Error(`cannot list frames folder ${dir}: ${e.code === 'ENOENT' ? 'not found' : e.message}`);
  });
  return names.filter((f) => /^\d{6}\.png$/.test(f)).map((f) => Number(f.slice(0, 6))).sort((a, b) => a - b);
}

interface SequenceInput {
  pattern: string;
  start: number;
  cleanup: () => Promise<void>;
}

/** An image2 input for `numbers` of `dir`: the folder itself when they are contiguous, else a folder of links. */
async function sequenceInput(dir: string, numbers: number[], scratch: string): Promise<SequenceInput> {
  const contiguous = numbers.every((n, i) => i === 0 || n === numbers[i - 1] + 1);
  if (contiguous) return { pattern: join(dir, '%06d.png'), start: numbers[0], cleanup: async () => {} };
  // the links live beside the output (a stage writes only into its output folder) and go when done
  const tmp = await mkdtemp(join(scratch, '.frames-'));
  for (let i = 0; i < numbers.length; i++) {
    const from = join(dir, frameName(numbers[i]));
    const to = join(tmp, frameName(i + 1));
    await symlink(from, to).catch(() => copyFile(from, to));
  }
  return { pattern: join(tmp, '%06d.png'), start: 1, cleanup: () => rm(tmp, { recursive: true, force: true }) };
}

function fpsText(fps: number | string): string {
  if (typeof fps === 'string') return fps;
  if (!(fps > 0)) throw new Error(`fps must be positive, got ${fps}`);
  return Number.isInteger(fps) ? String(fps) : `${Math.round(fps * 1000)}/1000`;
}

export function fpsValue(fps: number | string): number {
  if (typeof fps === 'number') return fps;
  const [n, d] = fps.split('/').map(Number);
  return d ? n / d : n;
}

export interface VideoCodec {
  codec: string;
  args: string[];
  ext: string;
}

/** Picks the video encoder: H.264 (libx264) when the ffmpeg has it, else MPEG-4 part 2; ProRes 422 HQ for prores. */
export async function chooseCodec(format: Exclude<EncodeFormat, 'png'>, crf: number): Promise<VideoCodec> {
  const enc = await availableEncoders();
  if (format === 'prores') {
    const name = enc.has('prores_ks') ? 'prores_ks' : enc.has('prores') ? 'prores' : null;
    if (!name) throw new Error('format prores: this ffmpeg has no ProRes encoder; use format: mp4 or png');
    return { codec: name, args: ['-c:v', name, '-profile:v', '3', '-pix_fmt', 'yuv422p10le', '-vendor', 'apl0'], ext: '.mov' };
  }
  if (enc.has('libx264')) {
    return { codec: 'libx264', args: ['-c:v', 'libx264', '-preset', 'medium', '-crf', String(crf), '-pix_fmt', 'yuv420p', '-movflags', '+faststart'], ext: '.mp4' };
  }
  if (enc.has('mpeg4')) {
    const q = Math.max(1, Math.min(31, Math.round(crf / 6)));
    return { codec: 'mpeg4', args: ['-c:v', 'mpeg4', '-q:v', String(q), '-pix_fmt', 'yuv420p', '-movflags', '+faststart'], ext: '.mp4' };
  }
  throw new Error('format mp4: this ffmpeg has neither libx264 nor mpeg4; set FFMPEG_PATH to a full ffmpeg build');
}

export interface EncodeOptions {
  /** Folder of NNNNNN.png frames. */
  framesDir: string;
  /** Which frames (default: every NNNNNN.png in the folder). */
  frames?: number[];
  /** Output file (mp4/mov), or folder for format png. */
  out: string;
  /** Frame rate, a number or an ffmpeg rational ("30000/1001"). */
  fps: number | string;
  format?: EncodeFormat;
  /** H.264 constant rate factor (default 18). */
  crf?: number;
  /** Audio to mux (trimmed to the video): a file and the second in it where frame `frames[0]` starts. */
  audio?: { file: string; offset?: number };
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

/** Encodes a PNG sequence to H.264 mp4 / ProRes mov (with audio trimmed to the video), or copies it (png). */
export async function encodeVideo(opts: EncodeOptions): Promise<EncodeResult> {
  const numbers = opts.frames ?? (await listFrames(opts.framesDir));
  if (numbers.length === 0) throw new Error(`no frames (NNNNNN.png) in ${opts.framesDir}`);
  const fps = fpsText(opts.fps);
  const count = numbers.length;
  const duration = count / fpsValue(fps);
  const format = opts.format ?? 'mp4';
  if (format === 'png') {
    await mkdir(opts.out, { recursive: true });
    for (let i = 0; i < count; i++) {
      await copyFile(join(opts.framesDir, frameName(numbers[i])), join(opts.out, frameName(numbers[i])));
      opts.onProgress?.(i + 1, count);
    }
    return { file: opts.out, codec: 'png', count, fps: fpsValue(fps), duration, audio: false };
  }
  for (const n of [numbers[0], numbers[count - 1]]) {
    const f = join(opts.framesDir, frameName(n));
    if (!(await stat(f).catch(() => null))) throw new Error(`frame ${n} missing: ${f}`);
  }
  const codec = await chooseCodec(format, opts.crf ?? 18);
  await mkdir(dirname(opts.out), { recursive: true });
  const seq = await sequenceInput(opts.framesDir, numbers, dirname(opts.out));
  try {
    const cmd = command(seq.pattern).inputOptions(sequenceOptions(seq.start, fps));
    const args = ['-map', '0:v:0', ...codec.args, '-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2', '-r', fps, '-t', duration.toFixed(6)];
    addAudio(cmd, args, opts.audio, count, 1);
    cmd.output(opts.out).outputOptions(args);
    opts.onProgress?.(0, count);
    await run(cmd, { what: `cannot encode ${opts.framesDir} to ${opts.out}`, onFrames: (n) => opts.onProgress?.(Math.min(n, count), count) });
  } finally {
    await seq.cleanup();
  }
  opts.onProgress?.(count, count);
  return { file: opts.out, codec: codec.codec, count, fps: fpsValue(fps), duration, audio: !!opts.audio };
}

/** ffmpeg input options of a numbered PNG sequence. */
function sequenceOptions(start: number, fps: string): string[] {
  return ['-framerate', fps, '-start_number', String(start), '-thread_queue_size', '512', '-f', 'image2'];
}

/**
 * Adds the plate's audio as input `index`, or, without audio, stops at exactly `count` frames.
 * (-frames:v would stop the muxer before the buffered audio is written: with audio, -t alone cuts both.)
 */
function addAudio(cmd: ReturnType<typeof command>, args: string[], audio: { file: string; offset?: number } | undefined, count: number, index: number): void {
  if (!audio) {
    args.push('-frames:v', String(count));
    return;
  }
  cmd.input(audio.file);
  if (audio.offset && audio.offset > 0) cmd.inputOptions(['-ss', audio.offset.toFixed(6)]);
  args.push('-map', `${index}:a:0`, '-c:a', 'aac', '-b:a', '192k');
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
  onProgress?: (done: number, total: number) => void;
}

/** compare.mp4: the plate (left) and the swap (right) side by side, at the swap's height. */
export async function encodeCompare(opts: CompareOptions): Promise<EncodeResult> {
  const fps = fpsText(opts.fps);
  const count = opts.frames.length;
  const duration = count / fpsValue(fps);
  const codec = await chooseCodec('mp4', opts.crf ?? 18);
  await mkdir(dirname(opts.out), { recursive: true });
  const a = await sequenceInput(opts.plateDir, opts.frames, dirname(opts.out));
  const b = await sequenceInput(opts.swapDir, opts.frames, dirname(opts.out));
  try {
    const cmd = command(a.pattern).inputOptions(sequenceOptions(a.start, fps));
    cmd.input(b.pattern).inputOptions(sequenceOptions(b.start, fps));
    const plate = await readImage(join(opts.plateDir, frameName(opts.frames[0])));
    const swap = await readImage(join(opts.swapDir, frameName(opts.frames[0])));
    const h = swap.height;
    const pw = Math.max(1, Math.round((plate.width * h) / plate.height));
    const graph = `[0:v]scale=${pw}:${h},setsar=1,format=rgb24[p];[1:v]setsar=1,format=rgb24[s];[p][s]hstack=inputs=2,pad=ceil(iw/2)*2:ceil(ih/2)*2[v]`;
    const args = ['-filter_complex', graph, '-map', '[v]', ...codec.args, '-r', fps, '-t', duration.toFixed(6)];
    addAudio(cmd, args, opts.audio, count, 2);
    cmd.output(opts.out).outputOptions(args);
    await run(cmd, { what: `cannot encode the comparison ${opts.out}`, onFrames: (n) => opts.onProgress?.(Math.min(n, count), count) });
  } finally {
    await a.cleanup();
    await b.cleanup();
  }
  return { file: opts.out, codec: codec.codec, count, fps: fpsValue(fps), duration, audio: !!opts.audio };
}

function paste(dst: Image, src: Image, x0: number, y0: number): void {
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
