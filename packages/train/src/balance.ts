/**
 * Rare-expression balancing: the training frames of an identity are grouped by expression (k-means on
 * their aligned brow, eye and mouth landmarks) and each group is drawn equally often, so a frame's chance is
 * the inverse of its group's size: rare expressions are seen as often as common ones. Deterministic for a seed.
 */
import { Rng } from './rng.js';
import type { Point } from './regions.js';

/** Brows 17-26, eyes 36-47, mouth 48-67: the points that carry expression (the jaw and nose mostly do not). */
const EXPRESSION_POINTS = [...Array.from({ length: 10 }, (_, i) => 17 + i), ...Array.from({ length: 32 }, (_, i) => 36 + i)];

/** A frame's expression vector: its expression points about their centroid, divided by their RMS radius. */
export function expressionVector(landmarks: Point[]): Float64Array {
  const pts = EXPRESSION_POINTS.map((i) => landmarks[i]);
  const cx = pts.reduce((s, p) => s + p[0], 0) / pts.length, cy = pts.reduce((s, p) => s + p[1], 0) / pts.length;
  const rms = Math.sqrt(pts.reduce((s, p) => s + (p[0] - cx) ** 2 + (p[1] - cy) ** 2, 0) / pts.length) || 1;
  const v = new Float64Array(pts.length * 2);
  pts.forEach((p, k) => {
    v[2 * k] = (p[0] - cx) / rms;
    v[2 * k + 1] = (p[1] - cy) / rms;
  });
  return v;
}

const dist2 = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s;
};

/** k-means (k-means++ seeding from rng, then Lloyd iterations): the cluster of each vector. */
export function kmeans(vs: Float64Array[], k: number, rng: Rng, iterations = 25): number[] {
  const n = vs.length;
  k = Math.min(k, n);
  const centres: Float64Array[] = [Float64Array.from(vs[rng.int(n)])];
  const near = vs.map((v) => dist2(v, centres[0]));
  while (centres.length < k) {
    const total = near.reduce((a, b) => a + b, 0);
    let pick = 0;
    if (total > 0) {
      let t = rng.next() * total;
      while (pick < n - 1 && t >= near[pick]) t -= near[pick++];
    } else pick = rng.int(n);
    centres.push(Float64Array.from(vs[pick]));
    vs.forEach((v, i) => (near[i] = Math.min(near[i], dist2(v, centres[centres.length - 1]))));
  }
  const label = new Array<number>(n).fill(0);
  for (let it = 0; it < iterations; it++) {
    let moved = false;
    vs.forEach((v, i) => {
      let best = 0, bd = Infinity;
      centres.forEach((c, j) => {
        const d = dist2(v, c);
        if (d < bd) { bd = d; best = j; }
      });
      if (label[i] !== best) moved = true;
      label[i] = best;
    });
    for (let j = 0; j < centres.length; j++) {
      const members = vs.filter((_, i) => label[i] === j);
      if (!members.length) continue;
      centres[j] = new Float64Array(vs[0].length);
      for (const m of members) m.forEach((x, d) => (centres[j][d] += x / members.length));
    }
    if (!moved && it > 0) break;
  }
  return label;
}

/**
 * Sampling weights of frames (summing to 1): each of up to `clusters` expression clusters gets an equal share,
 * split evenly among its frames.
 */
export function balanceWeights(landmarks: Point[][], clusters: number, rng: Rng): number[] {
  const label = kmeans(landmarks.map(expressionVector), clusters, rng);
  const size = new Map<number, number>();
  for (const l of label) size.set(l, (size.get(l) ?? 0) + 1);
  return label.map((l) => 1 / (size.size * size.get(l)!));
}

/** Cumulative sums of weights, for drawing with `drawWeighted`. */
export function cumulative(weights: number[]): Float64Array {
  const c = new Float64Array(weights.length);
  let s = 0;
  weights.forEach((w, i) => (c[i] = s += w));
  return c;
}

/** An index drawn with probability proportional to its weight (binary search in the cumulative sums). */
export function drawWeighted(cum: Float64Array, rng: Rng): number {
  const t = rng.next() * cum[cum.length - 1];
  let lo = 0, hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid] > t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
