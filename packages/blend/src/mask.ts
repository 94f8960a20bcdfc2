import type { Image } from '@facecomb/image';

/** Running-sum box mean along rows, radius r (window 2r+1), clamped borders. */
function boxRows(src: Float32Array, w: number, h: number, r: number, dst: Float32Array): void {
  const scale = 1 / (2 * r + 1);
  for (let y = 0; y < h; y++) {
    const b = y * w;
    let acc = 0;
    for (let k = -r; k <= r; k++) acc += src[b + (k < 0 ? 0 : k > w - 1 ? w - 1 : k)];
    for (let x = 0; x < w; x++) {
      dst[b + x] = acc * scale;
      acc += src[b + (x + r + 1 > w - 1 ? w - 1 : x + r + 1)] - src[b + (x - r < 0 ? 0 : x - r)];
    }
  }
}

/** Running-sum box mean along columns, a whole row at a time (contiguous access). `acc` needs w elements. */
function boxCols(src: Float32Array, w: number, h: number, r: number, dst: Float32Array, acc: Float64Array): void {
  const scale = 1 / (2 * r + 1);
  acc.fill(0);
  for (let k = -r; k <= r; k++) {
    const o = (k < 0 ? 0 : k > h - 1 ? h - 1 : k) * w;
    for (let x = 0; x < w; x++) acc[x] += src[o + x];
  }
  for (let y = 0; y < h; y++) {
    const o = y * w;
    const add = (y + r + 1 > h - 1 ? h - 1 : y + r + 1) * w, sub = (y - r < 0 ? 0 : y - r) * w;
    for (let x = 0; x < w; x++) {
      const a = acc[x];
      dst[o + x] = a * scale;
      acc[x] = a + src[add + x] - src[sub + x];
    }
  }
}

/** Box blur of a 1-channel image, radius r, in place (3 passes approximate a Gaussian of sigma ~ r). */
export function boxBlur(img: Image, r: number, passes = 1): void {
  if (img.channels !== 1) throw new Error('boxBlur expects a 1-channel mask');
  if (r < 1) return;
  const tmp = new Float32Array(img.data.length);
  const acc = new Float64Array(img.width);
  for (let p = 0; p < passes; p++) {
    boxRows(img.data, img.width, img.height, r, tmp);
    boxCols(tmp, img.width, img.height, r, img.data, acc);
  }
}

// the per-pixel loops are small functions of their own: V8 optimizes those once, rather than each call's
// big function on the fly

/** dst[i] = 1 where src[i·c] >= t, else 0. */
function threshold(src: Float32Array, c: number, t: number, dst: Float32Array): void {
  for (let i = 0; i < dst.length; i++) dst[i] = src[i * c] >= t ? 1 : 0;
}

/** Snaps values within 1e-6 of 0 or 1 to it. */
function snap(d: Float32Array): void {
  for (let i = 0; i < d.length; i++) d[i] = d[i] < 1e-6 ? 0 : d[i] > 1 - 1e-6 ? 1 : d[i];
}

/** Binary erosion by a (2r+1)-square of the mask thresholded at 0.5; returns a 0/1 mask. */
export function erodeBinary(mask: Image, r: number): Image {
  const { width: w, height: h } = mask;
  const bin = new Float32Array(w * h);
  threshold(mask.data, mask.channels, 0.5, bin);
  if (r >= 1) {
    // outside the image counts as background, so a mask touching the border erodes from it too
    const pad = new Float32Array(w * h);
    const tmp = new Float32Array(w * h);
    boxSumZero(bin, w, h, r, tmp, pad);
    const full = (2 * r + 1) * (2 * r + 1) - 0.5;
    threshold(pad, 1, full, bin);
  }
  return { width: w, height: h, channels: 1, data: bin };
}

/** Box sum with zero outside the image (separable running sums). */
function boxSumZero(src: Float32Array, w: number, h: number, r: number, tmp: Float32Array, dst: Float32Array): void {
  for (let y = 0; y < h; y++) {
    const b = y * w;
    let acc = 0;
    for (let x = 0; x <= r && x < w; x++) acc += src[b + x];
    for (let x = 0; x < w; x++) {
      tmp[b + x] = acc;
      if (x + r + 1 < w) acc += src[b + x + r + 1];
      if (x - r >= 0) acc -= src[b + x - r];
    }
  }
  const acc = new Float64Array(w);
  for (let y = 0; y <= r && y < h; y++) for (let x = 0; x < w; x++) acc[x] += tmp[y * w + x];
  for (let y = 0; y < h; y++) {
    const o = y * w;
    for (let x = 0; x < w; x++) dst[o + x] = acc[x];
    if (y + r + 1 < h) { const a = (y + r + 1) * w; for (let x = 0; x < w; x++) acc[x] += tmp[a + x]; }
    if (y - r >= 0) { const b = (y - r) * w; for (let x = 0; x < w; x++) acc[x] -= tmp[b + x]; }
  }
}

/**
 * Prepares the blend mask in crop space: erodes by `erode` px, then gives it a soft edge `feather` px
 * wide that lies inside the original mask (the feathered mask is 0 wherever the original mask is < 0.5).
 * With feather 0 and erode 0 the mask is used as given (clamped to [0, 1]).
 */
export function prepareMask(mask: Image, erode: number, feather: number): Image {
  const e = Math.max(0, Math.round(erode));
  const f = Math.max(0, feather);
  if (e === 0 && f < 1) {
    const data = new Float32Array(mask.width * mask.height);
    for (let i = 0; i < data.length; i++) {
      const v = mask.data[i * mask.channels];
      data[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
    return { width: mask.width, height: mask.height, channels: 1, data };
  }
  // three box passes of radius r reach 3r: erode by that much so the ramp ends at the original edge
  const r = f >= 1 ? Math.max(1, Math.round(f / 6)) : 0;
  const out = erodeBinary(mask, e + 3 * r);
  if (r > 0) {
    boxBlur(out, r, 3);
    // running sums leave rounding residue: snap it, so "outside the mask" stays exactly 0
    snap(out.data);
  }
  return out;
}

/** Bounding box [x0, y0, x1, y1] (inclusive) of mask pixels > 0, or null when the mask is empty. */
export function maskBounds(mask: Image): [number, number, number, number] | null {
  const { width: w, height: h, channels: c, data } = mask;
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) {
    const o = y * w * c;
    // the first pixel > 0 from the left; none: an empty row
    let l = 0;
    while (l < w && !(data[o + l * c] > 0)) l++;
    if (l === w) continue;
    // from the right, stopping at what is already known to be inside [x0, x1]
    let r = w - 1;
    while (r > l && r > x1 && !(data[o + r * c] > 0)) r--;
    if (l < x0) x0 = l;
    if (r > x1) x1 = r;
    if (y < y0) y0 = y;
    y1 = y;
  }
  return x1 < 0 ? null : [x0, y0, x1, y1];
}
