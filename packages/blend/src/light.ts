import type { Image } from '@facecomb/image';
import { boxBlur } from './mask.js';
import type { Strided } from './multiband.js';
import type { BufferPool } from './pool.js';
import { expand, levelSizes, reduce } from './pyramid.js';

/**
 * The Gaussian sigma (px) whose response is 1/2 at `cutoff` cycles per `faceWidth` px:
 * exp(-2π²σ²f²) = 1/2 at f = cutoff / faceWidth.
 */
export function cutoffSigma(cutoff: number, faceWidth: number): number {
  return (Math.sqrt(Math.LN2 / 2) / Math.PI) * (faceWidth / cutoff);
}

/**
 * Light transfer: dst = face · LPm(plate) / LPm(face) per channel, where LPm is a Gaussian low-pass of
 * `sigma` px normalised by the mask (LPm(X) = G∗(m·X) / G∗m), so that only pixels inside the mask count on
 * either side: the plate's background or hair next to the face does not bleed into it, nor the swap crop's.
 * Inside the mask the result has the plate's frequencies below the cut-off (light, shading, skin tone)
 * and the face's above it (its features). The light is a factor, as light is: an additive offset (the old
 * blend's coarse plate levels) tints the dark of the eyes and brows as much as the skin, which showed as
 * coloured rings around the pupils; a factor leaves dark pixels dark. The factor is kept in [1/8, 8].
 *
 * The low-pass is made at a coarser pyramid level (reduced until sigma is about 3-6 px there, then three
 * box passes for the rest of the variance, then the factor is expanded back), so it costs a few passes over
 * the ROI whatever the sigma. Where G∗m is below 1e-3 (far outside the mask) the factor is 1.
 */
export function lightTransfer(plate: Strided, face: Image, mask: Image, sigma: number, pool: BufferPool, dst: Float32Array): void {
  const { width: w, height: h, channels: c } = face;
  const n = w * h;
  // weighted planes at level 0: m·F, m·P (c channels each) and m
  const mF = pool.f('lt.mF', n * c), mP = pool.f('lt.mP', n * c);
  weighted(face.data, 0, w * c, plate.data, plate.offset, plate.stride, mask.data, w, h, c, mF, mP);
  // reduce while sigma stays 3+ px at the next level (each reduce adds 4^i px² of variance at level 0), so the
  // box radius there is 3 or more and its rounding moves the cut-off by a sixth at most
  let j = 0;
  while (j < 8 && sigma / Math.pow(2, j + 1) >= 3 && Math.min(w, h) >> (j + 1) >= 4) j++;
  const sizes = levelSizes(w, h, j);
  const tmp = pool.f('lt.tmp', w * sizes[Math.min(1, j)][1] * c);
  let F = mF, P = mP, M = mask.data;
  for (let k = 1; k <= j; k++) {
    const [pw, ph] = sizes[k - 1], [lw, lh] = sizes[k];
    const f = pool.f(`lt.F${k}`, lw * lh * c), p = pool.f(`lt.P${k}`, lw * lh * c), m = pool.f(`lt.M${k}`, lw * lh);
    reduce(F, pw, ph, c, f, tmp);
    reduce(P, pw, ph, c, p, tmp);
    reduce(M, pw, ph, 1, m, tmp);
    F = f; P = p; M = m;
  }
  const [lw, lh] = sizes[j];
  const scale = Math.pow(2, j);
  const rest = Math.max(0, sigma * sigma - (Math.pow(4, j) - 1) / 3) / (scale * scale);
  // three box passes of width 2r+1 have variance 3((2r+1)² − 1)/12
  const r = Math.max(0, Math.round((Math.sqrt(4 * rest + 1) - 1) / 2));
  const plane = (src: Float32Array, ch: number, cc: number): Image => {
    const data = new Float32Array(lw * lh);
    for (let p = 0; p < lw * lh; p++) data[p] = src[p * cc + ch];
    const img = { width: lw, height: lh, channels: 1, data };
    boxBlur(img, r, 3);
    return img;
  };
  const W = plane(M, 0, 1).data;
  const D = pool.f(`lt.D${j}`, lw * lh * c);
  for (let ch = 0; ch < c; ch++) {
    const bf = plane(F, ch, c).data, bp = plane(P, ch, c).data;
    for (let p = 0; p < lw * lh; p++) D[p * c + ch] = W[p] > 1e-3 ? factor(bp[p] / W[p], bf[p] / W[p]) : 1;
  }
  // back to level 0
  let cur = D;
  for (let k = j - 1; k >= 0; k--) {
    const [ew, eh] = sizes[k];
    const up = pool.f(`lt.D${k}`, ew * eh * c);
    expand(cur, ew, eh, c, up, tmp);
    cur = up;
  }
  const fd = face.data;
  for (let i = 0; i < n * c; i++) dst[i] = fd[i] * cur[i];
}

/** The light factor plate / face, with a floor of 1/255 under both (black stays black), kept in [1/8, 8]. */
function factor(plate: number, face: number): number {
  const f = (Math.max(plate, 0) + 1 / 255) / (Math.max(face, 0) + 1 / 255);
  return f < 0.125 ? 0.125 : f > 8 ? 8 : f;
}

/** mF = m·face, mP = m·plate (the plate read through its window), c channels, w x h. */
function weighted(
  fd: Float32Array, fo: number, fs: number, pd: Float32Array, po: number, ps: number, m: Float32Array,
  w: number, h: number, c: number, mF: Float32Array, mP: Float32Array,
): void {
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const a = m[y * w + x], o = (y * w + x) * c;
      for (let k = 0; k < c; k++) {
        mF[o + k] = a * fd[fo + y * fs + x * c + k];
        mP[o + k] = a * pd[po + y * ps + x * c + k];
      }
    }
  }
}
