import type { Image } from '@facecomb/image';
import { convolve, gaussian } from './gauss.js';

/**
 * Smooths the colour of an RGB image and keeps its luma: out = Y + G_sigma * (X - Y) per channel, Y the Rec. 709
 * luma. Cb and Cr are linear in X - Y, so this is a Gaussian low-pass of the chroma planes with the luma
 * untouched. The decoder's finest colour (a green-magenta checkerboard from its nearest-neighbour upsampling at
 * low resolution) shows in the plate as coloured rings around the eyes; the eye, whose detail is carried by
 * luma, keeps its shape. Images with other than 3 channels are returned as they are. `sigma` in px; <= 0: a copy.
 */
export function smoothChroma(img: Image, sigma: number): Image {
  const { width: w, height: h, channels: c, data } = img;
  const out = new Float32Array(data);
  if (c !== 3 || !(sigma > 0)) return { width: w, height: h, channels: c, data: out };
  const n = w * h;
  const Y = new Float32Array(n);
  for (let p = 0; p < n; p++) Y[p] = 0.2126 * data[3 * p] + 0.7152 * data[3 * p + 1] + 0.0722 * data[3 * p + 2];
  const k = gaussian(sigma);
  const plane = new Float32Array(n), tmp = new Float32Array(n);
  for (let ch = 0; ch < 3; ch++) {
    for (let p = 0; p < n; p++) plane[p] = data[3 * p + ch] - Y[p];
    convolve(plane, tmp, w, h, k, 1, w);
    convolve(tmp, plane, w, h, k, w, 1);
    for (let p = 0; p < n; p++) out[3 * p + ch] = Y[p] + plane[p];
  }
  return { width: w, height: h, channels: c, data: out };
}
