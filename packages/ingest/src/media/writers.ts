import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { encodePngSamples, packedFrame, type ColourDescription } from '@facecomb/image';
import { avGetPixFmtFromName, Frame, Packet, type CodecContext } from 'node-av/lib';
import { addAudio, type AudioCut } from './audio.js';
import { colourEnums, tagPng } from './colour.js';
import { Graph } from './graph.js';
import { encodeFrame, MediaOutput, openEncoder, type EncoderSpec } from './output.js';
import type { Rational } from './rational.js';

/** Interleaved RGB or RGBA samples, 8-bit (Uint8Array) or 16-bit (Uint16Array, native order). */
export interface Samples {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Uint8Array | Uint16Array;
}

function packedFormat(s: Pick<Samples, 'channels' | 'data'>): string {
  const sixteen = s.data instanceof Uint16Array;
  return s.channels === 4 ? (sixteen ? 'rgba64le' : 'rgba') : sixteen ? 'rgb48le' : 'rgb24';
}

function toFrame(s: Samples, pts: number, colour: ColourDescription | null): Frame {
  const frame = packedFrame(s.data, s.width, s.height, avGetPixFmtFromName(packedFormat(s)), { num: 1, den: 1 });
  frame.pts = BigInt(pts);
  tagFrame(frame, colour, true);
  return frame;
}

/** Tags a frame (or encoder) with a colour description; `rgb`: its samples are RGB (full range, no matrix). */
function tagFrame(f: Frame | CodecContext, colour: ColourDescription | null, rgb: boolean, yuvMatrix?: number): void {
  if (!colour) return;
  const e = colourEnums(colour);
  if (e.primaries !== undefined) f.colorPrimaries = e.primaries as never;
  if (e.transfer !== undefined) f.colorTrc = e.transfer as never;
  f.colorSpace = (rgb ? 0 : yuvMatrix ?? 1) as never;
  f.colorRange = (rgb ? 2 : 1) as never;
}

/** The YUV matrix to encode with: the source's when it had one, else BT.709. */
function yuvMatrixOf(colour: ColourDescription | null): { name: string; value: number } {
  const m = colour?.matrix;
  const e = m ? colourEnums({ primaries: '', transfer: '', matrix: m, range: '' }).matrix : undefined;
  return e !== undefined && e !== 0 && m ? { name: m, value: e } : { name: 'bt709', value: 1 };
}

export type VideoFormat = 'mp4' | 'prores' | 'prores4444';

interface VideoCodecChoice {
  spec: (w: number, h: number, tb: Rational) => EncoderSpec;
  pixFmt: string;
  container: string;
}

function videoCodec(format: VideoFormat, crf: number): VideoCodecChoice {
  if (format === 'mp4') {
    return {
      pixFmt: 'yuv420p', container: 'mp4',
      spec: (w, h, tb) => ({ codec: 'libx264', configure: (c) => { c.width = w; c.height = h; c.timeBase = tb as never; c.pixelFormat = avGetPixFmtFromName('yuv420p'); c.threadCount = 0; }, options: { crf: String(crf), preset: 'medium' } }),
    };
  }
  const four = format === 'prores4444';
  const pix = four ? 'yuva444p10le' : 'yuv422p10le';
  return {
    pixFmt: pix, container: 'mov',
    spec: (w, h, tb) => ({ codec: 'prores_ks', configure: (c) => { c.width = w; c.height = h; c.timeBase = tb as never; c.pixelFormat = avGetPixFmtFromName(pix); c.threadCount = 0; }, options: { profile: four ? '4' : '3', vendor: 'apl0', ...(four ? { alpha_bits: '16' } : {}) } }),
  };
}

export interface VideoWriterOptions {
  format: VideoFormat;
  fps: Rational;
  /** H.264 constant rate factor (default 18). */
  crf?: number;
  colour?: ColourDescription | null;
  /** Audio to mux, cut from a file (AAC 192 kb/s). */
  audio?: { file: string } & AudioCut;
}

/**
 * Writes a video (H.264 mp4, ProRes 422 HQ or ProRes 4444 with alpha mov) from RGB(A) samples fed one frame at
 * a time: converted to the codec's YUV with the plate's matrix, tagged with its colour description, odd
 * sizes padded to even, the audio (if any) cut to the video.
 */
export class VideoWriter {
  private out: MediaOutput | null = null;
  private graph: Graph | null = null;
  private index = 0;
  private count = 0;
  private writeAudio: (() => Promise<void>) | null = null;
  codec = '';

  constructor(readonly file: string, readonly opts: VideoWriterOptions) {}

  private async begin(s: Samples): Promise<void> {
    const choice = videoCodec(this.opts.format, this.opts.crf ?? 18);
    const w = s.width + (s.width % 2), h = s.height + (s.height % 2);
    const tb = { num: this.opts.fps.den, den: this.opts.fps.num };
    await mkdir(dirname(this.file), { recursive: true });
    const out = MediaOutput.create(this.file, choice.container);
    this.out = out;
    const colour = this.opts.colour ?? null;
    const matrix = yuvMatrixOf(colour);
    const spec = choice.spec(w, h, tb);
    const configure = spec.configure;
    spec.configure = (c) => {
      configure(c);
      c.framerate = this.opts.fps as never;
      tagFrame(c, colour, false, matrix.value);
    };
    const enc = await openEncoder(spec, out.globalHeader);
    this.codec = spec.codec;
    this.index = out.addEncoder(enc);
    if (this.opts.audio) this.writeAudio = await addAudio(out, this.opts.audio.file, this.opts.audio);
    await out.start();
    // audio first: the muxer interleaves it with the video by time (audio is small)
    if (this.writeAudio) await this.writeAudio();
    const src = `video_size=${w}x${h}:pix_fmt=${avGetPixFmtFromName(packedFormat(s))}:time_base=${tb.num}/${tb.den}:pixel_aspect=1/1:colorspace=0:range=2`;
    this.graph = await Graph.create([{ video: src }], `[src0]scale=out_color_matrix=${matrix.name}:out_range=tv,format=${choice.pixFmt}`);
  }

  async write(samples: Samples): Promise<void> {
    // odd sizes padded to even here (yuv420p needs it), the last row and column repeated
    const s = samples.width % 2 || samples.height % 2 ? padEven(samples) : samples;
    if (!this.graph) await this.begin(s);
    const frame = toFrame(s, this.count++, null);
    try {
      await this.graph!.push(frame);
    } finally {
      frame.free();
    }
    for await (const f of this.graph!.pull()) await this.out!.encode(this.index, f);
  }

  async finish(): Promise<{ codec: string; count: number }> {
    if (!this.out) throw new Error(`no frames to write to ${this.file}`);
    await this.graph!.push(null);
    for await (const f of this.graph!.pull()) await this.out.encode(this.index, f);
    await this.out.finish();
    this.graph!.close();
    return { codec: this.codec, count: this.count };
  }

  /** Drops a half-written file's handles after an error. */
  async abort(): Promise<void> {
    this.graph?.close();
    await this.out?.close().catch(() => undefined);
  }
}

export type StillFormat = 'png' | 'png16' | 'tiff16';

/**
 * Writes still images, RGB or RGBA: PNG 8/16-bit through libvips (sharp; FFmpeg's PNG encoder is ~20x slower),
 * tagged with the colour description (cICP, and sRGB when it is sRGB); TIFF 16-bit (deflate) through FFmpeg.
 */
export class StillWriter {
  private enc: CodecContext | null = null;
  private key = '';
  private readonly pkt = new Packet();

  constructor(readonly format: StillFormat, readonly colour: ColourDescription | null) {
    this.pkt.alloc();
  }

  async write(file: string, s: Samples): Promise<void> {
    const sixteen = this.format !== 'png';
    const data = sixteen && !(s.data instanceof Uint16Array) ? widen(s.data) : !sixteen && s.data instanceof Uint16Array ? narrow(s.data) : s.data;
    const bytes = this.format === 'tiff16' ? await this.tiff({ ...s, data }) : tagPng(await encodePngSamples(data, s.width, s.height, s.channels), this.colour);
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  }

  private async tiff(s: Samples): Promise<Buffer> {
    const want = s.channels === 4 ? 'rgba64le' : 'rgb48le';
    const key = `${s.width}x${s.height}:${want}`;
    if (this.key !== key) {
      this.enc?.freeContext();
      this.enc = await openEncoder({
        codec: 'tiff',
        configure: (c) => {
          c.width = s.width; c.height = s.height; c.pixelFormat = avGetPixFmtFromName(want); c.timeBase = { num: 1, den: 25 } as never;
          tagFrame(c, this.colour, true);
        },
        options: { compression_algo: 'deflate' },
      });
      this.key = key;
    }
    const frame = packedFrame(s.data, s.width, s.height, avGetPixFmtFromName(want), { num: 1, den: 25 });
    tagFrame(frame, this.colour, true);
    const parts: Buffer[] = [];
    try {
      await encodeFrame(this.enc!, frame, this.pkt, async (p) => void parts.push(Buffer.from(p.data!)));
    } finally {
      frame.free();
    }
    return Buffer.concat(parts);
  }

  close(): void {
    this.enc?.freeContext();
    this.pkt.free();
  }
}

function padEven(s: Samples): Samples {
  const w = s.width + (s.width % 2), h = s.height + (s.height % 2), c = s.channels;
  const out = s.data instanceof Uint16Array ? new Uint16Array(w * h * c) : new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(y, s.height - 1);
    out.set(s.data.subarray(sy * s.width * c, (sy + 1) * s.width * c), y * w * c);
    if (w !== s.width) out.set(s.data.subarray(((sy + 1) * s.width - 1) * c, (sy + 1) * s.width * c), (y * w + w - 1) * c);
  }
  return { width: w, height: h, channels: s.channels, data: out };
}

export function widen(d: Uint8Array | Uint16Array): Uint16Array {
  const out = new Uint16Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = d[i] * 257;
  return out;
}

export function narrow(d: Uint16Array): Uint8Array {
  const out = new Uint8Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = (d[i] + 128) / 257;
  return out;
}
