import { Frame, FFmpegError } from 'node-av/lib';

/**
 * A video frame holding a copy of samples (packed, or planes one after another), its rows aligned to 64 bytes. (Frame.fromVideoBuffer
 * allocates rows of exactly width x pixel size, which FFmpeg's SIMD filters read and write past.)
 */
export function packedFrame(data: Uint8Array | Uint16Array | Float32Array, width: number, height: number, pixFmt: number, timeBase: { num: number; den: number }): Frame {
  const frame = new Frame();
  frame.alloc();
  frame.width = width;
  frame.height = height;
  frame.format = pixFmt as never;
  frame.timeBase = timeBase as never;
  let ret = frame.getBuffer(64);
  if (ret >= 0) ret = frame.fromBuffer(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  if (ret < 0) {
    frame.free();
    throw new Error(`cannot make a ${width}x${height} frame: ${FFmpegError.fromCode(ret)?.message ?? ret}`);
  }
  return frame;
}
