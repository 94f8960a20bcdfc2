/** Separable Gaussian filtering of single planes (small sigmas: direct taps). */

/** Normalised Gaussian taps, radius ceil(3 sigma). */
export function gaussian(sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) s += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  return k.map((v) => v / s);
}

/**
 * One 1-D pass of `k` along an axis (step `along` between taps, `across` between lines), edges replicated.
 * For rows: along = 1, across = w; for columns: along = w, across = 1.
 */
export function convolve(src: Float32Array, dst: Float32Array, w: number, h: number, k: Float32Array, along: number, across: number): void {
  const r = (k.length - 1) >> 1;
  const len = along === 1 ? w : h, lines = along === 1 ? h : w;
  for (let l = 0; l < lines; l++) {
    const base = l * across;
    for (let i = 0; i < len; i++) {
      let s = 0;
      for (let t = -r; t <= r; t++) {
        const j = i + t < 0 ? 0 : i + t >= len ? len - 1 : i + t;
        s += k[t + r] * src[base + j * along];
      }
      dst[base + i * along] = s;
    }
  }
}
