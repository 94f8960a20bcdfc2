/**
 * Region weights of the reconstruction loss: soft ellipses around the eyes, brows and mouth, placed from a
 * crop's 68 landmarks (iBUG layout, stored by the dataset stage in crop pixels).
 */
import type { RegionWeights } from './config.js';

export type Point = [number, number];

/** Landmark index ranges [from, to) of each region; each eye and each brow is its own ellipse. */
export const REGION_POINTS: Record<keyof RegionWeights, [number, number][]> = {
  eyes: [[36, 42], [42, 48]],
  brows: [[17, 22], [22, 27]],
  mouth: [[48, 68]],
};

/**
 * Adds w * ellipse to `out` ([r, r]) for the points' ellipse: centred on their mean, half-axes their half
 * extent grown by 30 % plus a margin of 0.15 inter-ocular distances (so lids, lip edges and teeth count),
 * falling from 1 at the centre to 0 at the edge (1 - d^2).
 */
function addEllipse(out: Float32Array, r: number, pts: Point[], margin: number, w: number): void {
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  const cx = xs.reduce((a, b) => a + b, 0) / xs.length, cy = ys.reduce((a, b) => a + b, 0) / ys.length;
  const rx = ((Math.max(...xs) - Math.min(...xs)) / 2) * 1.3 + margin;
  const ry = ((Math.max(...ys) - Math.min(...ys)) / 2) * 1.3 + margin;
  for (let y = Math.max(0, Math.floor(cy - ry)); y <= Math.min(r - 1, Math.ceil(cy + ry)); y++) {
    for (let x = Math.max(0, Math.floor(cx - rx)); x <= Math.min(r - 1, Math.ceil(cx + rx)); x++) {
      const d = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2;
      if (d < 1) out[y * r + x] += w * (1 - d);
    }
  }
}

/**
 * The loss weight map [r, r] of a crop: 1 + sum over regions of weight * soft region, with the landmarks
 * given in a crop of `size` pixels and scaled to r. Multiplied into the mask, it is warped with the crop by
 * the augmentation like the mask itself.
 */
export function regionWeightMap(landmarks: Point[], size: number, r: number, weights: RegionWeights): Float32Array {
  const k = r / size;
  const pts = landmarks.map(([x, y]): Point => [(x + 0.5) * k - 0.5, (y + 0.5) * k - 0.5]);
  const eye = (a: number, b: number): Point => [pts.slice(a, b).reduce((s, p) => s + p[0], 0) / (b - a), pts.slice(a, b).reduce((s, p) => s + p[1], 0) / (b - a)];
  const [l, rr] = [eye(36, 42), eye(42, 48)];
  const margin = 0.15 * Math.hypot(rr[0] - l[0], rr[1] - l[1]);
  const out = new Float32Array(r * r).fill(1);
  for (const name of Object.keys(REGION_POINTS) as (keyof RegionWeights)[]) {
    if (!(weights[name] > 0)) continue;
    for (const [a, b] of REGION_POINTS[name]) addEllipse(out, r, pts.slice(a, b), margin, weights[name]);
  }
  return out;
}

/** Whether any region has an extra weight. */
export function hasRegionWeights(w: RegionWeights): boolean {
  return w.eyes > 0 || w.brows > 0 || w.mouth > 0;
}
