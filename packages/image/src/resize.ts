import type { Image } from './types.js';

/**
 * Resizes by area averaging when shrinking and bilinear interpolation when enlarging, per axis
 * (separable). Pixel centres sit at (i + 0.5) here, which keeps the image centred under resizing.
 */
export function resize(img: Image, width: number, height: number): Image {
  const tmp = resizeAxis(img.data, img.width, img.height, img.channels, width, true);
  const data = resizeAxis(tmp, width, img.height, img.channels, height, false);
  return { width, height, channels: img.channels, data };
}

function weights(srcLen: number, dstLen: number): { start: Int32Array; len: Int32Array; w: Float32Array; maxTaps: number } {
  const scale = srcLen / dstLen;
  const support = Math.max(1, scale);
  const maxTaps = Math.ceil(support) * 2 + 2;
  const start = new Int32Array(dstLen);
  const len = new Int32Array(dstLen);
  const w = new Float32Array(dstLen * maxTaps);
  for (let d = 0; d < dstLen; d++) {
    const centre = (d + 0.5) * scale - 0.5;
    const lo = Math.max(0, Math.floor(centre - support) );
    const hi = Math.min(srcLen - 1, Math.ceil(centre + support));
    let sum = 0;
    let n = 0;
    for (let s = lo; s <= hi && n < maxTaps; s++, n++) {
      const t = Math.max(0, 1 - Math.abs(s - centre) / support); // triangle filter widened when shrinking
      w[d * maxTaps + n] = t;
      sum += t;
    }
    if (sum === 0) {
      w[d * maxTaps] = 1;
      sum = 1;
    }
    for (let k = 0; k < n; k++) w[d * maxTaps + k] /= sum;
    start[d] = lo;
    len[d] = n;
  }
  return { start, len, w, maxTaps };
}

function resizeAxis(src: Float32Array, w: number, h: number, c: number, dst: number, horizontal: boolean): Float32Array {
  const srcLen = horizontal ? w : h;
  const { start, len, w: wt, maxTaps } = weights(srcLen, dst);
  const ow = horizontal ? dst : w;
  const oh = horizontal ? h : dst;
  const out = new Float32Array(ow * oh * c);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const d = horizontal ? x : y;
      const o = (y * ow + x) * c;
      for (let k = 0; k < len[d]; k++) {
        const s = start[d] + k;
        const wk = wt[d * maxTaps + k];
        const i = horizontal ? (y * w + s) * c : (s * w + x) * c;
        for (let ch = 0; ch < c; ch++) out[o + ch] += wk * src[i + ch];
      }
    }
  }
  return out;
}
