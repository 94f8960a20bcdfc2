import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { readImage, writePng } from '@facecomb/image';
import { composite, occluderMatte, occluderTexture, rng, visibleTarget, type OccluderShape } from './synth.js';
import type { Texture } from './shot.js';

/** Intersection over union of two masks thresholded at 0.5 (1 when both are empty). */
export function iou(a: Float32Array, b: Float32Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] >= 0.5;
    const y = b[i] >= 0.5;
    if (x && y) inter++;
    if (x || y) union++;
  }
  return union === 0 ? 1 : inter / union;
}

/** A frame occluded for measurement: its ground-truth visible face and the occluder's matte, at the crop size. */
export interface OccludedFrame {
  frame: number;
  truth: Float32Array;
  matte: Float32Array;
  /** The occluder's colour where the matte is set (RGB, crop size), to paint it into the plate. */
  fill: Float32Array;
}

const pad = (n: number): string => String(n).padStart(6, '0');

/**
 * Copies an align output to `dst` with occluders composited onto the crops of `frames` (seeded by `seed`, fills
 * from `textures`, shapes from `shapes`), and returns each one's ground truth: align's hull mask where the
 * occluder does not cover it.
 */
export async function occludeAlign(src: string, dst: string, frames: number[], textures: Texture[], seed: number, shapes: OccluderShape[] = ['hand', 'bar', 'blob', 'hand']): Promise<OccludedFrame[]> {
  await cp(src, dst, { recursive: true });
  const out: OccludedFrame[] = [];
  for (const [k, frame] of frames.entries()) {
    const r = rng(seed * 7919 + frame);
    const crop = await readImage(join(src, 'crops', `${pad(frame)}.png`), { channels: 3 });
    const hull = await readImage(join(src, 'masks', `${pad(frame)}.png`), { channels: 1 });
    const size = crop.width;
    const matte = occluderMatte(r, size, shapes[k % shapes.length]);
    const fill = occluderTexture(r, textures[Math.floor(r() * textures.length)], size);
    composite(crop.data, fill, matte);
    await writePng(join(dst, 'crops', `${pad(frame)}.png`), crop);
    out.push({ frame, truth: visibleTarget(hull.data, matte), matte, fill });
  }
  return out;
}

/** Reads an 8-bit mask PNG as [0, 1] values. */
export async function readMask(file: string): Promise<Float32Array> {
  return (await readImage(file, { channels: 1 })).data;
}

