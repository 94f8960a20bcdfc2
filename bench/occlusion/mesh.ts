// Visible-face masks from align's own mesh path (`mask: {source: mesh, hands}`): MediaPipe's face mesh and
// hand models as @vladmandic/human ships them, run through @facecomb/align's faceMesh / detectHandsNear on the
// occluded frames' own crops (the crop space the ground truth is in), for bench/occlusion/run.ts --mesh.
import { cp, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readImage, writePng, type Affine } from '@facecomb/image';
import { initRuntime, parseAlignParams, visibleFace, transformPoints, type Point } from '../../packages/align/src/index.ts';

export interface MeshMaskRun {
  /** An align folder like `align` with the masks of the occluded frames replaced. */
  dir: string;
  /** Frames whose mask fell back to the landmark hull (no mesh found) and hands subtracted. */
  fallbacks: number;
  hands: number;
}

const pad = (n: number): string => String(n).padStart(6, '0');

/** Copies `align` to `out` and rewrites the masks of `frames` with align's `mask` param `mask` (plates from `plates`). */
export async function meshMasks(plates: string, align: string, out: string, frames: number[], mask: Record<string, unknown>): Promise<MeshMaskRun> {
  const rt = await initRuntime('wasm');
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  await cp(align, out, { recursive: true });
  const meta = JSON.parse(await readFile(join(align, 'meta.json'), 'utf8')) as { size: number; faceType: string };
  const params = parseAlignParams({ size: meta.size, faceType: meta.faceType, mask });
  let fallbacks = 0, hands = 0;
  for (const f of frames) {
    const rec = JSON.parse(await readFile(join(align, 'faces', `${pad(f)}.json`), 'utf8')) as { face: { box: [number, number, number, number]; landmarks: Point[]; matrix: Affine } };
    const [plate, crop] = await Promise.all([readImage(join(plates, 'frames', `${pad(f)}.png`), { channels: 3 }), readImage(join(align, 'crops', `${pad(f)}.png`), { channels: 3 })]);
    const v = await visibleFace(rt, plate, crop, rec.face.box, rec.face.matrix, transformPoints(rec.face.matrix, rec.face.landmarks), params);
    if (params.mask.source === 'mesh' && v.source === 'hull') fallbacks++;
    hands += v.hands.length;
    await writePng(join(out, 'masks', `${pad(f)}.png`), v.mask);
  }
  return { dir: out, fallbacks, hands };
}
