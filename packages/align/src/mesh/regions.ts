import type { Point } from '../template.js';

/** Indices into MediaPipe's 468-point face mesh (the lists human's facemeshcoords.ts names). */
export const MESH_INDICES = {
  /** The face oval, clockwise from the top of the forehead. */
  oval: [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109],
  rightEye: [33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7],
  leftEye: [263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249],
  innerMouth: [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95],
} as const;

export type MeshRegion = keyof typeof MESH_INDICES;

/** The regions of a mesh as polygons (crop pixels): the face oval, each eye's opening and the inner mouth. */
export function meshRegions(points: Point[]): Record<MeshRegion, Point[]> {
  const pick = (idx: readonly number[]) => idx.map((i) => points[i]);
  return { oval: pick(MESH_INDICES.oval), rightEye: pick(MESH_INDICES.rightEye), leftEye: pick(MESH_INDICES.leftEye), innerMouth: pick(MESH_INDICES.innerMouth) };
}
