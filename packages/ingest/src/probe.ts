import { stat } from 'node:fs/promises';
import type { ColourDescription } from '@facecomb/image';
import { avGetCodecName, avGetPixFmtName } from 'node-av/lib';
import { colourNames } from './media/colour.js';
import { MediaInput } from './media/input.js';
import { rational, type Rational } from './media/rational.js';

export interface VideoStreamInfo {
  codec: string;
  /** Displayed size: the coded size turned by `rotation`. */
  width: number;
  height: number;
  /** Frames per second as a number (e.g. 29.97002997). */
  fps: number;
  /** The same as a rational string (e.g. "30000/1001"): the stream's frame duration, from its timestamps. */
  fpsRational: string;
  pixFmt: string;
  /** Bits per sample of the decoded pixels (8, 10, 12, 16; 16 for half float, 32 for float). */
  bitDepth: number;
  /** Frame count: packets counted in the file (exact), or the container's count for still images. */
  frames: number | null;
  framesExact: boolean;
  /** Clockwise rotation (0, 90, 180, 270) of the display matrix, which ingest applies (phones). */
  rotation: number;
  /** Variable frame rate: frame durations differ (ingest resamples to the constant rate `fpsRational`). */
  vfr: boolean;
  /** Seconds from the first frame's start to the last frame's end, from the timestamps. */
  duration: number | null;
  colour: ColourDescription;
}

export interface AudioStreamInfo {
  codec: string;
  sampleRate: number;
  channels: number;
}

export interface ProbeResult {
  file: string;
  format: string;
  /** Seconds, or null when the container does not say. */
  duration: number | null;
  video: VideoStreamInfo | null;
  audio: AudioStreamInfo | null;
}

/** Throws a clear error when `file` does not exist or is not a file. */
export async function assertFile(file: string, what = 'input file'): Promise<void> {
  const s = await stat(file).catch(() => null);
  if (!s) throw new Error(`${what} not found: ${file}`);
  if (!s.isFile()) throw new Error(`${what} is not a file: ${file}`);
}

/** Bits per sample of an FFmpeg pixel format name. */
export function pixFmtBitDepth(pixFmt: string): number {
  if (/f32/.test(pixFmt)) return 32;
  if (/f16/.test(pixFmt)) return 16;
  if (/(rgb|bgr)(48|64)|rgba64|bgra64|ya16|gray16|16(le|be)$/.test(pixFmt)) return 16;
  const m = /p(9|10|12|14)(le|be)$|gray(9|10|12|14)|^x?(v|y)?(210|410)/.exec(pixFmt);
  if (m) return Number(m[1] ?? m[3] ?? 10);
  return 8;
}

/**
 * Frame timing from the packets' timestamps: the most common frame duration gives the rate (so a file of
 * clips recorded at 30000/1001 with gaps between them keeps 30000/1001, where frames / duration would not),
 * and a stream is variable-rate when more than 5% of its frames last otherwise.
 */
export function frameTiming(pts: bigint[], timeBase: Rational, fallback: Rational | null): { rate: Rational | null; vfr: boolean; duration: number | null } {
  const ts = [...pts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const deltas: number[] = [];
  for (let i = 1; i < ts.length; i++) deltas.push(Number(ts[i] - ts[i - 1]));
  if (deltas.length === 0) return { rate: fallback, vfr: false, duration: fallback && ts.length ? ts.length / (fallback.num / fallback.den) : null };
  const counts = new Map<number, number>();
  for (const d of deltas) if (d > 0) counts.set(d, (counts.get(d) ?? 0) + 1);
  let mode = 0, best = -1;
  for (const [d, n] of counts) if (n > best) { mode = d; best = n; }
  if (mode <= 0) return { rate: fallback, vfr: false, duration: null };
  // durations within half a tick of the mode count as the same (timestamps are rounded to the time base)
  const regular = deltas.filter((d) => Math.abs(d - mode) <= Math.max(1, mode * 0.01)).length;
  const vfr = regular < 0.95 * deltas.length;
  let rate = rational(timeBase.den, timeBase.num * mode);
  // keep the container's rate when it agrees within the timestamp rounding (e.g. 1/12800 cannot hold 1001/30000 exactly)
  if (fallback && Math.abs(fallback.num / fallback.den - rate.num / rate.den) < 0.002 * (rate.num / rate.den)) rate = fallback;
  const tb = timeBase.num / timeBase.den;
  const duration = (Number(ts[ts.length - 1] - ts[0]) + mode) * tb;
  return { rate, vfr, duration };
}

/** Reads a media file's streams and the video's frame timing (every packet is read, none decoded). */
export async function probe(file: string): Promise<ProbeResult> {
  await assertFile(file);
  const input = await MediaInput.open(file, 'cannot read');
  try {
    const v = input.video();
    const a = input.audio();
    let video: VideoStreamInfo | null = null;
    if (v) {
      const p = v.codecpar;
      const pts: bigint[] = [];
      let packets = 0;
      for await (const pkt of input.packets(v.index)) {
        packets++;
        const t = pkt.pts !== AV_NOPTS ? pkt.pts : pkt.dts;
        if (t !== AV_NOPTS) pts.push(t);
      }
      const declared = [v.rFrameRate, v.avgFrameRate].find((r) => r.num > 0 && r.den > 0) ?? null;
      const timing = frameTiming(pts.length === packets ? pts : [], v.timeBase, declared ? rational(declared.num, declared.den) : null);
      const rate = timing.rate ?? rational(25, 1);
      const pixFmt = avGetPixFmtName(p.format as never) ?? 'unknown';
      const bitDepth = p.bitsPerRawSample > 8 ? p.bitsPerRawSample : pixFmtBitDepth(pixFmt);
      const rotation = input.rotation(v);
      const turned = rotation === 90 || rotation === 270;
      const names = colourNames({ primaries: p.colorPrimaries, transfer: p.colorTrc, matrix: p.colorSpace, range: p.colorRange });
      const float = /f(16|32)/.test(pixFmt);
      video = {
        codec: avGetCodecName(p.codecId) ?? 'unknown',
        width: turned ? p.height : p.width,
        height: turned ? p.width : p.height,
        fps: rate.num / rate.den,
        fpsRational: rate.den === 1 ? String(rate.num) : `${rate.num}/${rate.den}`,
        pixFmt,
        bitDepth,
        frames: packets,
        framesExact: true,
        rotation,
        vfr: timing.vfr,
        duration: timing.duration,
        colour: { ...names, bitDepth, sampleType: float ? (bitDepth === 16 ? 'half' : 'float') : 'uint', linear: names.transfer === 'linear' },
      };
    }
    const audio: AudioStreamInfo | null = a
      ? { codec: avGetCodecName(a.codecpar.codecId) ?? 'unknown', sampleRate: a.codecpar.sampleRate, channels: a.codecpar.channels }
      : null;
    const d = Number(input.ctx.duration);
    return { file, format: input.ctx.iformat?.name ?? 'unknown', duration: d > 0 ? d / 1e6 : null, video, audio };
  } finally {
    await input.close();
  }
}

const AV_NOPTS = -0x8000000000000000n;
