import sharp from 'sharp';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Image } from './types.js';

export interface ReadOptions {
  /** Force a channel count: 1 (grey), 3 (RGB) or 4 (RGBA). Default: the file's, alpha kept. */
  channels?: 1 | 3 | 4;
}

export interface DecodedImage extends Image {
  /** Bits per sample of the source file (8 or 16). */
  bitDepth: 8 | 16;
}

/** Interleaved integer samples of an image file: Uint8Array (8-bit) or Uint16Array (16-bit, native order). */
export interface ImageSamples {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array | Uint16Array;
}

/** Largest image read (pixels): 16K x 16K, far above any plate (8K is 35 Mpx). */
export const MAX_PIXELS = 16384 * 16384;

/** Decodes PNG/JPEG/TIFF/WebP into its integer samples (`channels` as in readImage), without the float conversion. */
export async function readSamples(file: string, opts: ReadOptions = {}): Promise<ImageSamples> {
  let pipe = sharp(file, { failOn: 'error', limitInputPixels: false });
  const meta = await pipe.metadata().catch((e: Error) => {
    throw new Error(`cannot read image ${file}: ${e.message}`);
  });
  const sixteen = meta.depth === 'ushort' || meta.depth === 'short';
  if (opts.channels === 1) pipe = pipe.toColourspace(sixteen ? 'grey16' : 'b-w');
  else if (opts.channels === 3) pipe = pipe.removeAlpha().toColourspace(sixteen ? 'rgb16' : 'srgb');
  else if (opts.channels === 4) pipe = pipe.ensureAlpha().toColourspace(sixteen ? 'rgb16' : 'srgb');
  else if (sixteen) pipe = pipe.toColourspace((meta.channels ?? 3) <= 2 ? 'grey16' : 'rgb16');
  else if ((meta.channels ?? 3) <= 2) pipe = pipe.toColourspace('b-w'); // else libvips hands grey back as sRGB
  // a header may claim any size (100000x100000): refuse before decoding, naming the file
  const px = (meta.width ?? 0) * (meta.height ?? 0);
  if (px > MAX_PIXELS) {
    throw new Error(`cannot read image ${file}: ${meta.width}x${meta.height} pixels (${(px / 1e6).toFixed(0)} Mpx) is more than the ${MAX_PIXELS / 1e6} Mpx this reads; scale it down first (or check the file: its header may be damaged)`);
  }
  const { data, info } = await pipe
    .raw({ depth: sixteen ? 'ushort' : 'uchar' })
    .toBuffer({ resolveWithObject: true })
    .catch((e: Error) => {
      throw new Error(`cannot read image ${file}: ${e.message}`);
    });
  const n = info.width * info.height * info.channels;
  const samples = sixteen
    ? data.byteOffset % 2 === 0 ? new Uint16Array(data.buffer, data.byteOffset, n) : new Uint16Array(n).map((_, i) => data.readUInt16LE(2 * i))
    : new Uint8Array(data.buffer, data.byteOffset, n);
  return { width: info.width, height: info.height, channels: info.channels, data: samples };
}

/** Decodes PNG/JPEG/TIFF/WebP (anything libvips reads) into a float image in [0, 1]. */
export async function readImage(file: string, opts: ReadOptions = {}): Promise<DecodedImage> {
  const { width, height, channels, data: src } = await readSamples(file, opts);
  const n = src.length;
  const out = new Float32Array(n);
  const sixteen = src instanceof Uint16Array;
  const max = sixteen ? 65535 : 255;
  for (let i = 0; i < n; i++) out[i] = src[i] / max;
  return { width, height, channels, data: out, bitDepth: sixteen ? 16 : 8 };
}

/** Quantises a float image to 8- or 16-bit samples (rounding, clamped). */
export function quantise(img: Image, bitDepth: 8 | 16): Uint8Array | Uint16Array {
  const n = img.data.length;
  const max = bitDepth === 16 ? 65535 : 255;
  const out = bitDepth === 16 ? new Uint16Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = img.data[i] * max + 0.5;
    out[i] = v <= 0 ? 0 : v >= max ? max : v;
  }
  return out;
}

export interface WriteOptions {
  bitDepth?: 8 | 16;
  /** PNG zlib level 0-9 (default 3: fast; intermediates are read far more often than they are archived). */
  compression?: number;
}

/** Encodes a float image as PNG (8 or 16 bit), creating the folder. */
export async function writePng(file: string, img: Image, opts: WriteOptions = {}): Promise<void> {
  await writePngSamples(file, quantise(img, opts.bitDepth ?? 8), img.width, img.height, img.channels, opts.compression);
}

/**
 * Writes 8-bit (Uint8Array) or 16-bit (Uint16Array, native order) interleaved samples as PNG, creating the
 * folder. Sample depth follows the array type.
 */
export async function writePngSamples(file: string, samples: Uint8Array | Uint16Array, width: number, height: number, channels: number, compression = 3): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await pngPipe(samples, width, height, channels, compression).toFile(file);
}

/** The same as writePngSamples, into a buffer. */
export function encodePngSamples(samples: Uint8Array | Uint16Array, width: number, height: number, channels: number, compression = 3): Promise<Buffer> {
  return pngPipe(samples, width, height, channels, compression).toBuffer();
}

function pngPipe(samples: Uint8Array | Uint16Array, width: number, height: number, channels: number, compression: number): sharp.Sharp {
  // sharp infers the sample depth from the typed array (Uint16Array -> 16 bit), so pass it as is
  let pipe = sharp(samples, { raw: { width, height, channels: channels as 1 | 2 | 3 | 4 } });
  // without an explicit colourspace libvips would widen one channel to RGB
  if (samples instanceof Uint16Array) pipe = pipe.toColourspace(channels <= 2 ? 'grey16' : 'rgb16');
  else if (channels <= 2) pipe = pipe.toColourspace('b-w');
  return pipe.png({ compressionLevel: compression });
}

/** Encodes a float image as PNG into a buffer (8-bit). */
export async function encodePng(img: Image): Promise<Buffer> {
  const q = quantise(img, 8);
  return sharp(q, { raw: { width: img.width, height: img.height, channels: img.channels as 1 | 2 | 3 | 4 } })
    .png({ compressionLevel: 3 })
    .toBuffer();
}

