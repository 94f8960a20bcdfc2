import type { Image } from './types.js';

/**
 * The colour description of a plate (primaries, transfer, matrix, range, bit depth), as FFmpeg names them.
 * Ingest records it from the source, every stage copies it into its meta.json, and encode tags its outputs
 * with it, so a Rec.709 plate comes back as Rec.709 and a scene-linear EXR plate as scene-linear EXR.
 */
export interface ColourDescription {
  /** e.g. "bt709", "bt2020", "smpte432" (Display P3), "unknown". */
  primaries: string;
  /** e.g. "bt709", "iec61966-2-1" (sRGB), "linear", "smpte2084" (PQ), "arib-std-b67" (HLG), "unknown". */
  transfer: string;
  /** YUV matrix of the source: "bt709", "bt470bg", "smpte170m", "bt2020nc", "gbr" (RGB source), "unknown". */
  matrix: string;
  /** "tv" (limited), "pc" (full) or "unknown". */
  range: string;
  /** Bits per sample of the source (8, 10, 12, 16; 16 for half float, 32 for float). */
  bitDepth: number;
  /** How the samples are stored: integers, half floats (EXR) or floats. */
  sampleType: 'uint' | 'half' | 'float';
  /** True for scene-linear light (EXR plates): blend works on these values directly. */
  linear: boolean;
}

/** What a plain 8-bit image file (PNG/JPEG without tags) is taken to be: sRGB, full range. */
export function srgbDescription(bitDepth: number): ColourDescription {
  return { primaries: 'bt709', transfer: 'iec61966-2-1', matrix: 'gbr', range: 'pc', bitDepth, sampleType: 'uint', linear: false };
}

/** An OpenEXR plate: scene-linear light, Rec.709 primaries unless the file says otherwise. */
export function exrDescription(sampleType: 'half' | 'float'): ColourDescription {
  return { primaries: 'bt709', transfer: 'linear', matrix: 'gbr', range: 'pc', bitDepth: sampleType === 'half' ? 16 : 32, sampleType, linear: true };
}

/** sRGB (IEC 61966-2-1) encoded value -> linear light; values beyond [0, 1] follow the curve's mirror/extension. */
export function srgbToLinear(v: number): number {
  const a = Math.abs(v);
  const l = a <= 0.04045 ? a / 12.92 : Math.pow((a + 0.055) / 1.055, 2.4);
  return v < 0 ? -l : l;
}

/** Linear light -> sRGB encoded value (the inverse of srgbToLinear). */
export function linearToSrgb(v: number): number {
  const a = Math.abs(v);
  const e = a <= 0.0031308 ? a * 12.92 : 1.055 * Math.pow(a, 1 / 2.4) - 0.055;
  return v < 0 ? -e : e;
}

/** A scene-linear image's display proxy: the sRGB transfer applied, clipped to [0, 1] (RGB; alpha dropped). */
export function srgbProxy(img: Image): Image {
  const out = new Float32Array(img.width * img.height * 3);
  const c = img.channels, d = img.data;
  for (let i = 0, o = 0; o < out.length; i += c, o += 3) {
    for (let k = 0; k < 3; k++) {
      const v = linearToSrgb(d[i + k]);
      out[o + k] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return { width: img.width, height: img.height, channels: 3, data: out };
}

/** sRGB-encoded values -> linear light, in place (e.g. a swapped face crop before blending into a linear plate). */
export function linearise(img: Image): Image {
  const d = img.data;
  for (let i = 0; i < d.length; i++) d[i] = srgbToLinear(d[i]);
  return img;
}

/**
 * The description of what is shown for a plate: a scene-linear plate's display proxy is sRGB-encoded (same
 * primaries, 16-bit); any other description is itself.
 */
export function displayDescription(c: ColourDescription): ColourDescription {
  return c.linear ? { ...c, transfer: 'iec61966-2-1', matrix: 'gbr', range: 'pc', bitDepth: 16, sampleType: 'uint', linear: false } : c;
}
