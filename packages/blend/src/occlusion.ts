import { existsSync } from 'node:fs';
import { invertAffine, readImage, resize, warpAffine, type Affine, type Image } from '@facecomb/image';

/**
 * An occlusion stage's visible-face mask applied to a frame. Where the face mask is set, the share of it the
 * occlusion mask leaves out is the chance something covers the face there: the face mask is lowered by it, and
 * the covered part (crop space; the occluder wins a tie: twice that chance, at most 1) is returned, so the plate's
 * occluder can be put back on top after blending (the blend's low frequencies and feathering reach past the mask).
 */
export async function occlude(mask: Image, file: string, n: number): Promise<Image> {
  if (!existsSync(file)) throw new Error(`swap has a face for frame ${n} but the occlusion stage has no mask ${file}: rerun occlusion on the same align stage`);
  const m = await readImage(file, { channels: 1 });
  const v = m.width === mask.width && m.height === mask.height ? m : resize(m, mask.width, mask.height);
  const covered = new Float32Array(mask.data.length);
  for (let i = 0; i < mask.data.length; i++) {
    const f = mask.data[i];
    if (f <= 1 / 255) continue;
    const hidden = Math.min(1, Math.max(0, 1 - v.data[i] / f));
    covered[i] = Math.min(1, 2 * hidden);
    mask.data[i] = f * (1 - hidden);
  }
  return { width: mask.width, height: mask.height, channels: 1, data: covered };
}

/** The plate pixels under an occluder (covered > 0 once warped into the plate), kept before blending. */
export interface KeptPlate {
  index: Int32Array;
  alpha: Float32Array;
  values: Float32Array;
}

export function keepCovered(plate: Image, covered: Image, matrix: Affine): KeptPlate {
  const c = warpAffine(covered, invertAffine(matrix), plate.width, plate.height).data;
  const index: number[] = [];
  for (let i = 0; i < c.length; i++) if (c[i] > 1 / 512) index.push(i);
  const ch = plate.channels;
  const values = new Float32Array(index.length * ch);
  index.forEach((p, k) => values.set(plate.data.subarray(p * ch, p * ch + ch), k * ch));
  return { index: Int32Array.from(index), alpha: Float32Array.from(index, (p) => Math.min(1, c[p])), values };
}

/** Composites the kept plate pixels back over the blended image through their alpha; lowers the matte to match. */
export function restoreCovered(image: Image, kept: KeptPlate, matte: Uint16Array): void {
  const ch = image.channels;
  kept.index.forEach((p, k) => {
    const a = kept.alpha[k];
    for (let c = 0; c < ch; c++) image.data[p * ch + c] = image.data[p * ch + c] * (1 - a) + kept.values[k * ch + c] * a;
    matte[p] = Math.round(matte[p] * (1 - a));
  });
}
