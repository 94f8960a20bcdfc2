/** Synthetic plates, crops and masks with known answers, in the align/swap layout's conventions. */
import { createImage, type Affine, type Image } from '@facecomb/image';

/** A plate lit by a linear gradient (the low frequencies) with an optional fine texture on top. */
export function gradientPlate(w: number, h: number, texture = 0): Image {
  const img = createImage(w, h, 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const l = 0.15 + 0.6 * (x / (w - 1)) + 0.15 * (y / (h - 1));
    const t = texture * Math.sin(x * 1.7 + y * 0.3) * Math.cos(y * 1.3 - x * 0.2);
    const o = (y * w + x) * 3;
    img.data[o] = l + t; img.data[o + 1] = 0.9 * l + t; img.data[o + 2] = 0.8 * l + t;
  }
  return img;
}

/** A deterministic pseudo-random textured image in [0.1, 0.9]. */
export function noisyImage(w: number, h: number, c = 3, seed = 1): Image {
  const img = createImage(w, h, c);
  let s = seed >>> 0;
  for (let i = 0; i < img.data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    img.data[i] = 0.1 + 0.8 * (s / 4294967296);
  }
  return img;
}

/** A flat-coloured crop with a fine texture of amplitude `texture`. */
export function flatFace(size: number, rgb: [number, number, number], texture = 0): Image {
  const img = createImage(size, size, 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const t = texture * Math.sin(x * 2.1) * Math.sin(y * 1.9);
    const o = (y * size + x) * 3;
    img.data[o] = rgb[0] + t; img.data[o + 1] = rgb[1] + t; img.data[o + 2] = rgb[2] + t;
  }
  return img;
}

/** An ellipse mask (1 inside, 0 outside) centred in the crop, radii as fractions of the size. */
export function ellipseMask(size: number, rx = 0.34, ry = 0.42, cy = 0.52): Image {
  const img = createImage(size, size, 1);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const ex = (x / size - 0.5) / rx, ey = (y / size - cy) / ry;
    img.data[y * size + x] = ex * ex + ey * ey <= 1 ? 1 : 0;
  }
  return img;
}

/** plate -> crop matrix: rotate by `deg` and scale `scale` about the plate point (cx, cy) onto the crop centre. */
export function matrixAbout(cx: number, cy: number, scale: number, deg: number, size: number): Affine {
  const t = (deg * Math.PI) / 180;
  const a = scale * Math.cos(t), b = scale * Math.sin(t);
  return [a, -b, size / 2 - (a * cx - b * cy), b, a, size / 2 - (b * cx + a * cy)];
}

/** Mean and standard deviation of channel `ch` over the pixels where `sel` is true. */
export function stats(img: Image, sel: (x: number, y: number) => boolean, ch = 0): { mean: number; std: number; n: number } {
  let s = 0, s2 = 0, n = 0;
  for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) {
    if (!sel(x, y)) continue;
    const v = img.data[(y * img.width + x) * img.channels + ch];
    s += v; s2 += v * v; n++;
  }
  const mean = s / n;
  return { mean, std: Math.sqrt(Math.max(0, s2 / n - mean * mean)), n };
}

/** Box-blurred copy (radius r, clamped), a simple low-pass for checks. */
export function lowpass(img: Image, r: number): Image {
  const { width: w, height: h, channels: c } = img;
  const out = createImage(w, h, c);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) {
    let s = 0, n = 0;
    for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) {
      const xx = Math.min(w - 1, Math.max(0, x + dx)), yy = Math.min(h - 1, Math.max(0, y + dy));
      s += img.data[(yy * w + xx) * c + k]; n++;
    }
    out.data[(y * w + x) * c + k] = s / n;
  }
  return out;
}

/** The plate-sized 0/1 map of pixels within `r` px (square) of a pixel where the ROI mask is > 0. */
export function dilatedSupport(mask: Image, roi: { x: number; y: number }, plateW: number, plateH: number, r: number): Uint8Array {
  const out = new Uint8Array(plateW * plateH);
  for (let y = 0; y < mask.height; y++) for (let x = 0; x < mask.width; x++) {
    if (mask.data[y * mask.width + x] <= 0) continue;
    const px = x + roi.x, py = y + roi.y;
    for (let yy = Math.max(0, py - r); yy <= Math.min(plateH - 1, py + r); yy++) {
      out.fill(1, yy * plateW + Math.max(0, px - r), yy * plateW + Math.min(plateW - 1, px + r) + 1);
    }
  }
  return out;
}

/** Least-squares similarity mapping points `from` onto `to`. */
export function similarity(from: number[][], to: number[][]): Affine {
  const n = from.length;
  let mx = 0, my = 0, tx = 0, ty = 0;
  for (let i = 0; i < n; i++) { mx += from[i][0] / n; my += from[i][1] / n; tx += to[i][0] / n; ty += to[i][1] / n; }
  let sxx = 0, sab = 0, sba = 0;
  for (let i = 0; i < n; i++) {
    const x = from[i][0] - mx, y = from[i][1] - my, u = to[i][0] - tx, v = to[i][1] - ty;
    sxx += x * x + y * y; sab += x * u + y * v; sba += x * v - y * u;
  }
  const a = sab / sxx, b = sba / sxx;
  return [a, -b, tx - (a * mx - b * my), b, a, ty - (b * mx + a * my)];
}
