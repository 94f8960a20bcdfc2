import { stat } from 'node:fs/promises';
import type Ffmpeg from 'fluent-ffmpeg';
import { command, ffmpegSays } from './ffmpeg.js';

export interface VideoStreamInfo {
  codec: string;
  width: number;
  height: number;
  /** Frames per second as a number (e.g. 29.97002997). */
  fps: number;
  /** The same as a rational string for ffmpeg (e.g. "30000/1001"). */
  fpsRational: string;
  pixFmt: string;
  /** Bits per sample of the decoded pixels (8, 10, 12, 16, 32 for float). */
  bitDepth: number;
  /** Frame count from the container when it says (nb_frames), else estimated from duration x fps. */
  frames: number | null;
  framesExact: boolean;
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

function parseRational(r: string | undefined): { value: number; text: string } | null {
  if (!r) return null;
  const m = /^(\d+)(?:\/(\d+))?$/.exec(r.trim());
  if (!m) return null;
  const num = Number(m[1]);
  const den = m[2] === undefined ? 1 : Number(m[2]);
  if (!num || !den) return null;
  return { value: num / den, text: den === 1 ? String(num) : `${num}/${den}` };
}

/** Bits per sample of an ffmpeg pixel format name. */
export function pixFmtBitDepth(pixFmt: string): number {
  if (/f32|gbrapf|grayf/.test(pixFmt)) return 32;
  if (/f16/.test(pixFmt)) return 16;
  if (/(rgb|bgr)(48|64)|rgba64|bgra64|ya16|gray16|16(le|be)$/.test(pixFmt)) return 16;
  const m = /p(9|10|12|14)(le|be)$|gray(9|10|12|14)|^x?(v|y)?(210|410)/.exec(pixFmt);
  if (m) return Number(m[1] ?? m[3] ?? 10);
  return 8;
}

/** Reads a media file's streams with ffprobe. Errors name the file and what ffprobe said. */
export async function probe(file: string): Promise<ProbeResult> {
  await assertFile(file);
  const data = await new Promise<Ffmpeg.FfprobeData>((resolve, reject) => {
    command(file).ffprobe((err: Error | null, d: Ffmpeg.FfprobeData) => {
      if (err) {
        const msg = String(err.message ?? err).replace(/^ffprobe exited with code \d+\s*/, '');
        reject(new Error(`cannot read ${file} (corrupt, truncated or not a media file): ffprobe says: ${ffmpegSays(msg, msg.trim())}`));
      } else resolve(d);
    });
  });
  const fmt = data.format ?? {};
  const duration = Number(fmt.duration);
  const v = data.streams.find((s) => s.codec_type === 'video' && !(s.disposition && s.disposition.attached_pic));
  const a = data.streams.find((s) => s.codec_type === 'audio');
  let video: VideoStreamInfo | null = null;
  if (v) {
    const rate = parseRational(v.avg_frame_rate) ?? parseRational(v.r_frame_rate);
    const nb = Number(v.nb_frames);
    const vdur = Number(v.duration);
    const dur = Number.isFinite(vdur) && vdur > 0 ? vdur : Number.isFinite(duration) ? duration : NaN;
    const exact = Number.isFinite(nb) && nb > 0;
    const frames = exact ? nb : rate && Number.isFinite(dur) ? Math.round(dur * rate.value) : null;
    const pixFmt = String(v.pix_fmt ?? 'unknown');
    video = {
      codec: String(v.codec_name ?? 'unknown'),
      width: Number(v.width),
      height: Number(v.height),
      fps: rate?.value ?? 0,
      fpsRational: rate?.text ?? '0',
      pixFmt,
      bitDepth: pixFmtBitDepth(pixFmt),
      frames,
      framesExact: exact,
    };
  }
  const audio: AudioStreamInfo | null = a
    ? { codec: String(a.codec_name ?? 'unknown'), sampleRate: Number(a.sample_rate), channels: Number(a.channels) }
    : null;
  return { file, format: String(fmt.format_name ?? 'unknown'), duration: Number.isFinite(duration) ? duration : null, video, audio };
}
