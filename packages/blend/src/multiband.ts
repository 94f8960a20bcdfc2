import type { Image } from '@facecomb/image';
import { addPlateDetail } from './detail.js';
import { lightTransfer } from './light.js';
import { BufferPool } from './pool.js';
import { expand, expandRows, levelSizes, reduce, reduceRow } from './pyramid.js';

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
  /**
   * Light transfer first (needs plateLevels 0): the face's frequencies below a Gaussian low-pass of this
   * sigma (px) are replaced by the plate's, measured inside the mask only (see `lightTransfer`); the
   * pyramid then only makes the seam.
   */
  light?: number;
  /** With `light`: the plate's frequencies above a Gaussian low-pass of this sigma (px) are added to the face (see `addPlateDetail`). */
  plateDetail?: number;
  pool?: BufferPool;
}

/** A window of a larger interleaved image: pixel (x, y) channel k is data[offset + y·stride + x·c + k]. */
export interface Strided {
  data: Float32Array;
  offset: number;
  stride: number;
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
 * coarsest `plateLevels` levels are the plate's (the old blend). With `light` the face first takes the
 * plate's frequencies below the light transfer's cut-off (`lightTransfer`) and every level, the residual
 * included, is the face's: the pyramid only makes the seam.
 * Since the pyramid is linear this is computed on one pyramid of gain·face − plate, made on the fly (level 1
 * straight from the two images, level 0 only where the mask is not 0). Where every level of
 * the mask pyramid is 0 the difference is exactly 0, so pixels far enough from the mask are the plate's
 * bit for bit (see `pyramidSpread`).
 */
export function multiband(plate: Image, face: Image, mask: Image, opts: MultibandOptions): MultibandResult {
  const { width: w, height: h, channels: c } = plate;
  if (face.width !== w || face.height !== h || face.channels !== c) throw new Error('multiband: face and plate differ in size or channels');
  if (mask.width !== w || mask.height !== h || mask.channels !== 1) throw new Error('multiband: mask must be 1-channel, plate-sized');
  const data = opts.inPlace ? plate.data : new Float32Array(w * h * c);
  const gain = multibandInto({ data: plate.data, offset: 0, stride: w * c }, face, mask, opts, { data, offset: 0, stride: w * c });
  return { image: { width: w, height: h, channels: c, data }, gain };
}

/**
 * `multiband` on a window of a larger plate: reads the plate through `plate` (face-sized window) and writes
 * the result through `out` (which may be the same window), so a blend into a whole frame needs no copy of
 * the region in or out. Returns the contrast gain.
 */
export function multibandInto(plate: Strided, face: Image, mask: Image, opts: MultibandOptions, out: Strided): number {
  const { width: w, height: h, channels: c } = face;
  if (c !== 3) throw new Error(`multiband: the face has ${c} channel(s); the blend is written for RGB (the blend stage reads every image as RGB)`);
  if (mask.width !== w || mask.height !== h || mask.channels !== 1) throw new Error('multiband: mask must be 1-channel, face-sized');
  const plateLevels = opts.plateLevels ?? 2;
  const bands = opts.levels - plateLevels;
  if (!Number.isInteger(opts.levels) || bands < 1) {
    throw new Error(`multiband: levels (${opts.levels}) must exceed plateLevels (${plateLevels}) by at least 1`);
  }
  const pool = opts.pool ?? new BufferPool();
  const sizes = levelSizes(w, h, bands);
  const [w1, h1] = sizes[1];
  const row = w * c;
  const tmp = pool.f('mb.tmp', sizes[0][0] * sizes[1][1] * c);
  const contrast = opts.contrast ?? true;
  // with `light`, the plate gives nothing through the pyramid: the residual level of the face is blended too
  const residual = opts.light !== undefined;
  if (residual && (plateLevels !== 0 || !(opts.light! >= 0))) {
    throw new Error(`multiband: light (${opts.light}) must be a sigma >= 0 and needs plateLevels 0 (got ${plateLevels})`);
  }
  let fd = face.data;
  const pd = plate.data, po = plate.offset, ps = plate.stride;

  // mask pyramid M_0 .. M_{bands-1} (.. M_bands with the residual)
  const M: Float32Array[] = [mask.data];
  for (let k = 1; k < (residual ? bands + 1 : bands); k++) {
    const [pw, ph] = sizes[k - 1];
    const m = pool.f(`mb.M${k}`, sizes[k][0] * sizes[k][1]);
    reduce(M[k - 1], pw, ph, 1, m, tmp);
    M.push(m);
  }

  // the contrast gain, from the 2x2 means of the face's and the plate's luma (level 1)
  let gain = 1;
  if (contrast) {
    const [lo, hi] = opts.gainRange ?? [0.5, 2];
    let eF: number, eP: number;
    if (bands > 1) {
      const YF = pool.f('mb.YF1', w1 * h1), YP = pool.f('mb.YP1', w1 * h1);
      for (let yo = 0; yo < h1; yo++) {
        const y = yo << 1, y1 = y + 1 > h - 1 ? h - 1 : y + 1;
        lumaMeans(fd, y * row, y1 * row, w, c, YF, yo * w1, w1);
        lumaMeans(pd, po + y * ps, po + y1 * ps, w, c, YP, yo * w1, w1);
      }
      eF = detailEnergy(YF, 1, M, sizes, bands, pool, 'F');
      eP = detailEnergy(YP, 1, M, sizes, bands, pool, 'P');
    } else {
      // band 0 is the only band: the luma at full resolution
      eF = detailEnergy(lumaPlane(fd, 0, row, w, h, c, pool.f('mb.YF0', w * h)), 0, M, sizes, bands, pool, 'F');
      eP = detailEnergy(lumaPlane(pd, po, ps, w, h, c, pool.f('mb.YP0', w * h)), 0, M, sizes, bands, pool, 'P');
    }
    gain = eF > 1e-12 ? Math.sqrt(eP / eF) : hi;
    gain = gain < lo ? lo : gain > hi ? hi : gain;
  }
  const measured = gain;
  if (residual) {
    // the face takes the plate's light below the cut-off; then the gain scales only its detail bands (those
    // it was measured on), not its residual level, which holds its features: scaling those too made dark
    // holes and coloured rings of the eyes of a soft face
    const lit = pool.f('mb.lit', w * h * c);
    if (opts.light! > 0) lightTransfer(plate, face, mask, opts.light!, pool, lit);
    else lit.set(face.data);
    if (gain !== 1) boostDetail(lit, w, h, c, sizes, bands, gain, tmp, pool);
    if (opts.plateDetail! > 0) addPlateDetail(plate, w, h, c, opts.plateDetail!, lit);
    fd = lit;
    gain = 1;
  }

  // Gaussian pyramid of E = gain·face − plate, levels 1 .. bands; level 1 straight from the two images
  const G1 = pool.f('mb.G1', w1 * h1 * c);
  const vE = pool.f('mb.vE', row);
  for (let yo = 0; yo < h1; yo++) {
    const y = yo << 1;
    const r0 = y - 2 < 0 ? 0 : y - 2, r1 = y - 1 < 0 ? 0 : y - 1, r3 = y + 1 > h - 1 ? h - 1 : y + 1, r4 = y + 2 > h - 1 ? h - 1 : y + 2;
    verticalTapsDiff(fd, r0 * row, r1 * row, y * row, r3 * row, r4 * row, pd, po + r0 * ps, po + r1 * ps, po + y * ps, po + r3 * ps, po + r4 * ps, gain, row, vE);
    reduceRow(vE, 0, w, c, G1, yo * w1 * c);
  }
  const G: Float32Array[] = [fd, G1];
  for (let k = 2; k <= bands; k++) {
    const [pw, ph] = sizes[k - 1];
    const g = pool.f(`mb.G${k}`, sizes[k][0] * sizes[k][1] * c);
    reduce(G[k - 1], pw, ph, c, g, tmp);
    G.push(g);
  }

  // collapse the masked detail bands, coarse to fine: A_k = M_k (G_k − expand G_{k+1}) + expand A_{k+1},
  // starting from A_bands = M_bands G_bands when the residual is the face's, else from nothing (the plate's)
  let A: Float32Array | null = null;
  if (residual) {
    const n = sizes[bands][0] * sizes[bands][1];
    A = pool.f(`mb.A${bands % 2}`, n * c);
    maskedResidual(G[bands], M[bands], n, c, A);
  }
  for (let k = bands - 1; k >= 1; k--) {
    const [lw, lh] = sizes[k];
    const n = lw * lh;
    const X = pool.f('mb.X', n * c);
    expand(G[k + 1], lw, lh, c, X, tmp);
    const Ak = pool.f(`mb.A${k % 2}`, n * c);
    maskedBand(G[k], X, M[k], n, Ak);
    if (A) expand(A, lw, lh, c, Ak, tmp, true);
    A = Ak;
  }

  // level 0: out = plate + M_0 (E_0 − expand G_1) + expand A_1, E_0 = gain·face − plate made where M_0 > 0,
  // both expansions row by row from their horizontal passes, so nothing full-size is written but the result
  const tG = pool.f('mb.tG', row * h1);
  expandRows(G[1], w, h, c, tG);
  let tA: Float32Array | null = null;
  if (A) {
    tA = pool.f('mb.tA', row * h1);
    expandRows(A, w, h, c, tA);
  }
  const M0 = M[0];
  const rG = pool.d('mb.rG', row), rA = pool.d('mb.rA', row);
  if (!tA) rA.fill(0);
  for (let y = 0; y < h; y++) {
    const i = y >> 1, even = (y & 1) === 0;
    const a = (i - 1 < 0 ? 0 : i - 1) * row, b = i * row, d = (i + 1 > h1 - 1 ? h1 - 1 : i + 1) * row;
    if (tA) {
      // the vertical expansions inline, and expand G_1 only where the mask is not 0
      if (even) level0Even3(pd, po + y * ps, fd, y * row, M0, y * w, tA, tG, a, b, d, gain, out.data, out.offset + y * out.stride, w);
      else level0Odd3(pd, po + y * ps, fd, y * row, M0, y * w, tA, tG, b, d, gain, out.data, out.offset + y * out.stride, w);
      continue;
    }
    expandColumn(tG, a, b, d, row, even, rG);
    if (tA) expandColumn(tA, a, b, d, row, even, rA);
    level0Row(pd, po + y * ps, fd, y * row, M0, y * w, rA, rG, gain, out.data, out.offset + y * out.stride, w);
  }
  return measured;
}

/** dst[i] = the [1 4 6 4 1]/16 blur of gain·f − p over the rows at offsets f0..f4 of f and p0..p4 of p. */
function verticalTapsDiff(
  f: Float32Array, f0: number, f1: number, f2: number, f3: number, f4: number,
  p: Float32Array, p0: number, p1: number, p2: number, p3: number, p4: number, gain: number, n: number, dst: Float32Array,
): void {
  for (let i = 0; i < n; i++) {
    const e0 = gain * f[f0 + i] - p[p0 + i], e1 = gain * f[f1 + i] - p[p1 + i], e2 = gain * f[f2 + i] - p[p2 + i];
    const e3 = gain * f[f3 + i] - p[p3 + i], e4 = gain * f[f4 + i] - p[p4 + i];
    dst[i] = (e0 + e4 + 4 * (e1 + e3) + 6 * e2) * 0.0625;
  }
}

/**
 * Level-1 luma row: the luma of the 2x2 means of the rows at offsets ya, yb (odd last column replicated).
 * The luma is linear, so this is the mean of the four pixels' luma, for a third of the arithmetic.
 */
function lumaMeans(s: Float32Array, ya: number, yb: number, w: number, c: number, dst: Float32Array, o: number, w1: number): void {
  for (let x = 0; x < w1; x++) {
    const xa = 2 * x * c, xb = (2 * x + 1 < w ? 2 * x + 1 : 2 * x) * c;
    const i = ya + xa, j = ya + xb, k = yb + xa, l = yb + xb;
    dst[o + x] = c >= 3
      ? 0.25 * (LUMA[0] * (s[i] + s[j] + s[k] + s[l]) + LUMA[1] * (s[i + 1] + s[j + 1] + s[k + 1] + s[l + 1]) + LUMA[2] * (s[i + 2] + s[j + 2] + s[k + 2] + s[l + 2]))
      : 0.25 * (s[i] + s[j] + s[k] + s[l]);
  }
}

/** The luma of a whole (strided) image. */
function lumaPlane(s: Float32Array, offset: number, stride: number, w: number, h: number, c: number, dst: Float32Array): Float32Array {
  for (let y = 0; y < h; y++) {
    const o = offset + y * stride;
    for (let x = 0, i = o; x < w; x++, i += c) dst[y * w + x] = c >= 3 ? LUMA[0] * s[i] + LUMA[1] * s[i + 1] + LUMA[2] * s[i + 2] : s[i];
  }
  return dst;
}

/** A = M (G − X) per pixel, 3 channels. */
function maskedBand(G: Float32Array, X: Float32Array, M: Float32Array, n: number, A: Float32Array): void {
  for (let p = 0, i = 0; p < n; p++, i += 3) {
    const m = M[p];
    A[i] = m * (G[i] - X[i]); A[i + 1] = m * (G[i + 1] - X[i + 1]); A[i + 2] = m * (G[i + 2] - X[i + 2]);
  }
}

/**
 * In place: img += (gain − 1)·(img − expand^bands(reduce^bands(img))), the bands 0 .. bands-1 of its
 * Laplacian pyramid scaled by `gain`, its residual level as it was.
 */
function boostDetail(img: Float32Array, w: number, h: number, c: number, sizes: Array<[number, number]>, bands: number, gain: number, tmp: Float32Array, pool: BufferPool): void {
  const G: Float32Array[] = [img];
  for (let k = 1; k <= bands; k++) {
    const g = pool.f(`mb.B${k}`, sizes[k][0] * sizes[k][1] * c);
    reduce(G[k - 1], sizes[k - 1][0], sizes[k - 1][1], c, g, tmp);
    G.push(g);
  }
  let low = G[bands];
  for (let k = bands - 1; k >= 0; k--) {
    const up = pool.f(`mb.U${k}`, sizes[k][0] * sizes[k][1] * c);
    expand(low, sizes[k][0], sizes[k][1], c, up, tmp);
    low = up;
  }
  const g1 = gain - 1;
  for (let i = 0; i < w * h * c; i++) img[i] += g1 * (img[i] - low[i]);
}

/** A = M G per pixel, c channels. */
function maskedResidual(G: Float32Array, M: Float32Array, n: number, c: number, A: Float32Array): void {
  for (let p = 0, i = 0; p < n; p++) {
    const m = M[p];
    for (let ch = 0; ch < c; ch++, i++) A[i] = m * G[i];
  }
}

/**
 * One row of level 0: out = plate + expand A_1 + M_0 (gain·face − plate − expand G_1), the expansions' rows
 * given; plate row at pd[po], face row at fd[fo], mask row at M0[mo], output row at out[oo].
 */
function level0Row(
  pd: Float32Array, po: number, fd: Float32Array, fo: number, M0: Float32Array, mo: number, rA: Float64Array, rG: Float64Array,
  gain: number, out: Float32Array, oo: number, w: number,
): void {
  for (let x = 0, j = 0; x < w; x++, j += 3) {
    const m = M0[mo + x];
    const p0 = pd[po + j], p1 = pd[po + j + 1], p2 = pd[po + j + 2];
    if (m !== 0) {
      const f = fo + j;
      out[oo + j] = p0 + rA[j] + m * (gain * fd[f] - p0 - rG[j]);
      out[oo + j + 1] = p1 + rA[j + 1] + m * (gain * fd[f + 1] - p1 - rG[j + 1]);
      out[oo + j + 2] = p2 + rA[j + 2] + m * (gain * fd[f + 2] - p2 - rG[j + 2]);
    } else {
      out[oo + j] = p0 + rA[j];
      out[oo + j + 1] = p1 + rA[j + 1];
      out[oo + j + 2] = p2 + rA[j + 2];
    }
  }
}

/** `level0Row` for 3 channels on an even row: the expansions' (1 6 1)/8 of coarse rows a, b, d inline. */
function level0Even3(
  pd: Float32Array, po: number, fd: Float32Array, fo: number, M0: Float32Array, mo: number, tA: Float32Array, tG: Float32Array,
  a: number, b: number, d: number, gain: number, out: Float32Array, oo: number, w: number,
): void {
  for (let x = 0, j = 0; x < w; x++, j += 3) {
    const m = M0[mo + x];
    const p0 = pd[po + j], p1 = pd[po + j + 1], p2 = pd[po + j + 2];
    const e0 = p0 + (tA[a + j] + tA[d + j] + 6 * tA[b + j]) * 0.125;
    const e1 = p1 + (tA[a + j + 1] + tA[d + j + 1] + 6 * tA[b + j + 1]) * 0.125;
    const e2 = p2 + (tA[a + j + 2] + tA[d + j + 2] + 6 * tA[b + j + 2]) * 0.125;
    if (m !== 0) {
      const f = fo + j;
      out[oo + j] = e0 + m * (gain * fd[f] - p0 - (tG[a + j] + tG[d + j] + 6 * tG[b + j]) * 0.125);
      out[oo + j + 1] = e1 + m * (gain * fd[f + 1] - p1 - (tG[a + j + 1] + tG[d + j + 1] + 6 * tG[b + j + 1]) * 0.125);
      out[oo + j + 2] = e2 + m * (gain * fd[f + 2] - p2 - (tG[a + j + 2] + tG[d + j + 2] + 6 * tG[b + j + 2]) * 0.125);
    } else {
      out[oo + j] = e0;
      out[oo + j + 1] = e1;
      out[oo + j + 2] = e2;
    }
  }
}

/** `level0Row` for 3 channels on an odd row: the expansions' mean of coarse rows b, d inline. */
function level0Odd3(
  pd: Float32Array, po: number, fd: Float32Array, fo: number, M0: Float32Array, mo: number, tA: Float32Array, tG: Float32Array,
  b: number, d: number, gain: number, out: Float32Array, oo: number, w: number,
): void {
  for (let x = 0, j = 0; x < w; x++, j += 3) {
    const m = M0[mo + x];
    const p0 = pd[po + j], p1 = pd[po + j + 1], p2 = pd[po + j + 2];
    const e0 = p0 + (tA[b + j] + tA[d + j]) * 0.5;
    const e1 = p1 + (tA[b + j + 1] + tA[d + j + 1]) * 0.5;
    const e2 = p2 + (tA[b + j + 2] + tA[d + j + 2]) * 0.5;
    if (m !== 0) {
      const f = fo + j;
      out[oo + j] = e0 + m * (gain * fd[f] - p0 - (tG[b + j] + tG[d + j]) * 0.5);
      out[oo + j + 1] = e1 + m * (gain * fd[f + 1] - p1 - (tG[b + j + 1] + tG[d + j + 1]) * 0.5);
      out[oo + j + 2] = e2 + m * (gain * fd[f + 2] - p2 - (tG[b + j + 2] + tG[d + j + 2]) * 0.5);
    } else {
      out[oo + j] = e0;
      out[oo + j + 1] = e1;
      out[oo + j + 2] = e2;
    }
  }
}

/** One output row of expand's vertical pass: rows a, b, d of `t` (offsets), even or odd output row. */
function expandColumn(t: Float32Array, a: number, b: number, d: number, row: number, even: boolean, dst: Float64Array): void {
  if (even) for (let j = 0; j < row; j++) dst[j] = (t[a + j] + t[d + j] + 6 * t[b + j]) * 0.125;
  else for (let j = 0; j < row; j++) dst[j] = (t[b + j] + t[d + j]) * 0.5;
}

/**
 * Σ_k 4^k Σ_p M_k(p) · L_k(luma)(p)² over the detail bands k = first .. bands-1, from the luma at level
 * `first` (Y, level-`first` sized): the detail energy of an image's luminance inside the mask. Band 0
 * (single-pixel grain, sensor noise, compression) is left out (first = 1, Y the 2x2 means of the luma)
 * unless it is the only band, which also keeps this at a quarter of the cost of a full-resolution pyramid.
 */
function detailEnergy(Yfirst: Float32Array, first: number, M: Float32Array[], sizes: Array<[number, number]>, bands: number, pool: BufferPool, tag: string): number {
  const tmp = pool.f('mb.tmp1', sizes[0][0] * sizes[1][1]);
  const Y: Float32Array[] = [];
  Y[first] = Yfirst;
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
