import type { Affine, Image } from '@facecomb/image';
import type { Runtime } from '../tf.js';
import type { Box } from '../landmarks.js';
import type { AlignParams } from '../params.js';
import type { Point } from '../template.js';
import { transformPoints } from '../umeyama.js';
import { faceMesh } from './facemesh.js';
import { detectHandsNear } from './hands.js';
import { visibleFaceMask, type VisibleMask } from './mask.js';
import type { MeshRegion } from './regions.js';

export interface VisibleFace extends VisibleMask {
  /** The face mesh's face flag (null where the mesh was not run). */
  meshScore: number | null;
  /** The hands subtracted, their 21 keypoints in crop pixels. */
  hands: Point[][];
}

/**
 * One frame's visible face in crop space, by align's `mask` param: the face mesh read on the aligned crop
 * (source mesh) and the hands found around the face box in the plate (hands), mapped into the crop by `matrix`.
 */
export async function visibleFace(rt: Runtime, plate: Image, crop: Image, box: Box, matrix: Affine, landmarks: Point[], params: AlignParams): Promise<VisibleFace> {
  const mesh = params.mask.source === 'mesh' ? await faceMesh(rt, crop, landmarks) : null;
  const hands = params.mask.hands ? (await detectHandsNear(rt, plate, box)).map((h) => transformPoints(matrix, h.points)) : [];
  return { ...visibleFaceMask(landmarks, mesh, hands, crop.width, params.faceType, params.mask), meshScore: mesh ? mesh.score : null, hands };
}

const r2 = (p: Point[]): Point[] => p.map(([x, y]) => [Math.round(x * 100) / 100, Math.round(y * 100) / 100]);

/** mesh/NNNNNN.json: where the frame's mask came from, the mesh's regions and the hands (crop pixels; docs/ARTIFACTS.md). */
export function meshRecord(frame: number, v: VisibleFace): { frame: number; source: 'mesh' | 'hull'; meshScore: number | null; regions: Record<MeshRegion, Point[]> | null; hands: Point[][] } {
  const regions = v.regions ? (Object.fromEntries(Object.entries(v.regions).map(([k, p]) => [k, r2(p)])) as Record<MeshRegion, Point[]>) : null;
  return { frame, source: v.source, meshScore: v.meshScore === null ? null : Math.round(v.meshScore * 1e4) / 1e4, regions, hands: v.hands.map(r2) };
}
