import type { Image } from '@facecomb/image';
import { BufferPool } from './pool.js';
import { expand, expandRows, levelSizes, reduce } from './pyramid.js';

export interface MultibandOptions {
  /** Pyramid depth: number of levels including the low-pass residual (>= plateLevels + 1). */
  levels: number;
  /** The coarsest levels taken from the plate (default 2), which keeps the plate's low-frequency lighting. */
  plateLevels?: number;
  /** Match the face's detail contrast to the plate's inside the mask (default true). */
  contrast?: boolean;
  /** Write the result into `plate`'s own buffer instead of a new one. */
  inPlace?: boolean;
  /** Limits of the contrast gain (default [0.5, 2]). */
  gainRange?: [number, number];
  pool?: BufferPool;
}

export interface MultibandResult {
  image: Image;
  /** Gain applied to the face's detail bands by the contrast correction (1 when off). */
  gain: number;
}

const LUMA = [0.2126, 0.7152, 0.0722];

/**
 * Laplacian-pyramid blend of `face` into `plate` (same size, same channels) under the soft 1-channel `mask`.
 *
 * The result is plate + Σ_k expand^k(M_k · (gain·L_k(face) − L_k(plate))) over the detail levels k only: the
 * coarsest `plateLevels` levels are the plate's, so the plate's low frequencies (its lighting) are kept.
 * Since the pyramid is linear this is computed on one pyramid of gain·face − plate. Where every level of
 * the mask pyramid is 0 the difference is exactly 0, so pixels far enough from the mask are the plate's
 * bit for bit (see `pyramidSpread`).
 */
export function multiband(plate: Image, face: Image, mask: Image, opts: MultibandOptions): MultibandResult {
  const { width: w, height: h, channels: c } = plate;
  if (face.width !== w || face.height !== h || face.channels !== c) throw new Error('multiband: face and plate differ in size or channels');
  if (mask.width !== w || mask.height !== h || mask.channels !== 1) throw new Error('multiband: mask must be 1-channel, plate-sized');
  const plateLevels = opts.plateLevels ?? 2;
  const bands = opts.levels - plateLevels;
  if (!Number.isInteger(opts.levels) || bands < 1) {
    throw new Error(`multiband: levels (${opts.levels}) must exceed plateLevels (${plateLevels}) by at least 1`);
  }
  const pool = opts.pool ?? new BufferPool();
  const sizes = levelSizes(w, h, bands);
  const n0 = w * h;
  const tmp = pool.f('mb.tmp', sizes[0][0] * sizes[1][1] * c);

  // mask pyramid M_0 .. M_{bands-1}
  const M: Float32Array[] = [mask.data];
  for (let k = 1; k < bands; k++) {
    const [pw, ph] = sizes[k - 1];
    const out = pool.f(`mb.M${k}`, sizes[k][0] * sizes[k][1]);
    reduce(M[k - 1], pw, ph, 1, out, tmp);
    M.push(out);
  }

  let gain = 1;
  if (opts.contrast ?? true) {
    const [lo, hi] = opts.gainRange ?? [0.5, 2];
    const eF = detailEnergy(face, M, sizes, bands, pool, 'F');
    const eP = detailEnergy(plate, M, sizes, bands, pool, 'P');
    gain = eF > 1e-12 ? Math.sqrt(eP / eF) : hi;
    gain = gain < lo ? lo : gain > hi ? hi : gain;
  }

  // Gaussian pyramid of E = gain·face − plate, levels 0 .. bands
  const E0 = pool.f('mb.G0', n0 * c);
  const fd = face.data, pd = plate.data;
  for (let i = 0; i < E0.length; i++) E0[i] = gain * fd[i] - pd[i];
  const G: Float32Array[] = [E0];
  for (let k = 1; k <= bands; k++) {
    const [pw, ph] = sizes[k - 1];
    const out = pool.f(`mb.G${k}`, sizes[k][0] * sizes[k][1] * c);
    reduce(G[k - 1], pw, ph, c, out, tmp);
    G.push(out);
  }

  // collapse the masked detail bands, coarse to fine: A_k = M_k (G_k − expand G_{k+1}) + expand A_{k+1}
  let A: Float32Array | null = null;
  for (let k = bands - 1; k >= 1; k--) {
    const [lw, lh] = sizes[k];
    const n = lw * lh;
    const X = pool.f('mb.X', n * c);
    expand(G[k + 1], lw, lh, c, X, tmp);
    const Ak = pool.f(`mb.A${k % 2}`, n * c);
    const Gk = G[k], Mk = M[k];
    for (let p = 0, i = 0; p < n; p++) {
      const m = Mk[p];
      for (let ch = 0; ch < c; ch++, i++) Ak[i] = m * (Gk[i] - X[i]);
    }
    if (A) expand(A, lw, lh, c, Ak, tmp, true);
    A = Ak;
  }

  // level 0, fused: out = plate + M_0 (E_0 − expand G_1) + expand A_1, with both expansions done row by
  // row from their horizontal passes, so nothing full-size is written but the result
  const h2 = sizes[1][1], row = w * c;
  const tG = pool.f('mb.tG', row * h2);
  expandRows(G[1], w, h, c, tG);
  let tA: Float32Array | null = null;
  if (A) {
    tA = pool.f('mb.tA', row * h2);
    expandRows(A, w, h, c, tA);
  }
  const out = opts.inPlace ? pd : new Float32Array(n0 * c);
  const M0 = M[0];
  const rG = pool.d('mb.rG', row), rA = pool.d('mb.rA', row);
  for (let y = 0; y < h; y++) {
    const i = y >> 1, even = (y & 1) === 0;
    const a = (i - 1 < 0 ? 0 : i - 1) * row, b = i * row, d = (i + 1 > h2 - 1 ? h2 - 1 : i + 1) * row;
    // this row of both vertical expansions, then the sum
    expandColumn(tG, a, b, d, row, even, rG);
    if (tA) expandColumn(tA, a, b, d, row, even, rA);
    else rA.fill(0);
    const o = y * row, mrow = y * w;
    if (c === 3) {
      for (let x = 0, j = 0; x < w; x++, j += 3) {
        const m = M0[mrow + x];
        const q = o + j;
        if (m !== 0) {
          out[q] = pd[q] + rA[j] + m * (E0[q] - rG[j]);
          out[q + 1] = pd[q + 1] + rA[j + 1] + m * (E0[q + 1] - rG[j + 1]);
          out[q + 2] = pd[q + 2] + rA[j + 2] + m * (E0[q + 2] - rG[j + 2]);
        } else {
          out[q] = pd[q] + rA[j];
          out[q + 1] = pd[q + 1] + rA[j + 1];
          out[q + 2] = pd[q + 2] + rA[j + 2];
        }
      }
    } else {
      for (let x = 0, j = 0; x < w; x++) {
        const m = M0[mrow + x];
        for (let ch = 0; ch < c; ch++, j++) {
          const v = pd[o + j] + rA[j];
          out[o + j] = m !== 0 ? v + m * (E0[o + j] - rG[j]) : v;
        }
      }
    }
  }
  return { image: { width: w, height: h, channels: c, data: out }, gain };
}

/** One output row of expand's vertical pass: rows a, b, d of `t` (offsets), even or odd output row. */
function expandColumn(t: Float32Array, a: number, b: number, d: number, row: number, even: boolean, dst: Float64Array): void {
  if (even) for (let j = 0; j < row; j++) dst[j] = (t[a + j] + t[d + j] + 6 * t[b + j]) * 0.125;
  else for (let j = 0; j < row; j++) dst[j] = (t[b + j] + t[d + j]) * 0.5;
}

/**
 * Σ_k 4^k Σ_p M_k(p) · L_k(luma)(p)² over the detail bands k = 1 .. bands-1: the detail energy of an image's
 * luminance inside the mask. Band 0 (single-pixel grain, sensor noise, compression) is left out unless it is
 * the only band, which also keeps this at a quarter of the cost of a full-resolution pyramid.
 */
function detailEnergy(img: Image, M: Float32Array[], sizes: Array<[number, number]>, bands: number, pool: BufferPool, tag: string): number {
  const { width: w, height: h, channels: c, data } = img;
  const tmp = pool.f('mb.tmp1', sizes[0][0] * sizes[1][1]);
  // band 0 only when it is the only band; otherwise start from level 1, made as the 2x2 mean of the luma
  const first = bands > 1 ? 1 : 0;
  const Y: Float32Array[] = [];
  if (first === 0) {
    const y0 = pool.f(`mb.Y${tag}0`, w * h);
    for (let p = 0, i = 0; p < w * h; p++, i += c) y0[p] = c >= 3 ? LUMA[0] * data[i] + LUMA[1] * data[i + 1] + LUMA[2] * data[i + 2] : data[i];
    Y[0] = y0;
  } else {
    const [w1, h1] = sizes[1];
    const y1 = pool.f(`mb.Y${tag}1`, w1 * h1);
    // luma of two plate rows at a time, then their 2x2 means (odd last row/column replicated)
    const ra = pool.d('mb.lumA', w), rb = pool.d('mb.lumB', w);
    const l0 = c >= 3 ? LUMA[0] : 1, l1 = c >= 3 ? LUMA[1] : 0, l2 = c >= 3 ? LUMA[2] : 0;
    const lumRow = (y: number, dst: Float64Array): void => {
      if (c >= 3) for (let x = 0, i = y * w * c; x < w; x++, i += c) dst[x] = l0 * data[i] + l1 * data[i + 1] + l2 * data[i + 2];
      else for (let x = 0, i = y * w * c; x < w; x++, i += c) dst[x] = data[i];
    };
    for (let y = 0; y < h1; y++) {
      lumRow(2 * y, ra);
      lumRow(Math.min(h - 1, 2 * y + 1), rb);
      const o = y * w1;
      for (let x = 0; x < w1; x++) {
        const xa = 2 * x, xb = xa + 1 < w ? xa + 1 : xa;
        y1[o + x] = 0.25 * (ra[xa] + ra[xb] + rb[xa] + rb[xb]);
      }
    }
    Y[1] = y1;
  }
  for (let k = first + 1; k <= bands; k++) {
    const out = pool.f(`mb.Y${tag}${k}`, sizes[k][0] * sizes[k][1]);
    reduce(Y[k - 1], sizes[k - 1][0], sizes[k - 1][1], 1, out, tmp);
    Y[k] = out;
  }
  let e = 0;
  for (let k = first; k < bands; k++) {
    const [lw, lh] = sizes[k];
    const X = pool.f('mb.YX', lw * lh);
    expand(Y[k + 1], lw, lh, 1, X, tmp);
    const Yk = Y[k], Mk = M[k];
    let s = 0;
    for (let p = 0; p < lw * lh; p++) {
      const d = Yk[p] - X[p];
      s += Mk[p] * d * d;
    }
    e += s * (1 << (2 * k));
  }
  return e;
}
