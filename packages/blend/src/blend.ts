import type { Affine, Image } from '@facecomb/image';
import { alphaBlend } from './alpha.js';
import { smoothChroma } from './chroma.js';
import { colourTransfer, type ColourMode } from './colour.js';
import { detailSigma } from './detail.js';
import { cutoffSigma } from './light.js';
import { maskBounds, prepareMask } from './mask.js';
import { multibandInto } from './multiband.js';
import { poissonBlend } from './poisson.js';
import { BufferPool } from './pool.js';
import { pyramidSpread } from './pyramid.js';
import { extractRoi, pasteRoi, unwarp, type Roi } from './unwarp.js';

export type BlendMode = 'multiband' | 'poisson' | 'alpha';
export const BLEND_MODES: BlendMode[] = ['multiband', 'poisson', 'alpha'];

export interface BlendOptions {
  /** multiband (default), poisson or alpha. */
  mode?: BlendMode;
  /**
   * Multiband pyramid depth, or 'auto' (default). With `plateCutoff` (the default) the pyramid makes the seam
   * only: auto is `SEAM_LEVELS`. With `plateLevels` (the old blend) auto makes the coarsest level 4-8 px of face.
   */
  levels?: number | 'auto';
  /**
   * Multiband: the plate gives the face its frequencies below this many cycles per face width (light,
   * shading, skin tone), the swap everything above (its features). Default `DEFAULT_PLATE_CUTOFF`; 0: the
   * plate gives nothing inside the mask. The face width is the face size in plate px (see `faceWidth`).
   */
  plateCutoff?: number;
  /**
   * The old multiband: the coarsest pyramid levels come from the plate, through the pyramid's blurred
   * masks. Kept for old pipelines; it hands the plate's features back (see the README). Not with `plateCutoff`.
   */
  plateLevels?: number;
  /** Contrast correction of the face's detail to the plate's (multiband, default true). */
  contrast?: boolean;
  /**
   * Chroma smoothing of the swap crop before blending: Gaussian sigma in crop px on its colour (luma kept);
   * takes out the decoder's finest colour noise, which shows as coloured rings around the eyes. Default
   * `DEFAULT_CHROMA`; 0: off.
   */
  chroma?: number;
  /**
   * Multiband with `plateCutoff`: where the crop is coarser than the plate, the plate's frequencies above this
   * multiple of the crop's Nyquist frequency are added to the face (the target's pores, lashes, hair: a sharp
   * plate instead of an upscaled crop). Default `DEFAULT_PLATE_DETAIL`; 0: off.
   */
  plateDetail?: number;
  /** Colour transfer before blending: none (default), lab or histogram. */
  colour?: ColourMode;
  /** Width of the mask's soft edge: >= 1 plate px, < 1 a fraction of the face size (default 0.04). */
  feather?: number;
  /** Shrink the mask first: >= 1 plate px, < 1 a fraction of the face size (default 0). */
  erode?: number;
  /** Poisson solver tolerance (relative residual, default 1e-6). */
  tolerance?: number;
  /** Write into `plate` instead of a copy of it (saves a whole-plate copy per frame). */
  inPlace?: boolean;
  /** Scratch buffers to reuse across frames. The result's `face` and `mask` are then views of its buffers, valid until the next blend with it. */
  pool?: BufferPool;
}

export interface BlendResult {
  /** The plate with the face blended in (a copy unless `inPlace`). */
  image: Image;
  /** The plate rectangle that was worked on; null when the mask was empty (plate returned unchanged). */
  roi: Roi | null;
  /** The prepared (eroded, feathered) mask warped into the ROI. */
  mask: Image | null;
  /** The face colours warped into the ROI, after colour transfer. */
  face: Image | null;
  /** Pyramid depth used (multiband). */
  levels?: number;
  /** Contrast gain applied (multiband). */
  gain?: number;
  /** Conjugate-gradient iterations per channel (poisson). */
  iterations?: number[];
}

/** Plate share of the multiband blend in cycles per face width, chosen on real footage (bench/blend/RESULTS.md). */
export const DEFAULT_PLATE_CUTOFF = 2;

/** Chroma smoothing of the swap crop in crop px, chosen on the demo's eyes and real footage (bench/blend/RESULTS.md). */
export const DEFAULT_CHROMA = 1;

/** Plate detail above this multiple of the crop's Nyquist frequency (0: off), chosen in bench/blend/RESULTS.md. */
export const DEFAULT_PLATE_DETAIL = 2;

/** Crop pixels per plate pixel of a plate -> crop matrix. */
export function matrixScale(m: Affine): number {
  return Math.sqrt(Math.abs(m[0] * m[4] - m[1] * m[3]));
}

/**
 * The seam pyramid's depth with `plateCutoff` and `levels: auto`. Once the light is matched, the feathered
 * mask makes the transition: on real footage (bench/blend/RESULTS.md) a deeper seam pyramid raised the seam
 * ratio (1.08 at depth 1, 1.11-1.12 at 2-4, one pair of people; 1.23 against 1.25-1.34, another) and moved
 * the delivered face away from the source.
 */
export const SEAM_LEVELS = 1;

/** Auto pyramid depth of the old multiband (`plateLevels`) for a face `size` plate px across: the residual level is 4-8 px. */
export function autoLevels(size: number, plateLevels: number): number {
  const l = Math.floor(Math.log2(Math.max(1, size) / 4));
  return Math.min(12, Math.max(plateLevels + 1, l));
}

/**
 * Blends a swapped crop back into its plate: warps crop and mask with the inverse of `matrix` (the align
 * stage's plate -> crop matrix) into the plate rectangle the mask covers (plus the pyramid's margin),
 * blends there and pastes that rectangle back. Nothing outside the rectangle is touched.
 */
export function blendFace(plate: Image, crop: Image, mask: Image, matrix: Affine, opts: BlendOptions = {}): BlendResult {
  const mode = opts.mode ?? 'multiband';
  if (!BLEND_MODES.includes(mode)) throw new Error(`unknown blend mode '${mode}' (use ${BLEND_MODES.join(', ')})`);
  if (opts.plateCutoff !== undefined && opts.plateLevels !== undefined) {
    throw new Error('give plateCutoff or plateLevels, not both (plateLevels is the old blend: use plateCutoff)');
  }
  const cutoff = opts.plateCutoff ?? DEFAULT_PLATE_CUTOFF;
  if (!(cutoff >= 0) || !Number.isFinite(cutoff)) throw new Error(`plateCutoff must be a number >= 0 (cycles per face width), got ${opts.plateCutoff}`);
  if (crop.channels !== plate.channels) throw new Error(`the crop has ${crop.channels} channels but the plate ${plate.channels}`);
  const chroma = opts.chroma ?? DEFAULT_CHROMA;
  if (!(chroma >= 0) || !Number.isFinite(chroma)) throw new Error(`chroma must be a number >= 0 (crop px), got ${opts.chroma}`);
  const pool = opts.pool ?? new BufferPool();
  const unchanged = (): BlendResult => ({ image: opts.inPlace ? plate : { ...plate, data: new Float32Array(plate.data) }, roi: null, mask: null, face: null });
  const box = maskBounds(mask);
  if (!box) return unchanged();
  const scale = matrixScale(matrix);
  const faceCrop = Math.sqrt((box[2] - box[0] + 1) * (box[3] - box[1] + 1));
  const toCrop = (v: number): number => (v >= 1 ? v * scale : v * faceCrop);
  const erodeC = toCrop(opts.erode ?? 0), featherC = toCrop(opts.feather ?? 0.04);
  // a soft edge 8+ crop px wide is as well made at half resolution, in a quarter of the time
  const halfRes = featherC >= 8 && mask.width >= 64 && mask.height >= 64;
  const prepared = halfRes
    ? prepareAround(halve(mask, box, pool), [box[0] >> 1, box[1] >> 1, box[2] >> 1, box[3] >> 1], erodeC / 2, featherC / 2, pool)
    : prepareAround(mask, box, erodeC, featherC, pool);
  let pbox = maskBounds(prepared);
  if (!pbox) return unchanged();
  if (halfRes) pbox = [2 * pbox[0], 2 * pbox[1], Math.min(mask.width - 1, 2 * pbox[2] + 1), Math.min(mask.height - 1, 2 * pbox[3] + 1)];

  const legacy = opts.plateLevels !== undefined;
  const plateLevels = opts.plateLevels ?? 0;
  const auto = opts.levels === undefined || opts.levels === 'auto';
  let levels = 0;
  let margin = 2;
  if (mode === 'multiband') {
    const faceSize = Math.min(pbox[2] - pbox[0] + 1, pbox[3] - pbox[1] + 1) / scale;
    if (legacy) levels = auto ? autoLevels(faceSize, plateLevels) : (opts.levels as number);
    else levels = auto ? SEAM_LEVELS : (opts.levels as number);
    // the old blend leaves its residual level to the plate; the new one blends all of them
    margin = pyramidSpread(legacy ? levels - plateLevels : levels + 1);
  }
  const u = unwarp(chroma > 0 ? smoothChroma(crop, chroma) : crop, prepared, matrix, plate.width, plate.height, margin, pbox, pool);
  if (!u) return unchanged();
  const result: BlendResult = { image: plate, roi: u.roi, mask: u.mask, face: u.face };
  const colour = opts.colour ?? 'none';
  const c = plate.channels;
  if (mode === 'multiband') {
    // straight from the plate's rows into the target's: no copy of the region in or out
    if (colour !== 'none') colourTransfer(u.face, extractRoi(plate, u.roi, pool.f('blend.plate', u.roi.width * u.roi.height * c)), u.mask, colour);
    const target = opts.inPlace ? plate : { ...plate, data: new Float32Array(plate.data) };
    const window = (data: Float32Array) => ({ data, offset: (u.roi.y * plate.width + u.roi.x) * c, stride: plate.width * c });
    // the light transfer's low-pass: `cutoff` cycles per face width, the face width in plate px
    const light = legacy ? undefined : cutoff > 0 ? cutoffSigma(cutoff, faceCrop / scale) : 0;
    const detail = opts.plateDetail ?? DEFAULT_PLATE_DETAIL;
    if (!(detail >= 0) || !Number.isFinite(detail)) throw new Error(`plateDetail must be a number >= 0 (multiple of the crop's Nyquist frequency), got ${opts.plateDetail}`);
    // only where the crop is coarser than the plate: above its Nyquist frequency it has nothing of its own
    const plateDetail = !legacy && detail > 0 && scale < 1 ? detailSigma(scale, detail) : 0;
    result.gain = multibandInto(window(plate.data), u.face, u.mask, { levels, plateLevels, contrast: opts.contrast ?? true, light, plateDetail, pool }, window(target.data));
    result.levels = levels;
    result.image = target;
    return result;
  }
  const P = extractRoi(plate, u.roi, pool.f('blend.plate', u.roi.width * u.roi.height * c));
  colourTransfer(u.face, P, u.mask, colour);
  let blended: Image;
  if (mode === 'poisson') {
    const r = poissonBlend(P, u.face, u.mask, { tolerance: opts.tolerance, pool });
    blended = r.image;
    result.iterations = r.iterations;
  } else {
    blended = alphaBlend(P, u.face, u.mask, true);
  }
  const target = opts.inPlace ? plate : { ...plate, data: new Float32Array(plate.data) };
  pasteRoi(target, u.roi, blended);
  result.image = target;
  return result;
}

/**
 * `prepareMask` worked only on the mask's bounding box `box` grown by the reach of the erosion and the blur:
 * outside it the mask is 0 before and after, so the result is the same as on the whole mask, for the
 * fraction of the work. Returns a whole-mask-sized, 1-channel mask.
 */
function prepareAround(mask: Image, box: [number, number, number, number], erode: number, feather: number, pool: BufferPool): Image {
  const { width: w, height: h, channels: c, data } = mask;
  const e = Math.max(0, Math.round(erode));
  const r = feather >= 1 ? Math.max(1, Math.round(feather / 6)) : 0;
  const pad = e + 6 * r + 2;
  const x0 = Math.max(0, box[0] - pad), y0 = Math.max(0, box[1] - pad);
  const x1 = Math.min(w - 1, box[2] + pad), y1 = Math.min(h - 1, box[3] + pad);
  const sw = x1 - x0 + 1, sh = y1 - y0 + 1;
  if (sw * sh > 0.8 * w * h) return prepareMask(mask, erode, feather);
  const sub = new Float32Array(sw * sh);
  copyWindow(data, w, c, x0, y0, sw, sh, sub);
  const prepared = prepareMask({ width: sw, height: sh, channels: 1, data: sub }, erode, feather);
  const out = pool.f('blend.mask', w * h, true);
  for (let y = 0; y < sh; y++) out.set(prepared.data.subarray(y * sw, (y + 1) * sw), (y + y0) * w + x0);
  return { width: w, height: h, channels: 1, data: out };
}

/** The first channel of the sw x sh window at (x0, y0) of a w-wide, c-channel plane into dst. */
function copyWindow(data: Float32Array, w: number, c: number, x0: number, y0: number, sw: number, sh: number, dst: Float32Array): void {
  for (let y = 0; y < sh; y++) for (let x = 0; x < sw; x++) dst[y * sw + x] = data[((y + y0) * w + x + x0) * c];
}

/**
 * 2x2 average of a mask's first channel: w x h -> ceil(w/2) x ceil(h/2), 1 channel, made only over the
 * mask's bounding box `box` (full-resolution pixels); the rest is 0 (pixels outside the box are <= 0, which
 * every later step treats as 0).
 */
function halve(mask: Image, box: [number, number, number, number], pool: BufferPool): Image {
  const { width: w, height: h, channels: c, data } = mask;
  const w2 = (w + 1) >> 1, h2 = (h + 1) >> 1;
  const out = pool.f('blend.half', w2 * h2, true);
  for (let y = box[1] >> 1; y <= box[3] >> 1; y++) {
    halveRow(data, w, c, 2 * y * w, Math.min(h - 1, 2 * y + 1) * w, box[0] >> 1, box[2] >> 1, out, y * w2);
  }
  return { width: w2, height: h2, channels: 1, data: out };
}

function halveRow(data: Float32Array, w: number, c: number, y0: number, y1: number, xs: number, xe: number, out: Float32Array, o: number): void {
  for (let x = xs; x <= xe; x++) {
    const x0 = 2 * x, x1 = Math.min(w - 1, 2 * x + 1);
    out[o + x] = 0.25 * (data[(y0 + x0) * c] + data[(y0 + x1) * c] + data[(y1 + x0) * c] + data[(y1 + x1) * c]);
  }
}
