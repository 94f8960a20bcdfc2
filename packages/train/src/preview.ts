/** Preview sheets: per identity, rows of samples: input | reconstruction | swap into each other identity. */
import { join } from 'node:path';
import { writePng, type Image } from '@facecomb/image';
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

/** Writes previews/<step>_<identity>.png for every identity; returns the files written. */
export async function writePreviews(dir: string, step: number, model: CombModel, samples: Sample[][], r: number, alpha: number): Promise<string[]> {
  const names = model.cfg.identities;
  const scale = Math.max(1, Math.floor(64 / r));
  const t = r * scale;
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
    const sheet: Image = { width: cols * t, height: n * t, channels: 3, data: new Float32Array(cols * t * n * t * 3) };
    for (let k = 0; k < n; k++) {
      blit(sheet, rows[k].x, r, scale, 0, k * t);
      order.forEach((_, c) => blit(sheet, outs[c].subarray(k * r * r * 3, (k + 1) * r * r * 3), r, scale, (c + 1) * t, k * t));
    }
    const file = join(dir, `${String(step).padStart(6, '0')}_${names[i].replace(/[^A-Za-z0-9._-]/g, '_')}.png`);
    await writePng(file, sheet);
    files.push(file);
  }
  return files;
}
