import type { Affine, Image } from '@facecomb/image';
import { alphaBlend } from './alpha.js';
import { colourTransfer, type ColourMode } from './colour.js';
import { maskBounds, prepareMask } from './mask.js';
import { multiband } from './multiband.js';
import { poissonBlend } from './poisson.js';
import { BufferPool } from './pool.js';
import { pyramidSpread } from './pyramid.js';
import { extractRoi, pasteRoi, unwarp, type Roi } from './unwarp.js';

export type BlendMode = 'multiband' | 'poisson' | 'alpha';
export const BLEND_MODES: BlendMode[] = ['multiband', 'poisson', 'alpha'];

export interface BlendOptions {
  /** multiband (default), poisson or alpha. */
  mode?: BlendMode;
  /** Pyramid depth for multiband, or 'auto' (default): the coarsest level is 4-8 px of face. */
  levels?: number | 'auto';
  /** Coarsest pyramid levels taken from the plate (default 2). */
  plateLevels?: number;
  /** Contrast correction of the face's detail to the plate's (multiband, default true). */
  contrast?: boolean;
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

/** Crop pixels per plate pixel of a plate -> crop matrix. */
export function matrixScale(m: Affine): number {
  return Math.sqrt(Math.abs(m[0] * m[4] - m[1] * m[3]));
}

/** Auto pyramid depth for a face `size` plate px across: the residual level is 4-8 px. */
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
  if (crop.channels !== plate.channels) throw new Error(`the crop has ${crop.channels} channels but the plate ${plate.channels}`);
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
  const prepared = halfRes ? prepareMask(halve(mask), erodeC / 2, featherC / 2) : prepareMask(mask, erodeC, featherC);
  let pbox = maskBounds(prepared);
  if (!pbox) return unchanged();
  if (halfRes) pbox = [2 * pbox[0], 2 * pbox[1], Math.min(mask.width - 1, 2 * pbox[2] + 1), Math.min(mask.height - 1, 2 * pbox[3] + 1)];

  const plateLevels = opts.plateLevels ?? 2;
  let levels = 0;
  let margin = 2;
  if (mode === 'multiband') {
    const faceSize = Math.min(pbox[2] - pbox[0] + 1, pbox[3] - pbox[1] + 1) / scale;
    levels = opts.levels === undefined || opts.levels === 'auto' ? autoLevels(faceSize, plateLevels) : opts.levels;
    margin = pyramidSpread(levels - plateLevels);
  }
  const u = unwarp(crop, prepared, matrix, plate.width, plate.height, margin, pbox, pool);
  if (!u) return unchanged();
  const P = extractRoi(plate, u.roi, pool.f('blend.plate', u.roi.width * u.roi.height * plate.channels));
  colourTransfer(u.face, P, u.mask, opts.colour ?? 'none');

  const result: BlendResult = { image: plate, roi: u.roi, mask: u.mask, face: u.face };
  let blended: Image;
  if (mode === 'multiband') {
    const r = multiband(P, u.face, u.mask, { levels, plateLevels, contrast: opts.contrast ?? true, pool, inPlace: true });
    blended = r.image;
    result.levels = levels;
    result.gain = r.gain;
  } else if (mode === 'poisson') {
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

/** 2x2 average of a mask's first channel: w x h -> ceil(w/2) x ceil(h/2), 1 channel. */
function halve(mask: Image): Image {
  const { width: w, height: h, channels: c, data } = mask;
  const w2 = (w + 1) >> 1, h2 = (h + 1) >> 1;
  const out = new Float32Array(w2 * h2);
  for (let y = 0; y < h2; y++) {
    const y0 = 2 * y * w, y1 = Math.min(h - 1, 2 * y + 1) * w;
    for (let x = 0; x < w2; x++) {
      const x0 = 2 * x, x1 = Math.min(w - 1, 2 * x + 1);
      out[y * w2 + x] = 0.25 * (data[(y0 + x0) * c] + data[(y0 + x1) * c] + data[(y1 + x0) * c] + data[(y1 + x1) * c]);
    }
  }
  return { width: w2, height: h2, channels: 1, data: out };
}
