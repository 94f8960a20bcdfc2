import type { Image } from '@facecomb/image';

/**
 * Colour transfer of the generated face towards the plate, measured inside the mask (weighted by it):
 * `lab` matches mean and standard deviation per channel in CIE Lab (Reinhard et al. 2001);
 * `histogram` matches each RGB channel's histogram (CDF matching). Both map `face` in place.
 */
export type ColourMode = 'none' | 'lab' | 'histogram';

export function colourTransfer(face: Image, plate: Image, mask: Image, mode: ColourMode): void {
  if (mode === 'none') return;
  if (face.channels < 3 || plate.channels < 3) throw new Error('colour transfer needs RGB images');
  if (mode === 'lab') labTransfer(face, plate, mask);
  else if (mode === 'histogram') histogramMatch(face, plate, mask);
  else throw new Error(`colour: unknown mode '${mode as string}' (use none, lab or histogram)`);
}

// sRGB (D65) <-> CIE Lab
const XN = 0.95047, YN = 1.0, ZN = 1.08883;

function toLinear(v: number): number {
  return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
}
function toSrgb(v: number): number {
  return v <= 0.0031308 ? 12.92 * v : 1.055 * Math.pow(v, 1 / 2.4) - 0.055;
}
function f(t: number): number {
  return t > 0.008856451679 ? Math.cbrt(t) : t / 0.128418549 + 4 / 29;
}
function finv(t: number): number {
  return t > 0.206896551 ? t * t * t : 0.128418549 * (t - 4 / 29);
}

/** sRGB [0,1] -> Lab (L in [0,100]) into out[o..o+2]. */
export function rgbToLab(r: number, g: number, b: number, out: Float64Array | Float32Array, o = 0): void {
  const lr = toLinear(r), lg = toLinear(g), lb = toLinear(b);
  const x = (0.4124564 * lr + 0.3575761 * lg + 0.1804375 * lb) / XN;
  const y = (0.2126729 * lr + 0.7151522 * lg + 0.072175 * lb) / YN;
  const z = (0.0193339 * lr + 0.119192 * lg + 0.9503041 * lb) / ZN;
  const fx = f(x), fy = f(y), fz = f(z);
  out[o] = 116 * fy - 16;
  out[o + 1] = 500 * (fx - fy);
  out[o + 2] = 200 * (fy - fz);
}

/** Lab -> sRGB [0,1] (unclamped) into out[o..o+2]. */
export function labToRgb(L: number, a: number, bb: number, out: Float64Array | Float32Array, o = 0): void {
  const fy = (L + 16) / 116, fx = fy + a / 500, fz = fy - bb / 200;
  const x = XN * finv(fx), y = YN * finv(fy), z = ZN * finv(fz);
  const lr = 3.2404542 * x - 1.5371385 * y - 0.4985314 * z;
  const lg = -0.969266 * x + 1.8760108 * y + 0.041556 * z;
  const lb = 0.0556434 * x - 0.2040259 * y + 1.0572252 * z;
  out[o] = toSrgb(lr < 0 ? 0 : lr);
  out[o + 1] = toSrgb(lg < 0 ? 0 : lg);
  out[o + 2] = toSrgb(lb < 0 ? 0 : lb);
}

interface Stats { mean: number[]; std: number[] }

function labStats(lab: Float32Array, weights: Float32Array, n: number): Stats {
  const s = [0, 0, 0], s2 = [0, 0, 0];
  let wsum = 0;
  for (let p = 0; p < n; p++) {
    const wgt = weights[p];
    if (wgt <= 0) continue;
    wsum += wgt;
    for (let k = 0; k < 3; k++) {
      const v = lab[p * 3 + k];
      s[k] += wgt * v;
      s2[k] += wgt * v * v;
    }
  }
  if (wsum === 0) throw new Error('colour transfer: the mask is empty');
  const mean = s.map((v) => v / wsum);
  const std = s2.map((v, k) => Math.sqrt(Math.max(0, v / wsum - mean[k] * mean[k])));
  return { mean, std };
}

function labTransfer(face: Image, plate: Image, mask: Image): void {
  const n = face.width * face.height;
  const fc = face.channels, pc = plate.channels;
  const fl = new Float32Array(n * 3), pl = new Float32Array(n * 3);
  for (let p = 0; p < n; p++) {
    if (mask.data[p] <= 0) continue;
    rgbToLab(face.data[p * fc], face.data[p * fc + 1], face.data[p * fc + 2], fl, p * 3);
    rgbToLab(plate.data[p * pc], plate.data[p * pc + 1], plate.data[p * pc + 2], pl, p * 3);
  }
  const sf = labStats(fl, mask.data, n), sp = labStats(pl, mask.data, n);
  const gain = sf.std.map((v, k) => (v > 1e-6 ? sp.std[k] / v : 1));
  const rgb = new Float64Array(3);
  // outside the mask the face is not shown, but the multiband pyramid sees it: map every pixel
  for (let p = 0; p < n; p++) {
    const o = p * fc;
    const lab = [0, 0, 0];
    if (mask.data[p] > 0) {
      lab[0] = fl[p * 3]; lab[1] = fl[p * 3 + 1]; lab[2] = fl[p * 3 + 2];
    } else {
      rgbToLab(face.data[o], face.data[o + 1], face.data[o + 2], rgb);
      lab[0] = rgb[0]; lab[1] = rgb[1]; lab[2] = rgb[2];
    }
    labToRgb(
      (lab[0] - sf.mean[0]) * gain[0] + sp.mean[0],
      (lab[1] - sf.mean[1]) * gain[1] + sp.mean[1],
      (lab[2] - sf.mean[2]) * gain[2] + sp.mean[2],
      rgb,
    );
    for (let k = 0; k < 3; k++) face.data[o + k] = rgb[k] < 0 ? 0 : rgb[k] > 1 ? 1 : rgb[k];
  }
}

const BINS = 4096;

function histogramMatch(face: Image, plate: Image, mask: Image): void {
  const n = face.width * face.height;
  const fc = face.channels, pc = plate.channels;
  const hf = new Float64Array(BINS), hp = new Float64Array(BINS);
  const lut = new Float32Array(BINS);
  for (let ch = 0; ch < 3; ch++) {
    hf.fill(0);
    hp.fill(0);
    for (let p = 0; p < n; p++) {
      const wgt = mask.data[p];
      if (wgt <= 0) continue;
      hf[bin(face.data[p * fc + ch])] += wgt;
      hp[bin(plate.data[p * pc + ch])] += wgt;
    }
    // CDFs, normalised to [0, 1]
    for (let i = 1; i < BINS; i++) { hf[i] += hf[i - 1]; hp[i] += hp[i - 1]; }
    const tf = hf[BINS - 1], tp = hp[BINS - 1];
    if (tf === 0 || tp === 0) throw new Error('colour transfer: the mask is empty');
    for (let i = 0; i < BINS; i++) { hf[i] /= tf; hp[i] /= tp; }
    // for each face bin, the plate value at the same quantile (centre of the bin's CDF step), interpolated
    let j = 0;
    for (let i = 0; i < BINS; i++) {
      const qv = (hf[i] + (i > 0 ? hf[i - 1] : 0)) / 2;
      while (j < BINS - 1 && hp[j] < qv) j++;
      const lo = j > 0 ? hp[j - 1] : 0;
      const t = hp[j] > lo ? (qv - lo) / (hp[j] - lo) : 0.5;
      const v = (j - 0.5 + (t < 0 ? 0 : t > 1 ? 1 : t)) / (BINS - 1);
      lut[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
    for (let p = 0; p < n; p++) {
      const o = p * fc + ch;
      const v = face.data[o] * (BINS - 1);
      const i0 = v <= 0 ? 0 : v >= BINS - 1 ? BINS - 1 : Math.floor(v);
      const i1 = i0 + 1 < BINS ? i0 + 1 : i0;
      const t = v - i0;
      face.data[o] = lut[i0] * (1 - t) + lut[i1] * t;
    }
  }
}

function bin(v: number): number {
  const b = Math.floor(v * (BINS - 1) + 0.5);
  return b < 0 ? 0 : b >= BINS ? BINS - 1 : b;
}
