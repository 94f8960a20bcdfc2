/**
 * Preview sheets: per identity, rows of samples: input | its own decoder (reconstruction) | each other
 * decoder (swaps), with the columns named in a header and each row named (held-out or train, and the frame).
 */
import { join } from 'node:path';
import { drawText, textWidth, GLYPH_HEIGHT, writePng, type Image } from '@facecomb/image';
import { tf, type Tensor4D } from './tf.js';
import type { CombModel } from './model.js';
import type { Sample } from './data.js';

/** Runs the model in inference mode; returns [B, r, r, 3] floats per decoder index. */
export async function infer(model: CombModel, x: Float32Array, n: number, r: number, alpha: number, decoders: number[]): Promise<Float32Array[]> {
  const outs = tf.tidy(() => {
    const xt = tf.tensor4d(x, [n, r, r, 3]);
    const z = model.encode(xt, alpha, { training: false });
    return decoders.map((i) => model.decode(z, i, r, alpha, { training: false }));
  });
  const data = await Promise.all(outs.map((t: Tensor4D) => t.data() as Promise<Float32Array>));
  outs.forEach((t) => t.dispose());
  return data;
}

function blit(dst: Image, src: Float32Array, r: number, scale: number, ox: number, oy: number): void {
  for (let y = 0; y < r * scale; y++) {
    for (let x = 0; x < r * scale; x++) {
      const si = (Math.floor(y / scale) * r + Math.floor(x / scale)) * 3;
      const di = ((oy + y) * dst.width + ox + x) * 3;
      dst.data[di] = src[si];
      dst.data[di + 1] = src[si + 1];
      dst.data[di + 2] = src[si + 2];
    }
  }
}

const BACKGROUND = 0.12;
const INK = [1, 1, 1];
/** Header strip height: one line of text and a margin. */
export const PREVIEW_HEADER = GLYPH_HEIGHT + 6;

/** A label cut to fit `width` pixels. */
function fit(text: string, width: number): string {
  let t = text;
  while (t.length > 1 && textWidth(t) > width - 2) t = t.slice(0, -1);
  return t;
}

/** The column names of identity i's sheet: input, its own decoder, then the other decoders. */
export function previewColumns(names: string[], i: number): string[] {
  return ['input', `${names[i]} (own)`, ...names.filter((_, j) => j !== i)];
}

/** The width of the row-label margin for these rows. */
export function previewMargin(rows: Sample[]): number {
  return Math.max(...rows.map((s) => textWidth(s.label ?? ''))) + 6;
}

/** Writes previews/<step>_<identity>.png for every identity; returns the files written. */
export async function writePreviews(dir: string, step: number, model: CombModel, samples: Sample[][], r: number, alpha: number): Promise<string[]> {
  const names = model.cfg.model.identities;
  const scale = Math.max(1, Math.floor(64 / r));
  const t = r * scale;
  const top = PREVIEW_HEADER;
  const files: string[] = [];
  for (let i = 0; i < names.length; i++) {
    const rows = samples[i];
    if (!rows.length) continue;
    const n = rows.length;
    const x = new Float32Array(n * r * r * 3);
    rows.forEach((s, k) => x.set(s.x, k * r * r * 3));
    const order = [i, ...names.map((_, j) => j).filter((j) => j !== i)];
    const outs = await infer(model, x, n, r, alpha, order);
    const cols = 1 + order.length;
    const left = previewMargin(rows);
    const width = left + cols * t;
    const height = top + n * t;
    const sheet: Image = { width, height, channels: 3, data: new Float32Array(width * height * 3).fill(BACKGROUND) };
    previewColumns(names, i).forEach((label, c) => drawText(sheet, fit(label, t), left + c * t + 1, 3, INK));
    for (let k = 0; k < n; k++) {
      drawText(sheet, rows[k].label ?? '', 3, top + k * t + Math.floor((t - GLYPH_HEIGHT) / 2), INK);
      blit(sheet, rows[k].x, r, scale, left, top + k * t);
      order.forEach((_, c) => blit(sheet, outs[c].subarray(k * r * r * 3, (k + 1) * r * r * 3), r, scale, left + (c + 1) * t, top + k * t));
    }
    const file = join(dir, `${String(step).padStart(6, '0')}_${names[i].replace(/[^A-Za-z0-9._-]/g, '_')}.png`);
    await writePng(file, sheet);
    files.push(file);
  }
  return files;
}
