// Occluders composited into the plate itself (so align's crops, the occlusion stage and blend all see them),
// with their ground truth known exactly: the matte is drawn in crop space and warped into the plate.
import { cp, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { invertAffine, readImage, warpAffine, writePng, type Affine } from '@facecomb/image';
import { occluderMatte, occluderTexture, rng, visibleTarget, type OccluderShape, type Texture } from '../../packages/occlusion/src/index.ts';

export interface PlateOccluder {
  frame: number;
  shape: OccluderShape;
  /** Ground-truth visible face in crop space: align's hull where the occluder does not cover it. */
  truth: Float32Array;
  /** The occluder's alpha in plate space (plate width x height). */
  plateMatte: Float32Array;
  /** The hull in plate space (where a swap can paint). */
  plateHull: Float32Array;
}

const pad = (n: number): string => String(n).padStart(6, '0');
const SHAPES: OccluderShape[] = ['hand', 'bar', 'hand', 'blob', 'glasses'];

/**
 * Copies the frames and align outputs to `dstFrames` / `dstAlign` with an occluder painted into the plate of each
 * of `frames` and the crop warped again from the painted plate (as align would).
 */
export async function occludePlates(srcFrames: string, srcAlign: string, dstFrames: string, dstAlign: string, frames: number[], textures: Texture[], seed: number): Promise<PlateOccluder[]> {
  await cp(srcFrames, dstFrames, { recursive: true });
  await cp(srcAlign, dstAlign, { recursive: true });
  await mkdir(join(dstAlign, 'crops'), { recursive: true });
  const out: PlateOccluder[] = [];
  for (const [k, frame] of frames.entries()) {
    const rec = JSON.parse(await readFile(join(srcAlign, 'faces', `${pad(frame)}.json`), 'utf8')) as { face: { matrix: Affine } };
    const m = rec.face.matrix;
    const [plate, hull] = await Promise.all([readImage(join(srcFrames, 'frames', `${pad(frame)}.png`), { channels: 3 }), readImage(join(srcAlign, 'masks', `${pad(frame)}.png`), { channels: 1 })]);
    const size = hull.width;
    const r = rng(seed * 7919 + frame);
    const shape = SHAPES[k % SHAPES.length];
    const matte = occluderMatte(r, size, shape);
    const fill = occluderTexture(r, textures[Math.floor(r() * textures.length)], size);
    const inv = invertAffine(m);
    const pm = warpAffine({ width: size, height: size, channels: 1, data: matte }, inv, plate.width, plate.height).data;
    const pf = warpAffine({ width: size, height: size, channels: 3, data: fill }, inv, plate.width, plate.height, { replicate: true }).data;
    for (let i = 0; i < pm.length; i++) for (let c = 0; c < 3; c++) plate.data[i * 3 + c] = plate.data[i * 3 + c] * (1 - pm[i]) + pf[i * 3 + c] * pm[i];
    await writePng(join(dstFrames, 'frames', `${pad(frame)}.png`), plate);
    await writePng(join(dstAlign, 'crops', `${pad(frame)}.png`), warpAffine(plate, m, size, size, { replicate: true }));
    const plateHull = warpAffine(hull, inv, plate.width, plate.height).data;
    out.push({ frame, shape, truth: visibleTarget(hull.data, matte), plateMatte: pm, plateHull });
  }
  return out;
}
