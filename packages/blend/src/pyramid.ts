/**
 * Burt–Adelson pyramids on interleaved float planes (HWC), with the 5-tap binomial kernel
 * [1 4 6 4 1]/16 and clamped (edge-replicating) borders. Every function writes into caller-owned
 * buffers so a blend allocates nothing per pixel and nothing per frame once its pool is warm.
 * The contiguous (vertical) pass always runs on the larger image, the strided (horizontal) pass on the
 * smaller one; the horizontal passes are written for 1 channel (masks) and 3 (RGB) only.
 */

/** Size of the next (coarser) level. */
export function half(n: number): number {
  return (n + 1) >> 1;
}

/**
 * Blur with [1 4 6 4 1]/16 and keep every second sample: src (w x h x c) -> dst (half(w) x half(h) x c).
 * `tmp` needs w * half(h) * c elements.
 */
export function reduce(src: Float32Array, w: number, h: number, c: number, dst: Float32Array, tmp: Float32Array): void {
  const w2 = half(w), h2 = half(h);
  const row = w * c;
  // vertical: every second row of the 5-row blur, full width
  for (let yo = 0; yo < h2; yo++) {
    const y = yo << 1;
    const r0 = (y - 2 < 0 ? 0 : y - 2) * row, r1 = (y - 1 < 0 ? 0 : y - 1) * row, r2 = y * row;
    const r3 = (y + 1 > h - 1 ? h - 1 : y + 1) * row, r4 = (y + 2 > h - 1 ? h - 1 : y + 2) * row;
    const o = yo * row;
    for (let i = 0; i < row; i++) {
      tmp[o + i] = (src[r0 + i] + src[r4 + i] + 4 * (src[r1 + i] + src[r3 + i]) + 6 * src[r2 + i]) * 0.0625;
    }
  }
  // horizontal: rows of w -> rows of w2, on half(h) rows
  for (let y = 0; y < h2; y++) reduceRow(tmp, y * row, w, c, dst, y * w2 * c);
}

/** The horizontal half of `reduce` on one row: w samples at s[si] -> half(w) samples at d[di]. */
export function reduceRow(s: Float32Array, si: number, w: number, c: number, d: Float32Array, di: number): void {
  if (c !== 1 && c !== 3) throw new Error(`pyramid: ${c} channels; images are RGB (3) and masks 1`);
  const w2 = half(w);
  // interior outputs have all five taps inside: 2 <= 2 xo <= w - 3
  const lo = 1, hi = Math.min(w2 - 1, (w - 3) >> 1);
  const edge = (xo: number): void => {
    const x = xo << 1;
    const x0 = x - 2 < 0 ? 0 : x - 2, x1 = x - 1 < 0 ? 0 : x - 1;
    const x3 = x + 1 > w - 1 ? w - 1 : x + 1, x4 = x + 2 > w - 1 ? w - 1 : x + 2;
    for (let k = 0; k < c; k++) {
      d[di + xo * c + k] = (s[si + x0 * c + k] + s[si + x4 * c + k] + 4 * (s[si + x1 * c + k] + s[si + x3 * c + k]) + 6 * s[si + x * c + k]) * 0.0625;
    }
  };
  edge(0);
  if (c === 3) {
    for (let xo = lo; xo <= hi; xo++) {
      const b = si + (2 * xo - 2) * 3, o = di + xo * 3;
      d[o] = (s[b] + s[b + 12] + 4 * (s[b + 3] + s[b + 9]) + 6 * s[b + 6]) * 0.0625;
      d[o + 1] = (s[b + 1] + s[b + 13] + 4 * (s[b + 4] + s[b + 10]) + 6 * s[b + 7]) * 0.0625;
      d[o + 2] = (s[b + 2] + s[b + 14] + 4 * (s[b + 5] + s[b + 11]) + 6 * s[b + 8]) * 0.0625;
    }
  } else {
    for (let xo = lo; xo <= hi; xo++) {
      const b = si + 2 * xo - 2;
      d[di + xo] = (s[b] + s[b + 4] + 4 * (s[b + 1] + s[b + 3]) + 6 * s[b + 2]) * 0.0625;
    }
  }
  for (let xo = Math.max(hi + 1, 1); xo < w2; xo++) edge(xo);
}

/**
 * The upsampling that pairs with `reduce`: src (half(w) x half(h) x c) -> dst (w x h x c).
 * Even samples take (1 6 1)/8 of the coarse neighbours, odd samples their mean. `tmp` needs w * half(h) * c.
 * With `accumulate` the result is added to dst instead of overwriting it.
 */
export function expand(src: Float32Array, w: number, h: number, c: number, dst: Float32Array, tmp: Float32Array, accumulate = false): void {
  const w2 = half(w), h2 = half(h);
  const row = w * c, row2 = w2 * c;
  // horizontal first, on the coarse rows: w2 -> w
  expandRows(src, w, h, c, tmp);
  // vertical: h2 rows -> h rows, contiguous
  for (let y = 0; y < h; y++) {
    const i = y >> 1;
    const o = y * row;
    const b = i * row, d = (i + 1 > h2 - 1 ? h2 - 1 : i + 1) * row;
    if ((y & 1) === 0) {
      const a = (i - 1 < 0 ? 0 : i - 1) * row;
      if (accumulate) for (let j = 0; j < row; j++) dst[o + j] += (tmp[a + j] + tmp[d + j] + 6 * tmp[b + j]) * 0.125;
      else for (let j = 0; j < row; j++) dst[o + j] = (tmp[a + j] + tmp[d + j] + 6 * tmp[b + j]) * 0.125;
    } else {
      if (accumulate) for (let j = 0; j < row; j++) dst[o + j] += (tmp[b + j] + tmp[d + j]) * 0.5;
      else for (let j = 0; j < row; j++) dst[o + j] = (tmp[b + j] + tmp[d + j]) * 0.5;
    }
  }
}

/** The horizontal half of `expand`: half(w) x half(h) -> w x half(h) into `tmp`. */
export function expandRows(src: Float32Array, w: number, h: number, c: number, tmp: Float32Array): void {
  if (c !== 1 && c !== 3) throw new Error(`pyramid: ${c} channels; images are RGB (3) and masks 1`);
  const h2 = half(h), row = w * c, row2 = half(w) * c;
  for (let y = 0; y < h2; y++) expandRow(src, y * row2, w, c, tmp, y * row);
}

function expandRow(s: Float32Array, si: number, w: number, c: number, d: Float32Array, di: number): void {
  const w2 = half(w);
  const edge = (x: number): void => {
    const i = x >> 1;
    const b = si + i * c, e = si + (i + 1 > w2 - 1 ? w2 - 1 : i + 1) * c, o = di + x * c;
    if ((x & 1) === 0) {
      const a = si + (i - 1 < 0 ? 0 : i - 1) * c;
      for (let k = 0; k < c; k++) d[o + k] = (s[a + k] + s[e + k] + 6 * s[b + k]) * 0.125;
    } else {
      for (let k = 0; k < c; k++) d[o + k] = (s[b + k] + s[e + k]) * 0.5;
    }
  };
  // interior coarse samples i with i-1 >= 0 and i+1 <= w2-1, writing outputs 2i and 2i+1 (< w)
  const hiI = Math.min(w2 - 2, (w - 2) >> 1);
  edge(0);
  if (w > 1) edge(1);
  if (c === 3) {
    for (let i = 1; i <= hiI; i++) {
      const a = si + (i - 1) * 3, o = di + 6 * i;
      const a0 = s[a], a1 = s[a + 1], a2 = s[a + 2];
      const b0 = s[a + 3], b1 = s[a + 4], b2 = s[a + 5];
      const e0 = s[a + 6], e1 = s[a + 7], e2 = s[a + 8];
      d[o] = (a0 + e0 + 6 * b0) * 0.125; d[o + 1] = (a1 + e1 + 6 * b1) * 0.125; d[o + 2] = (a2 + e2 + 6 * b2) * 0.125;
      d[o + 3] = (b0 + e0) * 0.5; d[o + 4] = (b1 + e1) * 0.5; d[o + 5] = (b2 + e2) * 0.5;
    }
  } else {
    for (let i = 1; i <= hiI; i++) {
      const a = si + i - 1, o = di + 2 * i;
      const b = s[a + 1], e = s[a + 2];
      d[o] = (s[a] + e + 6 * b) * 0.125;
      d[o + 1] = (b + e) * 0.5;
    }
  }
  for (let x = Math.max(2, 2 * hiI + 2); x < w; x++) edge(x);
}

/** Level sizes [w_0, h_0], ..., [w_n, h_n] of an n-step pyramid. */
export function levelSizes(w: number, h: number, steps: number): Array<[number, number]> {
  const out: Array<[number, number]> = [[w, h]];
  for (let k = 0; k < steps; k++) {
    const [pw, ph] = out[out.length - 1];
    out.push([half(pw), half(ph)]);
  }
  return out;
}

/** How far (in level-0 pixels) a change confined to a region can spread through `bands` detail levels and back. */
export function pyramidSpread(bands: number): number {
  return bands <= 0 ? 0 : (1 << (bands + 1)) + 4;
}
