import { crc32 } from 'node:zlib';
import type { ColourDescription } from '@facecomb/image';

/** FFmpeg's colour enum values and their names (libavutil/pixfmt.h, the same numbers as ITU-T H.273). */
const PRIMARIES: Record<number, string> = { 1: 'bt709', 4: 'bt470m', 5: 'bt470bg', 6: 'smpte170m', 7: 'smpte240m', 8: 'film', 9: 'bt2020', 10: 'smpte428', 11: 'smpte431', 12: 'smpte432', 22: 'jedec-p22' };
const TRANSFER: Record<number, string> = {
  1: 'bt709', 4: 'gamma22', 5: 'gamma28', 6: 'smpte170m', 7: 'smpte240m', 8: 'linear', 9: 'log100', 10: 'log316', 11: 'iec61966-2-4',
  12: 'bt1361e', 13: 'iec61966-2-1', 14: 'bt2020-10', 15: 'bt2020-12', 16: 'smpte2084', 17: 'smpte428', 18: 'arib-std-b67',
};
const MATRIX: Record<number, string> = { 0: 'gbr', 1: 'bt709', 4: 'fcc', 5: 'bt470bg', 6: 'smpte170m', 7: 'smpte240m', 8: 'ycgco', 9: 'bt2020nc', 10: 'bt2020c', 14: 'ictcp' };
const RANGE: Record<number, string> = { 1: 'tv', 2: 'pc' };

function lookup(table: Record<number, string>, v: number): string {
  return table[v] ?? 'unknown';
}

function reverse(table: Record<number, string>, name: string): number | undefined {
  for (const [k, v] of Object.entries(table)) if (v === name) return Number(k);
  return undefined;
}

/** The FFmpeg enum values of a description, for tagging an encoder (undefined where unknown). */
export function colourEnums(c: Pick<ColourDescription, 'primaries' | 'transfer' | 'matrix' | 'range'>): { primaries?: number; transfer?: number; matrix?: number; range?: number } {
  return { primaries: reverse(PRIMARIES, c.primaries), transfer: reverse(TRANSFER, c.transfer), matrix: reverse(MATRIX, c.matrix), range: reverse(RANGE, c.range) };
}

/** Names of FFmpeg's colour enum values. */
export function colourNames(v: { primaries: number; transfer: number; matrix: number; range: number }): Pick<ColourDescription, 'primaries' | 'transfer' | 'matrix' | 'range'> {
  return { primaries: lookup(PRIMARIES, v.primaries), transfer: lookup(TRANSFER, v.transfer), matrix: lookup(MATRIX, v.matrix), range: lookup(RANGE, v.range) };
}


function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * Tags PNG bytes with a colour description: a cICP chunk (ITU-T H.273 codes: primaries, transfer, matrix 0 for RGB,
 * full range), read by FFmpeg and current browsers, and an sRGB chunk when the description is sRGB. Inserted after
 * IHDR; PNG bytes without known primaries and transfer come back unchanged.
 */
export function tagPng(png: Buffer, c: ColourDescription | null): Buffer {
  if (!c) return png;
  const e = colourEnums(c);
  if (e.primaries === undefined || e.transfer === undefined) return png;
  const ihdrEnd = 8 + 8 + png.readUInt32BE(8) + 4;
  const parts = [png.subarray(0, ihdrEnd), chunk('cICP', Buffer.from([e.primaries, e.transfer, 0, 1]))];
  if (c.primaries === 'bt709' && c.transfer === 'iec61966-2-1') parts.push(chunk('sRGB', Buffer.from([0])));
  parts.push(png.subarray(ihdrEnd));
  return Buffer.concat(parts);
}
