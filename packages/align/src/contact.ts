import { createImage, resize, type Image } from '@facecomb/image';
import type { Point } from './template.js';

/** Paints a filled disc of `radius` pixels (anti-aliased edge) in an RGB image. */
export function drawDot(img: Image, x: number, y: number, radius: number, rgb: [number, number, number]): void {
  const r = Math.ceil(radius + 1);
  for (let j = Math.floor(y) - r; j <= Math.floor(y) + r; j++) {
    if (j < 0 || j >= img.height) continue;
    for (let i = Math.floor(x) - r; i <= Math.floor(x) + r; i++) {
      if (i < 0 || i >= img.width) continue;
      const a = Math.min(1, Math.max(0, radius + 0.5 - Math.hypot(i - x, j - y)));
      if (a <= 0) continue;
      const o = (j * img.width + i) * img.channels;
      for (let k = 0; k < 3; k++) img.data[o + k] = img.data[o + k] * (1 - a) + rgb[k] * a;
    }
  }
}

export interface ContactCell {
  crop: Image;
  /** Landmarks in crop pixels. */
  landmarks: Point[];
  /** Optional second set (e.g. the raw detection), drawn smaller in red. */
  raw?: Point[];
}

/** A grid of crops (each shrunk to `thumb` px) with landmarks drawn: stabilised in green, raw in red. */
export function contactSheet(cells: ContactCell[], columns: number, thumb: number): Image {
  const cols = Math.max(1, Math.min(columns, cells.length || 1));
  const rows = Math.max(1, Math.ceil(cells.length / cols));
  const gap = 2;
  const sheet = createImage(cols * (thumb + gap) + gap, rows * (thumb + gap) + gap, 3, 0.12);
  cells.forEach((c, n) => {
    const small = c.crop.width === thumb ? { ...c.crop, data: new Float32Array(c.crop.data) } : resize(c.crop, thumb, thumb);
    const k = thumb / c.crop.width;
    const rad = Math.max(0.8, thumb / 110);
    if (c.raw) for (const [x, y] of c.raw) drawDot(small, x * k, y * k, rad * 0.7, [1, 0.15, 0.1]);
    for (const [x, y] of c.landmarks) drawDot(small, x * k, y * k, rad, [0.1, 1, 0.3]);
    const ox = gap + (n % cols) * (thumb + gap), oy = gap + Math.floor(n / cols) * (thumb + gap);
    for (let y = 0; y < thumb; y++) {
      const src = y * thumb * 3;
      sheet.data.set(small.data.subarray(src, src + thumb * 3), ((oy + y) * sheet.width + ox) * 3);
    }
  });
  return sheet;
}
