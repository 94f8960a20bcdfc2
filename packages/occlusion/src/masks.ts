import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createImage, readImage, resize, writePng, type Image } from '@facecomb/image';
import { withMargin } from './margin.js';
import type { ShotFrame } from './shot.js';

/** Sum of a mask's values (its area in pixels, soft). */
export const area = (m: Float32Array): number => m.reduce((s, v) => s + v, 0);

/**
 * Writes masks/<frame>.png at the crop size for each frame: the label mask where the user labelled the frame,
 * else align's hull mask times the predicted uncovered probability `uncovered` (net size, upsampled; with the
 * safety margin of withMargin), else (a visible face under `minShare` of the hull's area) the hull alone.
 * Returns the frames that fell back.
 */
export async function writeMasks(out: string, alignDir: string, frames: ShotFrame[], uncovered: Float32Array, size: number, labels: Map<number, Float32Array>, opts: { minShare: number; margin: number; threshold: number }): Promise<number[]> {
  await mkdir(join(out, 'masks'), { recursive: true });
  const px = size * size;
  const fallbacks: number[] = [];
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    const file = join(out, 'masks', `${f.name}.png`);
    const hullFile = join(alignDir, 'masks', `${f.name}.png`);
    const label = labels.get(i);
    if (label) {
      const m: Image = { width: size, height: size, channels: 1, data: label };
      await writePng(file, f.cropSize === size ? m : resize(m, f.cropSize, f.cropSize));
      continue;
    }
    const v = uncovered.subarray(i * px, (i + 1) * px);
    if (area(v.map((p, k) => p * f.hull[k])) < opts.minShare * area(f.hull)) {
      fallbacks.push(f.frame);
      await copyFile(hullFile, file);
      continue;
    }
    const hull = await readImage(hullFile, { channels: 1 });
    const up = f.cropSize === size ? v : resize({ width: size, height: size, channels: 1, data: v }, f.cropSize, f.cropSize).data;
    const safe = withMargin(up, hull.data, f.cropSize, opts.margin, opts.threshold);
    await writePng(file, { ...hull, data: hull.data.map((h, k) => h * safe[k]) });
  }
  return fallbacks;
}

/** A contact sheet: up to rows x `columns` crops with the occluded part of the hull tinted red and the mask's outside darkened. */
export function contactSheet(frames: ShotFrame[], uncovered: Float32Array, size: number, columns: number): Image {
  const pick = frames.length <= columns * 4 ? frames.map((_, i) => i) : Array.from({ length: columns * 4 }, (_, k) => Math.floor((k * frames.length) / (columns * 4)));
  const cols = Math.min(columns, pick.length);
  const rows = Math.ceil(pick.length / cols);
  const gap = 2;
  const sheet = createImage(cols * (size + gap) + gap, rows * (size + gap) + gap, 3, 0.12);
  pick.forEach((i, n) => {
    const f = frames[i];
    const ox = gap + (n % cols) * (size + gap);
    const oy = gap + Math.floor(n / cols) * (size + gap);
    for (let p = 0; p < size * size; p++) {
      const m = f.hull[p] * uncovered[i * size * size + p];
      const hidden = Math.max(0, f.hull[p] - m);
      const o = ((oy + Math.floor(p / size)) * sheet.width + ox + (p % size)) * 3;
      const k = 0.35 + 0.65 * Math.max(m, hidden);
      sheet.data[o] = Math.min(1, f.rgb[p * 3] * k + 0.6 * hidden);
      sheet.data[o + 1] = f.rgb[p * 3 + 1] * k * (1 - 0.5 * hidden);
      sheet.data[o + 2] = f.rgb[p * 3 + 2] * k * (1 - 0.5 * hidden);
    }
  });
  return sheet;
}
