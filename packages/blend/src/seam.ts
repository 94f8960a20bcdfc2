import type { Image } from '@facecomb/image';

export interface SeamOptions {
  /** Mask level that defines the edge (default 0.5). */
  threshold?: number;
  /** Half-width in px of the band around the edge that is measured (default 2). */
  band?: number;
}

/**
 * The seam metric: how much a blend adds to the image gradient along the mask edge.
 *
 * Over the pixels within `band` px of the mask's `threshold` contour, the mean of
 * max(0, |∇Y_out| − |∇Y_plate|), with Y the luminance and ∇ central differences, in 8-bit levels per
 * pixel. A seam (a step or a colour mismatch at the edge) shows up as gradient the plate did not have;
 * 0 means the edge adds nothing. `out`, `plate` and the 1-channel `mask` must have the same size.
 */
export function seamMetric(out: Image, plate: Image, mask: Image, opts: SeamOptions = {}): number {
  const { width: w, height: h } = out;
  if (plate.width !== w || plate.height !== h || mask.width !== w || mask.height !== h) throw new Error('seamMetric: images differ in size');
  const thr = opts.threshold ?? 0.5;
  const band = Math.max(1, Math.round(opts.band ?? 2));
  const mc = mask.channels;
  const bin = new Uint8Array(w * h);
  for (let p = 0; p < w * h; p++) bin[p] = mask.data[p * mc] >= thr ? 1 : 0;
  // edge band: pixels whose (2 band + 1)^2 window holds both sides, via row then column running "any"
  const rowAny = new Uint8Array(w * h); // bit 1: some inside, bit 2: some outside in the row window
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 0;
      const x0 = Math.max(0, x - band), x1 = Math.min(w - 1, x + band);
      for (let k = x0; k <= x1 && v !== 3; k++) v |= bin[y * w + k] ? 1 : 2;
      rowAny[y * w + x] = v;
    }
  }
  const yo = luma(out), yp = luma(plate);
  let sum = 0;
  let count = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      let v = 0;
      const y0 = Math.max(0, y - band), y1 = Math.min(h - 1, y + band);
      for (let k = y0; k <= y1 && v !== 3; k++) v |= rowAny[k * w + x];
      if (v !== 3) continue;
      const p = y * w + x;
      const go = Math.hypot(yo[p + 1] - yo[p - 1], yo[p + w] - yo[p - w]) * 0.5;
      const gp = Math.hypot(yp[p + 1] - yp[p - 1], yp[p + w] - yp[p - w]) * 0.5;
      sum += go > gp ? go - gp : 0;
      count++;
    }
  }
  if (count === 0) throw new Error('seamMetric: the mask has no edge inside the image');
  return (sum / count) * 255;
}

function luma(img: Image): Float32Array {
  const n = img.width * img.height, c = img.channels, d = img.data;
  const y = new Float32Array(n);
  if (c >= 3) for (let p = 0; p < n; p++) y[p] = 0.2126 * d[p * c] + 0.7152 * d[p * c + 1] + 0.0722 * d[p * c + 2];
  else for (let p = 0; p < n; p++) y[p] = d[p * c];
  return y;
}
