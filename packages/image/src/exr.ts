import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AVERROR_EAGAIN, AVERROR_EOF, AVCOL_PRI_BT709, AVCOL_RANGE_JPEG, AVCOL_SPC_RGB, AVCOL_TRC_LINEAR, AV_PIX_FMT_GBRAPF16LE, AV_PIX_FMT_GBRAPF32LE, AV_PIX_FMT_GBRPF16LE, AV_PIX_FMT_GBRPF32LE, FF_DECODER_EXR, FF_ENCODER_EXR } from 'node-av/constants';
import { Codec, CodecContext, Dictionary, FFmpegError, Frame, Packet } from 'node-av/lib';
import { packedFrame } from './avframe.js';
import type { Image } from './types.js';

/**
 * OpenEXR through FFmpeg's own codec (node-av): scene-linear float images, any value (above 1.0 and below 0
 * kept). Reading takes every compression FFmpeg knows (NONE, RLE, ZIPS, ZIP, PIZ, PXR24, B44, DWAA/DWAB);
 * writing is scanline half float (or float), ZIP (16 lines) by default, RGB or RGBA.
 */
export interface ExrImage extends Image {
  /** The file's channel type: half or float (uint is read as float). */
  sampleType: 'half' | 'float';
}

function why(code: number): string {
  return FFmpegError.fromCode(code)?.message ?? `error ${code}`;
}

/** Reads an EXR file into an interleaved float image (RGB, or RGBA when the file has alpha). */
export async function readExr(file: string): Promise<ExrImage> {
  const bytes = await readFile(file).catch((e: NodeJS.ErrnoException) => {
    throw new Error(`cannot read EXR ${file}: ${e.code === 'ENOENT' ? 'file not found' : e.message}`);
  });
  return decodeExr(bytes, file);
}

/** Decodes EXR bytes (`name` only for messages). */
export async function decodeExr(bytes: Buffer, name = 'EXR data'): Promise<ExrImage> {
  const codec = Codec.findDecoderByName(FF_DECODER_EXR)!;
  const ctx = new CodecContext();
  ctx.allocContext3(codec);
  ctx.threadCount = 1;
  const pkt = new Packet();
  pkt.alloc();
  const frame = new Frame();
  frame.alloc();
  try {
    // apply_trc left alone: the values come back as stored (scene-linear)
    let ret = await ctx.open2(codec, null);
    if (ret < 0) throw new Error(`cannot open FFmpeg's EXR decoder: ${why(ret)}`);
    pkt.data = bytes;
    ret = await ctx.sendPacket(pkt);
    if (ret >= 0) ret = await ctx.sendPacket(null);
    if (ret < 0 && ret !== AVERROR_EOF) throw new Error(`cannot read EXR ${name}: FFmpeg says: ${why(ret)}`);
    ret = await ctx.receiveFrame(frame);
    if (ret < 0) throw new Error(`cannot read EXR ${name}: FFmpeg says: ${why(ret)}${ret === AVERROR_EAGAIN ? ' (no picture)' : ''}`);
    const f = frame.format;
    const half = f === AV_PIX_FMT_GBRPF16LE || f === AV_PIX_FMT_GBRAPF16LE;
    const alpha = f === AV_PIX_FMT_GBRAPF32LE || f === AV_PIX_FMT_GBRAPF16LE;
    if (!half && f !== AV_PIX_FMT_GBRPF32LE && f !== AV_PIX_FMT_GBRAPF32LE) throw new Error(`cannot read EXR ${name}: FFmpeg decodes it as pixel format ${f}, not RGB(A) half or float (a luminance/chroma or deep file?)`);
    const { width, height } = frame;
    const c = alpha ? 4 : 3;
    const data = new Float32Array(width * height * c);
    const planes = frame.data!;
    const ls = frame.linesize;
    const table = half ? halfTable() : null;
    // planar G, B, R(, A) -> interleaved R, G, B(, A); half samples through an exact lookup table
    const order = [2, 0, 1, 3];
    for (let k = 0; k < c; k++) {
      const p = planes[order[k]];
      const bytes = half ? 2 : 4;
      const stride = ls[order[k]] / bytes;
      const plane = half ? new Uint16Array(p.buffer, p.byteOffset, stride * height) : new Float32Array(p.buffer, p.byteOffset, stride * height);
      for (let y = 0; y < height; y++) {
        let o = y * width * c + k;
        const row = y * stride;
        if (table) for (let x = 0; x < width; x++, o += c) data[o] = table[plane[row + x]];
        else for (let x = 0; x < width; x++, o += c) data[o] = plane[row + x];
      }
    }
    return { width, height, channels: c, data, sampleType: half ? 'half' : 'float' };
  } finally {
    frame.free();
    pkt.free();
    ctx.freeContext();
  }
}

let HALF: Float32Array | null = null;

/** Every half-float bit pattern as a float32 (exact: each half is a float32). */
export function halfTable(): Float32Array {
  if (HALF) return HALF;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    t[h] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return (HALF = t);
}

/**
 * Rounds float32 samples in place to the nearest half float (ties to even for normal halves), so that
 * FFmpeg's encoder, which truncates to half, stores the nearest half. Values already halves are unchanged.
 */
export function roundToHalf(f: Float32Array): void {
  const u = new Uint32Array(f.buffer, f.byteOffset, f.length);
  for (let i = 0; i < u.length; i++) {
    const x = u[i];
    const e = (x >>> 23) & 0xff;
    if (e >= 113 && e < 143) u[i] = (x + 0xfff + ((x >>> 13) & 1)) & 0xffffe000;
    else if (e >= 100 && e < 113) f[i] = Math.round(f[i] * 16777216) / 16777216; // half subnormals: steps of 2^-24
  }
}

/** The half float an EXR half channel keeps for `v` (see roundToHalf), as a number. */
export function toHalf(v: number): number {
  const a = new Float32Array([v]);
  roundToHalf(a);
  return Math.abs(a[0]) >= 65520 ? Math.sign(a[0]) * Infinity : a[0];
}

export interface ExrWriteOptions {
  /** Sample type in the file (default half). */
  sampleType?: 'half' | 'float';
  /** Compression (default zip16: ZIP over 16 scanlines, lossless). */
  compression?: 'none' | 'rle' | 'zip1' | 'zip16';
  /** Alpha for an RGB image (1 channel, same size): written as the A channel. */
  alpha?: Image;
}

/** Encodes a float RGB(A) image (values as they are: linear light, any range) as EXR bytes. */
export async function encodeExr(img: Image, opts: ExrWriteOptions = {}): Promise<Buffer> {
  const { width: w, height: h } = img;
  if (img.channels !== 3 && img.channels !== 4) throw new Error(`EXR: an RGB or RGBA image is needed, got ${img.channels} channels`);
  if (opts.alpha && (opts.alpha.width !== w || opts.alpha.height !== h || opts.alpha.channels !== 1)) throw new Error(`EXR: the alpha must be 1 channel of ${w}x${h}`);
  const withAlpha = img.channels === 4 || !!opts.alpha;
  const n = w * h;
  const np = withAlpha ? 4 : 3;
  const buf = Buffer.alloc(n * 4 * np);
  const planes = Array.from({ length: np }, (_, k) => new Float32Array(buf.buffer, buf.byteOffset + k * n * 4, n));
  // interleaved R, G, B(, A) -> planar G, B, R(, A)
  const c = img.channels, d = img.data;
  for (let i = 0, s = 0; i < n; i++, s += c) {
    planes[0][i] = d[s + 1];
    planes[1][i] = d[s + 2];
    planes[2][i] = d[s];
    if (np === 4) planes[3][i] = c === 4 ? d[s + 3] : opts.alpha!.data[i];
  }
  if ((opts.sampleType ?? 'half') === 'half') for (const p of planes) roundToHalf(p);
  const codec = Codec.findEncoderByName(FF_ENCODER_EXR)!;
  const ctx = new CodecContext();
  ctx.allocContext3(codec);
  ctx.width = w;
  ctx.height = h;
  ctx.pixelFormat = withAlpha ? AV_PIX_FMT_GBRAPF32LE : AV_PIX_FMT_GBRPF32LE;
  ctx.timeBase = { num: 1, den: 25 } as never;
  ctx.colorTrc = AVCOL_TRC_LINEAR;
  ctx.colorPrimaries = AVCOL_PRI_BT709;
  ctx.colorSpace = AVCOL_SPC_RGB;
  ctx.colorRange = AVCOL_RANGE_JPEG;
  const frame = packedFrame(buf, w, h, ctx.pixelFormat, { num: 1, den: 25 });
  const pkt = new Packet();
  pkt.alloc();
  try {
    const options = Dictionary.fromObject({ format: opts.sampleType ?? 'half', compression: opts.compression ?? 'zip16' });
    let ret = await ctx.open2(codec, options);
    if (ret < 0) throw new Error(`cannot open FFmpeg's EXR encoder: ${why(ret)}`);
    ret = await ctx.sendFrame(frame);
    if (ret >= 0) ret = await ctx.sendFrame(null);
    if (ret < 0 && ret !== AVERROR_EOF) throw new Error(`EXR encoder: ${why(ret)}`);
    ret = await ctx.receivePacket(pkt);
    if (ret < 0) throw new Error(`EXR encoder gave no picture: ${why(ret)}`);
    return Buffer.from(pkt.data!);
  } finally {
    pkt.free();
    frame.free();
    ctx.freeContext();
  }
}

/** Writes an EXR file (creating the folder; a temp name then a rename, so a reader never sees half a file). */
export async function writeExr(file: string, img: Image, opts: ExrWriteOptions = {}): Promise<void> {
  const bytes = await encodeExr(img, opts);
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, file);
}
