import type { Affine, Image } from './types.js';

/** Inverse of a 2x3 affine matrix; throws when it is singular. */
export function invertAffine(m: Affine): Affine {
  const [a, b, tx, c, d, ty] = m;
  const det = a * d - b * c;
  if (Math.abs(det) < 1e-12) throw new Error('affine matrix is singular');
  const ia = d / det, ib = -b / det, ic = -c / det, id = a / det;
  return [ia, ib, -(ia * tx + ib * ty), ic, id, -(ic * tx + id * ty)];
}

/** (m2 ∘ m1): first m1, then m2. */
export function composeAffine(m2: Affine, m1: Affine): Affine {
  const [a2, b2, t2, c2, d2, u2] = m2;
  const [a1, b1, t1, c1, d1, u1] = m1;
  return [a2 * a1 + b2 * c1, a2 * b1 + b2 * d1, a2 * t1 + b2 * u1 + t2, c2 * a1 + d2 * c1, c2 * b1 + d2 * d1, c2 * t1 + d2 * u1 + u2];
}

export function applyAffine(m: Affine, x: number, y: number): [number, number] {
  return [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]];
}

export interface WarpOptions {
  /** Value for samples outside the source (default 0). */
  border?: number;
  /** Clamp to the edge instead of using `border`. */
  replicate?: boolean;
}

/**
 * Warps `src` by the forward matrix `m` (source pixel coords -> destination pixel coords) into a
 * width x height image. Bilinear sampling; pixel (i, j) is the sample at integer coordinates (i, j),
 * the same convention as the landmarks, so there is no half-pixel shift between a warp and its inverse.
 */
export function warpAffine(src: Image, m: Affine, width: number, height: number, opts: WarpOptions = {}): Image {
  const inv = invertAffine(m);
  const c = src.channels;
  const out = new Float32Array(width * height * c);
  const border = opts.border ?? 0;
  const sw = src.width, sh = src.height, sd = src.data;
  const [a, b, tx, cc, d, ty] = inv;
  for (let y = 0; y < height; y++) {
    let sx = b * y + tx;
    let sy = d * y + ty;
    for (let x = 0; x < width; x++, sx += a, sy += cc) {
      const o = (y * width + x) * c;
      let fx = sx, fy = sy;
      if (opts.replicate) {
        fx = fx < 0 ? 0 : fx > sw - 1 ? sw - 1 : fx;
        fy = fy < 0 ? 0 : fy > sh - 1 ? sh - 1 : fy;
      } else if (fx < -1 || fy < -1 || fx > sw || fy > sh) {
        for (let k = 0; k < c; k++) out[o + k] = border;
        continue;
      }
      const x0 = Math.floor(fx), y0 = Math.floor(fy);
      const wx = fx - x0, wy = fy - y0;
      const x1 = x0 + 1, y1 = y0 + 1;
      const in00 = x0 >= 0 && y0 >= 0 && x0 < sw && y0 < sh;
      const in10 = x1 >= 0 && y0 >= 0 && x1 < sw && y0 < sh;
      const in01 = x0 >= 0 && y1 >= 0 && x0 < sw && y1 < sh;
      const in11 = x1 >= 0 && y1 >= 0 && x1 < sw && y1 < sh;
      const w00 = (1 - wx) * (1 - wy), w10 = wx * (1 - wy), w01 = (1 - wx) * wy, w11 = wx * wy;
      const i00 = (y0 * sw + x0) * c, i10 = i00 + c, i01 = i00 + sw * c, i11 = i01 + c;
      for (let k = 0; k < c; k++) {
        out[o + k] =
          (in00 ? sd[i00 + k] : border) * w00 +
          (in10 ? sd[i10 + k] : border) * w10 +
          (in01 ? sd[i01 + k] : border) * w01 +
          (in11 ? sd[i11 + k] : border) * w11;
      }
    }
  }
  return { width, height, channels: c, data: out };
}
