import { applyAffine, composeAffine, invertAffine, type Affine, type Image } from '@facecomb/image';
import { maskBounds } from './mask.js';
import type { BufferPool } from './pool.js';

/** A rectangle of the plate: x, y (top-left) and its size. */
export interface Roi {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The plate rectangle that the crop-space box [x0, y0, x1, y1] covers once warped back with the inverse
 * of `matrix` (plate -> crop), grown by `margin` px and clipped to the plate. Null when it misses the plate.
 */
export function plateRoi(box: [number, number, number, number], matrix: Affine, plateW: number, plateH: number, margin: number): Roi | null {
  const inv = invertAffine(matrix);
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  // one crop pixel of slack: bilinear sampling reaches the neighbour
  for (const [cx, cy] of [[box[0] - 1, box[1] - 1], [box[2] + 1, box[1] - 1], [box[0] - 1, box[3] + 1], [box[2] + 1, box[3] + 1]]) {
    const [px, py] = applyAffine(inv, cx, cy);
    minX = Math.min(minX, px); maxX = Math.max(maxX, px);
    minY = Math.min(minY, py); maxY = Math.max(maxY, py);
  }
  const x0 = Math.max(0, Math.floor(minX) - margin), y0 = Math.max(0, Math.floor(minY) - margin);
  const x1 = Math.min(plateW - 1, Math.ceil(maxX) + margin), y1 = Math.min(plateH - 1, Math.ceil(maxY) + margin);
  if (x1 < x0 || y1 < y0) return null;
  return { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/** Crop -> ROI pixel matrix for warpAffine: the inverse of `matrix`, then the shift to the ROI's origin. */
export function cropToRoi(matrix: Affine, roi: Roi): Affine {
  return composeAffine([1, 0, -roi.x, 0, 1, -roi.y], invertAffine(matrix));
}

export interface Unwarped {
  roi: Roi;
  /** The crop's colours in ROI pixels (edge-replicated beyond the crop). */
  face: Image;
  /** The mask in ROI pixels (0 beyond the crop). */
  mask: Image;
}

/**
 * Warps a crop (taken from the plate by `warpAffine(plate, matrix, size, size)`) and its mask back into
 * the plate, inside the bounding box of the mask grown by `margin`. Bilinear, no half-pixel shift: plate
 * pixel (x, y) samples the crop at matrix · (x, y). Returns null when the mask is empty or off the plate.
 *
 * With a `pool` the face and mask are views of its buffers, valid until the pool is next used for a blend.
 *
 * `mask` may be the crop's size or half of it (a smooth mask prepared at half resolution; its pixel i
 * covers crop pixels 2i and 2i + 1). `box` is the mask's bounds in crop pixels when already known.
 */
export function unwarp(
  crop: Image, mask: Image, matrix: Affine, plateW: number, plateH: number, margin: number, box?: [number, number, number, number] | null, pool?: BufferPool,
): Unwarped | null {
  const halfRes = mask.width === (crop.width + 1) >> 1 && mask.height === (crop.height + 1) >> 1 && crop.width > 1;
  if (!halfRes && (crop.width !== mask.width || crop.height !== mask.height)) {
    throw new Error(`crop is ${crop.width}x${crop.height} but its mask is ${mask.width}x${mask.height}: they must have the align crop size`);
  }
  let b = box === undefined ? maskBounds(mask) : box;
  if (!b) return null;
  if (halfRes && box === undefined) b = [2 * b[0], 2 * b[1], Math.min(crop.width - 1, 2 * b[2] + 1), Math.min(crop.height - 1, 2 * b[3] + 1)];
  const roi = plateRoi(b, matrix, plateW, plateH, margin);
  if (!roi) return null;
  const n = roi.width * roi.height;
  const out = pool ? { face: pool.f('unwarp.face', n * crop.channels), mask: pool.f('unwarp.mask', n) } : undefined;
  const { face, mask: m } = warpBack(crop, mask, matrix, roi, halfRes, out, b);
  return { roi, face, mask: m };
}

/**
 * The x range [lo, hi] (inclusive, clipped to [0, n - 1]) where lo0 + step·x lies in [min, max], as far as it
 * can be told with a little slack for the rounding of the running sum; empty when lo > hi.
 */
function linearRange(start: number, step: number, min: number, max: number, n: number): [number, number] {
  const eps = 1e-6;
  min += eps;
  max -= eps;
  if (step === 0) return start >= min && start <= max ? [0, n - 1] : [1, 0];
  let a = (min - start) / step, b = (max - start) / step;
  if (step < 0) { const t = a; a = b; b = t; }
  const lo = Math.max(0, Math.ceil(a)), hi = Math.min(n - 1, Math.floor(b));
  return [lo, hi];
}

/**
 * Pixels x0 .. x1 - 1 of ROI row `p0` (pixel index of its start) whose samples all lie inside the crop:
 * bilinear, 3 channels, no clamping. `u`, `v` are the crop coordinates of x0.
 */
function faceSpan(sd: Float32Array, srow: number, face: Float32Array, p0: number, x0: number, x1: number, u: number, v: number, a: number, cc: number): void {
  for (let x = x0; x < x1; x++, u += a, v += cc) {
    const ix = u | 0, iy = v | 0;
    const wx = u - ix, wy = v - iy;
    const w00 = (1 - wx) * (1 - wy), w10 = wx * (1 - wy), w01 = (1 - wx) * wy, w11 = wx * wy;
    const i00 = iy * srow + ix * 3, i01 = i00 + srow;
    const o = (p0 + x) * 3;
    face[o] = sd[i00] * w00 + sd[i00 + 3] * w10 + sd[i01] * w01 + sd[i01 + 3] * w11;
    face[o + 1] = sd[i00 + 1] * w00 + sd[i00 + 4] * w10 + sd[i01 + 1] * w01 + sd[i01 + 4] * w11;
    face[o + 2] = sd[i00 + 2] * w00 + sd[i00 + 5] * w10 + sd[i01 + 2] * w01 + sd[i01 + 5] * w11;
  }
}

/** The mask at pixels x0 .. x1 - 1 of ROI row `p0`, whose samples all lie inside the 1-channel mask. */
function maskSpan(md: Float32Array, mw: number, mout: Float32Array, p0: number, x0: number, x1: number, u: number, v: number, a: number, cc: number, ms: number, mo: number): void {
  for (let x = x0; x < x1; x++, u += a, v += cc) {
    const gx = u * ms + mo, gy = v * ms + mo;
    const mx0 = gx | 0, my0 = gy | 0;
    const ux = gx - mx0, uy = gy - my0;
    const j = my0 * mw + mx0;
    const m00 = md[j], m10 = md[j + 1], m01 = md[j + mw], m11 = md[j + mw + 1];
    // four equal taps (the mask's flat inside and outside) interpolate to that value: a float32 within
    // rounding of it, which the float32 store gives back exactly
    mout[p0 + x] = m00 === m10 && m00 === m01 && m00 === m11 ? m00 : (m00 * (1 - ux) + m10 * ux) * (1 - uy) + (m01 * (1 - ux) + m11 * ux) * uy;
  }
}

/** Pixels xs .. xe - 1 of ROI row `p0` with the general sampling: replicated crop edges, mask 0 beyond it. */
function slowSpan(
  sd: Float32Array, sw: number, sh: number, c: number, md: Float32Array, mw: number, mh: number, mc: number, face: Float32Array, mout: Float32Array,
  p0: number, xs: number, xe: number, u: number, v: number, a: number, cc: number, ms: number, mo: number,
): void {
  for (let x = xs; x < xe; x++, u += a, v += cc) {
    const p = p0 + x;
    // face, replicated edges
    const fx = u < 0 ? 0 : u > sw - 1 ? sw - 1 : u;
    const fy = v < 0 ? 0 : v > sh - 1 ? sh - 1 : v;
    const x0 = fx | 0, y0 = fy | 0;
    const x1 = x0 + 1 < sw ? x0 + 1 : x0, y1 = y0 + 1 < sh ? y0 + 1 : y0;
    const wx = fx - x0, wy = fy - y0;
    const w00 = (1 - wx) * (1 - wy), w10 = wx * (1 - wy), w01 = (1 - wx) * wy, w11 = wx * wy;
    const i00 = (y0 * sw + x0) * c, i10 = (y0 * sw + x1) * c, i01 = (y1 * sw + x0) * c, i11 = (y1 * sw + x1) * c;
    const o = p * c;
    for (let k = 0; k < c; k++) face[o + k] = sd[i00 + k] * w00 + sd[i10 + k] * w10 + sd[i01 + k] * w01 + sd[i11 + k] * w11;
    // mask, zero beyond its edge
    const gx = u * ms + mo, gy = v * ms + mo;
    let val = 0;
    if (gx >= -1 && gy >= -1 && gx <= mw && gy <= mh) {
      const mx0 = Math.floor(gx), my0 = Math.floor(gy);
      const ux = gx - mx0, uy = gy - my0;
      if (mx0 >= 0 && my0 >= 0 && mx0 + 1 < mw && my0 + 1 < mh) {
        const j = my0 * mw + mx0;
        val = (md[j * mc] * (1 - ux) + md[(j + 1) * mc] * ux) * (1 - uy) + (md[(j + mw) * mc] * (1 - ux) + md[(j + mw + 1) * mc] * ux) * uy;
      } else {
        for (let k = 0; k < 4; k++) {
          const xx = mx0 + (k & 1), yy = my0 + (k >> 1);
          if (xx < 0 || yy < 0 || xx >= mw || yy >= mh) continue;
          val += md[(yy * mw + xx) * mc] * ((k & 1) ? ux : 1 - ux) * ((k >> 1) ? uy : 1 - uy);
        }
      }
    }
    mout[p] = val;
  }
}

/**
 * One pass over the ROI: plate pixel (roi.x + x, roi.y + y) samples the crop bilinearly at matrix · p
 * (edges replicated, as `warpAffine(..., { replicate: true })`) and the mask at the same point (0 beyond
 * it, as `warpAffine(..., { border: 0 })`). Each row is split where its line of sample points enters and
 * leaves the crop: the pixels in between (most of them) take a path with no clamping or bounds tests.
 * `out` buffers (ROI-sized) are filled completely when given.
 */
function warpBack(
  crop: Image, mask: Image, matrix: Affine, roi: Roi, halfRes: boolean, out?: { face: Float32Array; mask: Float32Array }, box?: [number, number, number, number] | null,
): { face: Image; mask: Image } {
  const c = crop.channels, sw = crop.width, sh = crop.height, sd = crop.data;
  const mw = mask.width, mh = mask.height, md = mask.data, mc = mask.channels;
  const W = roi.width, H = roi.height;
  const face = out ? out.face : new Float32Array(W * H * c);
  const mout = out ? out.mask : new Float32Array(W * H);
  const [a, b, tx, cc, d, ty] = matrix;
  // mask coordinates: the crop's, or (u - 0.5) / 2 at half resolution
  const ms = halfRes ? 0.5 : 1, mo = halfRes ? -0.25 : 0;
  const srow = sw * c;
  // crop-space box outside which every mask tap is 0: the mask's box (crop px), grown by one mask pixel
  const g = halfRes ? 3 : 2;
  const mbox = box ? [box[0] - g, box[1] - g, box[2] + g, box[3] + g] : null;
  for (let y = 0; y < H; y++) {
    const py = roi.y + y;
    const u0 = a * roi.x + b * py + tx;
    const v0 = cc * roi.x + d * py + ty;
    // the fast span: face sample in [0, sw - 1) x [0, sh - 1) and mask sample in [0, mw - 1) x [0, mh - 1)
    let [lo, hi] = linearRange(u0, a, 0, sw - 1, W);
    let r = linearRange(v0, cc, 0, sh - 1, W);
    if (r[0] > lo) lo = r[0];
    if (r[1] < hi) hi = r[1];
    r = linearRange(u0 * ms + mo, a * ms, 0, mw - 1, W);
    if (r[0] > lo) lo = r[0];
    if (r[1] < hi) hi = r[1];
    r = linearRange(v0 * ms + mo, cc * ms, 0, mh - 1, W);
    if (r[0] > lo) lo = r[0];
    if (r[1] < hi) hi = r[1];
    if (c !== 3 || mc !== 1) { lo = W; hi = W - 1; } // the general path only
    let u = u0, v = v0;
    let x = 0;
    for (let seg = 0; seg < 3; seg++) {
      const end = seg === 0 ? (lo <= hi ? lo : W) : seg === 1 ? hi + 1 : W;
      if (end <= x) continue;
      if (seg === 1 && lo <= hi) {
        faceSpan(sd, srow, face, y * W, x, end, u, v, a, cc);
        // the mask only where its samples can reach a pixel > 0 (its box, grown by the bilinear reach); 0 elsewhere
        let ma = x, mb = end;
        if (mbox) {
          let q = linearRange(u0, a, mbox[0], mbox[2], W);
          if (q[0] > ma) ma = q[0];
          if (q[1] + 1 < mb) mb = q[1] + 1;
          q = linearRange(v0, cc, mbox[1], mbox[3], W);
          if (q[0] > ma) ma = q[0];
          if (q[1] + 1 < mb) mb = q[1] + 1;
        }
        if (mb <= ma) mout.fill(0, y * W + x, y * W + end);
        else {
          mout.fill(0, y * W + x, y * W + ma);
          maskSpan(md, mw, mout, y * W, ma, mb, u + a * (ma - x), v + cc * (ma - x), a, cc, ms, mo);
          mout.fill(0, y * W + mb, y * W + end);
        }
        u += a * (end - x);
        v += cc * (end - x);
        x = end;
        continue;
      }
      slowSpan(sd, sw, sh, c, md, mw, mh, mc, face, mout, y * W, x, end, u, v, a, cc, ms, mo);
      u += a * (end - x);
      v += cc * (end - x);
      x = end;
    }
  }
  return { face: { width: W, height: H, channels: c, data: face }, mask: { width: W, height: H, channels: 1, data: mout } };
}

/** The ROI of the plate as its own image (a copy). */
export function extractRoi(plate: Image, roi: Roi, out?: Float32Array): Image {
  const c = plate.channels;
  const data = out ?? new Float32Array(roi.width * roi.height * c);
  for (let y = 0; y < roi.height; y++) {
    const s = ((roi.y + y) * plate.width + roi.x) * c;
    data.set(plate.data.subarray(s, s + roi.width * c), y * roi.width * c);
  }
  return { width: roi.width, height: roi.height, channels: c, data };
}

/** Writes an ROI image into (a copy of) the plate in place. */
export function pasteRoi(plate: Image, roi: Roi, src: Image): void {
  const c = plate.channels;
  for (let y = 0; y < roi.height; y++) {
    const d = ((roi.y + y) * plate.width + roi.x) * c;
    plate.data.set(src.data.subarray(y * roi.width * c, (y + 1) * roi.width * c), d);
  }
}
