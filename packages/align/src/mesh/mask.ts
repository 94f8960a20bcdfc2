import type { Image } from '@facecomb/image';
import { convexHull, hullMask, maskPolygon, type MaskParams } from '../mask.js';
import type { FaceType, Point } from '../template.js';
import { meshRegions, type MeshRegion } from './regions.js';

/** How far a hand's hull is grown past its keypoints (fingers are wider than their joints), as a fraction of the crop. */
export const HAND_GROW = 0.04;
/** Smallest face-mesh flag taken as a face; below it the frame falls back to the landmark hull. */
export const MIN_MESH_SCORE = 0.5;

export interface VisibleMask {
  mask: Image;
  /** What the face's outline came from: the mesh, or the landmark hull where no mesh was found. */
  source: 'mesh' | 'hull';
  /** The mesh's regions in crop pixels (null on a hull fallback). */
  regions: Record<MeshRegion, Point[]> | null;
}

/**
 * The visible face in crop space: the face mesh's oval (the 68-landmark hull where no mesh was found), minus
 * each hand's keypoint hull grown by HAND_GROW (and feathered outside that), the face with the mask's erode and feather.
 */
export function visibleFaceMask(landmarks: Point[], mesh: { points: Point[]; score: number } | null, hands: Point[][], size: number, faceType: FaceType, params: MaskParams): VisibleMask {
  const found = mesh !== null && mesh.score >= MIN_MESH_SCORE;
  const regions = found ? meshRegions(mesh.points) : null;
  const mask = hullMask(regions ? regions.oval : maskPolygon(landmarks, faceType), size, params);
  for (const hand of hands) {
    // covered (1) out to HAND_GROW past the keypoints' hull, back to the face over the mask's feather beyond
    const covered = hullMask(convexHull(hand), size, { erode: -(HAND_GROW + params.feather), feather: params.feather });
    for (let i = 0; i < mask.data.length; i++) mask.data[i] *= 1 - covered.data[i];
  }
  return { mask, source: found ? 'mesh' : 'hull', regions };
}
