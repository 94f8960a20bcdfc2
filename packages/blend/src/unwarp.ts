import { applyAffine, composeAffine, invertAffine, warpAffine, type Affine, type Image } from '@facecomb/image';
import { maskBounds } from './mask.js';

/** A rectangle of the plate: x, y (top-left) and its size. */
export interface Roi {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The plate rectangle that the crop-space box [x0, y0, x1, y1] covers once warped back with the inverse
 * of `matrix` (plate -> crop), grown by `margin` px and clipped to the plate. Null when it misses the plate.
 */
export function plateRoi(box: [number, number, number, number], matrix: Affine, plateW: number, plateH: number, margin: number): Roi | null {
  const inv = invertAffine(matrix);
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  // one crop pixel of slack: bilinear sampling reaches the neighbour
  for (const [cx, cy] of [[box[0] - 1, box[1] - 1], [box[2] + 1, box[1] - 1], [box[0] - 1, box[3] + 1], [box[2] + 1, box[3] + 1]]) {
    const [px, py] = applyAffine(inv, cx, cy);
    minX = Math.min(minX, px); maxX = Math.max(maxX, px);
    minY = Math.min(minY, py); maxY = Math.max(maxY, py);
  }
  const x0 = Math.max(0, Math.floor(minX) - margin), y0 = Math.max(0, Math.floor(minY) - margin);
  const x1 = Math.min(plateW - 1, Math.ceil(maxX) + margin), y1 = Math.min(plateH - 1, Math.ceil(maxY) + margin);
  if (x1 < x0 || y1 < y0) return null;
  return { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/** Crop -> ROI pixel matrix for warpAffine: the inverse of `matrix`, then the shift to the ROI's origin. */
export function cropToRoi(matrix: Affine, roi: Roi): Affine {
  return composeAffine([1, 0, -roi.x, 0, 1, -roi.y], invertAffine(matrix));
}

export interface Unwarped {
  roi: Roi;
  /** The crop's colours in ROI pixels (edge-replicated beyond the crop). */
  face: Image;
  /** The mask in ROI pixels (0 beyond the crop). */
  mask: Image;
}

/**
 * Warps a crop (taken from the plate by `warpAffine(plate, matrix, size, size)`) and its mask back into
 * the plate, inside the bounding box of the mask grown by `margin`. Bilinear, no half-pixel shift: plate
 * pixel (x, y) samples the crop at matrix · (x, y). Returns null when the mask is empty or off the plate.
 */
export function unwarp(crop: Image, mask: Image, matrix: Affine, plateW: number, plateH: number, margin: number): Unwarped | null {
  if (crop.width !== mask.width || crop.height !== mask.height) {
    throw new Error(`crop is ${crop.width}x${crop.height} but its mask is ${mask.width}x${mask.height}: they must have the align crop size`);
  }
  const box = maskBounds(mask);
  if (!box) return null;
  const roi = plateRoi(box, matrix, plateW, plateH, margin);
  if (!roi) return null;
  const m = cropToRoi(matrix, roi);
  const face = warpAffine(crop, m, roi.width, roi.height, { replicate: true });
  const warpedMask = warpAffine(mask, m, roi.width, roi.height, { border: 0 });
  return { roi, face, mask: warpedMask };
}

/** The ROI of the plate as its own image (a copy). */
export function extractRoi(plate: Image, roi: Roi, out?: Float32Array): Image {
  const c = plate.channels;
  const data = out ?? new Float32Array(roi.width * roi.height * c);
  for (let y = 0; y < roi.height; y++) {
    const s = ((roi.y + y) * plate.width + roi.x) * c;
    data.set(plate.data.subarray(s, s + roi.width * c), y * roi.width * c);
  }
  return { width: roi.width, height: roi.height, channels: c, data };
}

/** Writes an ROI image into (a copy of) the plate in place. */
export function pasteRoi(plate: Image, roi: Roi, src: Image): void {
  const c = plate.channels;
  for (let y = 0; y < roi.height; y++) {
    const d = ((roi.y + y) * plate.width + roi.x) * c;
    plate.data.set(src.data.subarray(y * roi.width * c, (y + 1) * roi.width * c), d);
  }
}
