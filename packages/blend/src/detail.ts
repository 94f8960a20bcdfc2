import type { Strided } from './multiband.js';
import { convolve, gaussian } from './gauss.js';

/**
 * The sigma (plate px) of the plate's detail band added to a swap crop with `scale` crop px per plate px:
 * the Gaussian low-pass whose response is 1/2 at `factor` times the crop's Nyquist frequency (scale / 2
 * cycles per plate px). Above it the crop, upsampled to the plate, holds nothing of its own.
 */
export function detailSigma(scale: number, factor: number): number {
  return Math.sqrt(Math.LN2 / 2) / Math.PI / ((factor * scale) / 2);
}

/**
 * Adds the plate's frequencies above a Gaussian low-pass of `sigma` px to `dst` (the face, w x h x c, laid
 * over the plate window): plate − G∗plate per channel. A crop decoded at a lower resolution than the plate
 * has no frequencies there; the plate's are the target's skin texture, lashes and hair, at the scale of
 * pores, finer than features that tell people apart (4-16 cycles per face width).
 */
export function addPlateDetail(plate: Strided, w: number, h: number, c: number, sigma: number, dst: Float32Array): void {
  const k = gaussian(sigma);
  const plane = new Float32Array(w * h), tmp = new Float32Array(w * h);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) plane[y * w + x] = plate.data[plate.offset + y * plate.stride + x * c + ch];
    convolve(plane, tmp, w, h, k, 1, w);
    convolve(tmp, plane, w, h, k, w, 1);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = y * w + x;
        dst[p * c + ch] += plate.data[plate.offset + y * plate.stride + x * c + ch] - plane[p];
      }
    }
  }
}
