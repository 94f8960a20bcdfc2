import type { Image } from '@facecomb/image';

/** Rec. 709 luminance of an RGB (or grey) image. */
export function luma(img: Image): Float32Array {
  const n = img.width * img.height, c = img.channels, d = img.data;
  const y = new Float32Array(n);
  if (c >= 3) for (let p = 0; p < n; p++) y[p] = 0.2126 * d[p * c] + 0.7152 * d[p * c + 1] + 0.0722 * d[p * c + 2];
  else for (let p = 0; p < n; p++) y[p] = d[p * c];
  return y;
}

function sameSize(what: string, ...imgs: Image[]): void {
  const [a] = imgs;
  for (const b of imgs) if (b.width !== a.width || b.height !== a.height) throw new Error(`${what}: images differ in size (${a.width}x${a.height} vs ${b.width}x${b.height})`);
}

/** Mean over channels and mask-weighted pixels of err(a - b); NaN when the mask is empty. */
function maskedError(what: string, a: Image, b: Image, mask: Image, err: (d: number) => number): number {
  sameSize(what, a, b, mask);
  const c = a.channels, n = a.width * a.height;
  let s = 0, w = 0;
  for (let p = 0; p < n; p++) {
    const m = mask.data[p * mask.channels];
    if (m <= 0) continue;
    for (let k = 0; k < c; k++) s += m * err(a.data[p * c + k] - b.data[p * c + k]);
    w += m * c;
  }
  return w > 0 ? s / w : NaN;
}

/** Mean absolute RGB difference of two images, weighted by a 1-channel mask (0..1). */
export function maskedMeanAbsDiff(a: Image, b: Image, mask: Image): number {
  return maskedError('maskedMeanAbsDiff', a, b, mask, Math.abs);
}

/** PSNR (dB, peak 1) of the RGB error inside a 1-channel mask (weighted); 99 when identical. */
export function maskedPsnr(a: Image, b: Image, mask: Image): number {
  const mse = maskedError('maskedPsnr', a, b, mask, (d) => d * d);
  return mse > 0 ? 10 * Math.log10(1 / mse) : Number.isNaN(mse) ? NaN : 99;
}

/** Separable box filter of a 1-channel float plane (radius r, edges clamped). */
export function boxFilter(src: Float32Array, w: number, h: number, r: number): Float32Array {
  const tmp = new Float32Array(w * h), out = new Float32Array(w * h);
  const k = 2 * r + 1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let d = -r; d <= r; d++) s += src[y * w + Math.min(w - 1, Math.max(0, x + d))];
      tmp[y * w + x] = s / k;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let d = -r; d <= r; d++) s += tmp[Math.min(h - 1, Math.max(0, y + d)) * w + x];
      out[y * w + x] = s / k;
    }
  }
  return out;
}

/**
 * SSIM of the luminance (box window of side 2r + 1, the usual constants for a range of 1), averaged
 * over a 1-channel mask (weighted).
 */
export function maskedSsim(a: Image, b: Image, mask: Image, r = 3): number {
  sameSize('maskedSsim', a, b, mask);
  const w = a.width, h = a.height, n = w * h;
  const x = luma(a), y = luma(b);
  const xx = new Float32Array(n), yy = new Float32Array(n), xy = new Float32Array(n);
  for (let p = 0; p < n; p++) { xx[p] = x[p] * x[p]; yy[p] = y[p] * y[p]; xy[p] = x[p] * y[p]; }
  const [mx, my, mxx, myy, mxy] = [x, y, xx, yy, xy].map((v) => boxFilter(v, w, h, r));
  const c1 = 0.01 ** 2, c2 = 0.03 ** 2;
  let s = 0, wsum = 0;
  for (let p = 0; p < n; p++) {
    const m = mask.data[p * mask.channels];
    if (m <= 0) continue;
    const vx = mxx[p] - mx[p] ** 2, vy = myy[p] - my[p] ** 2, cxy = mxy[p] - mx[p] * my[p];
    s += (m * ((2 * mx[p] * my[p] + c1) * (2 * cxy + c2))) / ((mx[p] ** 2 + my[p] ** 2 + c1) * (vx + vy + c2));
    wsum += m;
  }
  return wsum > 0 ? s / wsum : NaN;
}

/** Gradient magnitude of the luminance (central differences, 0 on the border), per pixel. */
export function gradient(img: Image): Float32Array {
  const w = img.width, h = img.height, y = luma(img);
  const g = new Float32Array(w * h);
  for (let j = 1; j < h - 1; j++) {
    for (let i = 1; i < w - 1; i++) {
      const p = j * w + i;
      g[p] = 0.5 * Math.hypot(y[p + 1] - y[p - 1], y[p + w] - y[p - w]);
    }
  }
  return g;
}

/**
 * The pixels within `band` px of a mask's 0.5 contour (both sides), away from the image border: where a
 * seam would show.
 */
export function edgeBand(mask: Image, band: number): Uint8Array {
  const w = mask.width, h = mask.height, c = mask.channels;
  const inside = (p: number) => mask.data[p * c] >= 0.5;
  const out = new Uint8Array(w * h);
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const me = inside(y * w + x);
      let edge = false;
      for (let dy = -band; dy <= band && !edge; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -band; dx <= band; dx++) {
          const xx = x + dx;
          if (xx >= 0 && xx < w && inside(yy * w + xx) !== me) { edge = true; break; }
        }
      }
      if (edge) out[y * w + x] = 1;
    }
  }
  return out;
}

/** Mean of a per-pixel plane over the pixels a region selects; NaN when it selects none. */
export function regionMean(v: Float32Array, region: Uint8Array): number {
  let s = 0, n = 0;
  for (let p = 0; p < v.length; p++) if (region[p]) { s += v[p]; n++; }
  return n ? s / n : NaN;
}

/**
 * High-frequency energy: the luminance minus its box blur (radius r), squared, per pixel. Wrinkles, teeth,
 * eyelashes and skin pores live here; a blurry face has little.
 */
export function highFrequency(img: Image, r: number): Float32Array {
  const y = luma(img);
  const low = boxFilter(y, img.width, img.height, r);
  const e = new Float32Array(y.length);
  for (let p = 0; p < y.length; p++) e[p] = (y[p] - low[p]) ** 2;
  return e;
}
