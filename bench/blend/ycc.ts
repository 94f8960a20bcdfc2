import type { Image } from '@facecomb/image';

/** Rec. 709 luma and the Cb, Cr colour differences of an RGB image, one plane each. */
export function ycc(img: Image): [Float32Array, Float32Array, Float32Array] {
  const n = img.width * img.height, Y = new Float32Array(n), Cb = new Float32Array(n), Cr = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    const r = img.data[3 * p], g = img.data[3 * p + 1], b = img.data[3 * p + 2];
    Y[p] = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    Cb[p] = (b - Y[p]) / 1.8556;
    Cr[p] = (r - Y[p]) / 1.5748;
  }
  return [Y, Cb, Cr];
}
