import type { Image } from '@facecomb/image';
import { eyeCentres, interOcular, type FaceType, type Point } from './template.js';

export interface MaskParams {
  /** Shrink the hull by this fraction of the crop size (negative grows it). */
  erode: number;
  /** Width of the soft edge, as a fraction of the crop size. */
  feather: number;
}
export const DEFAULT_MASK: MaskParams = { erode: 0.01, feather: 0.04 };

/** Align's `mask` param: the edge, and what outlines the face (see mesh/mask.ts). */
export interface FaceMaskParams extends MaskParams {
  /** `hull`: the 68 landmarks' hull; `mesh`: MediaPipe's face mesh oval (the hull where no mesh is found). */
  source: 'hull' | 'mesh';
  /** Subtract the hands found around the face (their keypoints' hull, grown). */
  hands: boolean;
}
export const DEFAULT_FACE_MASK: FaceMaskParams = { ...DEFAULT_MASK, source: 'hull', hands: false };

/** Convex hull (Andrew's monotone chain), counter-clockwise in a y-down frame seen as maths axes. */
export function convexHull(points: Point[]): Point[] {
  const p = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (p.length < 3) return p;
  const cross = (o: Point, a: Point, b: Point) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Point[] = [];
  for (const q of p) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], q) <= 0) lower.pop();
    lower.push(q);
  }
  const upper: Point[] = [];
  for (let i = p.length - 1; i >= 0; i--) {
    const q = p[i];
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], q) <= 0) upper.pop();
    upper.push(q);
  }
  upper.pop();
  lower.pop();
  return lower.concat(upper);
}

/**
 * The points whose hull is the mask: the 68 landmarks, and for wholeface/head the brows raised towards
 * the hairline (perpendicular to the eye line, by 0.6 / 1.1 inter-ocular distances at the brow centre,
 * less towards the temples), since no landmark marks the forehead.
 */
export function maskPolygon(landmarks: Point[], faceType: FaceType): Point[] {
  const pts = [...landmarks];
  if (faceType !== 'face') {
    const [l, r] = eyeCentres(landmarks);
    const iod = interOcular(landmarks);
    // "up": perpendicular to the eye line, pointing away from the mouth
    let ux = r[1] - l[1], uy = -(r[0] - l[0]);
    const n = Math.hypot(ux, uy) || 1;
    ux /= n; uy /= n;
    const mouth = landmarks[51];
    const mid: Point = [(l[0] + r[0]) / 2, (l[1] + r[1]) / 2];
    if ((mouth[0] - mid[0]) * ux + (mouth[1] - mid[1]) * uy > 0) { ux = -ux; uy = -uy; }
    const lift = faceType === 'head' ? 1.1 : 0.6;
    for (let i = 17; i <= 26; i++) {
      const t = (i - 21.5) / 4.5; // -1 .. 1 across the brows
      const k = lift * (1 - 0.45 * t * t) * iod;
      pts.push([landmarks[i][0] + ux * k, landmarks[i][1] + uy * k]);
    }
    if (faceType === 'head') {
      // widen at the temples and jaw corners for the hair and ears
      const cx = (landmarks[0][0] + landmarks[16][0]) / 2, cy = (landmarks[0][1] + landmarks[16][1]) / 2;
      for (const i of [0, 1, 2, 14, 15, 16]) pts.push([cx + (landmarks[i][0] - cx) * 1.15, cy + (landmarks[i][1] - cy) * 1.15]);
    }
  }
  return pts;
}

/**
 * Soft mask (1 channel, [0, 1]) of the convex hull of `polygon` (crop pixels): 0 outside the hull shrunk by
 * `erode`, rising linearly to 1 over `feather` inside it. Distances are exact inside the hull (distance to the
 * nearest edge line) and slightly mitred outside it (only matters for a negative erode).
 */
export function hullMask(polygon: Point[], size: number, params: MaskParams): Image {
  const hull = convexHull(polygon);
  const data = new Float32Array(size * size);
  if (hull.length < 3) return { width: size, height: size, channels: 1, data };
  // inward unit normals: hull is counter-clockwise in (x, y) with y down, i.e. clockwise on screen
  const edges = hull.map((a, i) => {
    const b = hull[(i + 1) % hull.length];
    const dx = b[0] - a[0], dy = b[1] - a[1];
    const len = Math.hypot(dx, dy) || 1;
    return { ax: a[0], ay: a[1], nx: -dy / len, ny: dx / len };
  });
  // orient normals inwards (check with the centroid)
  let gx = 0, gy = 0;
  for (const p of hull) { gx += p[0]; gy += p[1]; }
  gx /= hull.length; gy /= hull.length;
  for (const e of edges) if ((gx - e.ax) * e.nx + (gy - e.ay) * e.ny < 0) { e.nx = -e.nx; e.ny = -e.ny; }
  const erode = params.erode * size;
  const feather = Math.max(1, params.feather * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let d = Infinity;
      for (const e of edges) {
        const s = (x - e.ax) * e.nx + (y - e.ay) * e.ny;
        if (s < d) d = s;
      }
      const v = (d - erode) / feather;
      data[y * size + x] = v <= 0 ? 0 : v >= 1 ? 1 : v;
    }
  }
  return { width: size, height: size, channels: 1, data };
}
