import { warpAffine, type Affine, type Image } from '@facecomb/image';
import { edgeBand, gradient, regionMean } from './metrics.js';

/** The blend and the plate around the face, with the face mask, in one square frame of reference. */
export interface SeamView {
  blend: Image;
  plate: Image;
  mask: Image;
  /** 'plate': at the plate's own resolution (the plate frame was given); 'crop': in the align crop. */
  at: 'plate' | 'crop';
}

/**
 * Warps the blended frame (and the plate frame, when given) by the align matrix. With the plate frame the
 * view is the crop scaled up to the plate's own pixel size (at most 1024 px), so a step the blend leaves is
 * measured as sharp as it is seen; without it, in the crop (a 64 px crop of a 200 px face smooths it 3x).
 */
export function seamView(blendFrame: Image, plateFrame: Image | null, plateCrop: Image, mask: Image, matrix: Affine): SeamView {
  const size = plateCrop.width;
  const opts = { replicate: true };
  if (!plateFrame) return { blend: warpAffine(blendFrame, matrix, size, size, opts), plate: plateCrop, mask, at: 'crop' };
  const perPlatePx = Math.hypot(matrix[0], matrix[3]);
  const f = Math.min(1024 / size, Math.max(1, 1 / perPlatePx));
  const n = Math.round(size * f);
  const m = matrix.map((v) => v * f) as Affine;
  return {
    blend: warpAffine(blendFrame, m, n, n, opts),
    plate: warpAffine(plateFrame, m, n, n, opts),
    mask: warpAffine(mask, [f, 0, 0, 0, f, 0], n, n, opts),
    at: 'plate',
  };
}

/**
 * The gradient the blend adds at the mask border (a step, a colour mismatch), in 8-bit levels per pixel
 * of the view, over a band of ±1.5 % of its side around the mask's 0.5 contour; and the plate's own
 * gradient there. Gradient the blend lost (a blurry face) does not count: that is the detail figures' business.
 */
export function seamFigures(v: SeamView): { seam: number; seamPlate: number } {
  const band = edgeBand(v.mask, Math.max(1, Math.round(v.mask.width * 0.005)));
  const gb = gradient(v.blend), gp = gradient(v.plate);
  for (let p = 0; p < gb.length; p++) gb[p] = Math.max(0, gb[p] - gp[p]);
  return { seam: regionMean(gb, band) * 255, seamPlate: regionMean(gp, band) * 255 };
}
