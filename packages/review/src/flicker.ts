import { join } from 'node:path';
import sharp from 'sharp';
import { frameName } from '@facecomb/stage';

const W = 128;

async function grey(file: string): Promise<Uint8Array | null> {
  try {
    const { data } = await sharp(file).resize({ width: W, height: W, fit: 'fill' }).greyscale().raw().toBuffer({ resolveWithObject: true });
    return new Uint8Array(data.buffer, data.byteOffset, data.length);
  } catch {
    return null;
  }
}

export interface Flicker {
  /** Consecutive frame pairs measured (sampled evenly over the shot). */
  pairs: number;
  /** Share of the (128x128) picture where after differs from before: the swapped region. */
  region: number;
  /** Mean absolute frame-to-frame change (8-bit levels) inside that region: before, after, after/before. */
  before: number | null;
  after: number | null;
  ratio: number | null;
}

/**
 * Temporal flicker of a swap or blend against what it replaced: inside the region where the two sequences
 * differ, how much each changes from one frame to the next. A ratio near 1 means the swap moves like the
 * plate; above 1 it adds flicker. Measured on greyscale 128x128 copies of up to `maxPairs` frame pairs.
 */
export async function flicker(root: string, a: string, b: string, frames: number[], maxPairs = 24): Promise<Flicker> {
  const pairs: number[] = [];
  const step = Math.max(1, Math.floor((frames.length - 1) / maxPairs));
  for (let i = 0; i + 1 < frames.length && pairs.length < maxPairs; i += step) pairs.push(i);
  const seq: { a0: Uint8Array; a1: Uint8Array; b0: Uint8Array; b1: Uint8Array }[] = [];
  for (const i of pairs) {
    const [a0, a1, b0, b1] = await Promise.all([grey(join(root, a, frameName(frames[i]))), grey(join(root, a, frameName(frames[i + 1]))), grey(join(root, b, frameName(frames[i]))), grey(join(root, b, frameName(frames[i + 1])))]);
    if (a0 && a1 && b0 && b1 && a0.length === b0.length) seq.push({ a0, a1, b0, b1 });
  }
  const none: Flicker = { pairs: seq.length, region: 0, before: null, after: null, ratio: null };
  if (!seq.length) return none;
  const n = seq[0].a0.length;
  const diff = new Float64Array(n);
  for (const s of seq) for (let p = 0; p < n; p++) diff[p] += Math.abs(s.b0[p] - s.a0[p]) / seq.length;
  let count = 0;
  let before = 0;
  let after = 0;
  for (let p = 0; p < n; p++) {
    if (diff[p] < 3) continue; // the same as before here: not part of the swap
    count++;
    for (const s of seq) {
      before += Math.abs(s.a1[p] - s.a0[p]);
      after += Math.abs(s.b1[p] - s.b0[p]);
    }
  }
  if (!count) return { ...none, region: 0 };
  const k = count * seq.length;
  return { pairs: seq.length, region: count / n, before: before / k, after: after / k, ratio: before > 0 ? after / before : null };
}
