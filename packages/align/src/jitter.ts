import { interOcular, type Point } from './template.js';
import { umeyama, transformPoints } from './umeyama.js';

/**
 * Landmark jitter of a track: for each pair of consecutive frames with a face (and no cut between them),
 * the mean displacement of the 68 points after removing the rigid head motion (the least-squares
 * similarity from the earlier frame's points to the later's), divided by the later frame's inter-ocular
 * distance. Returns the mean over pairs and the number of pairs.
 */
export function landmarkJitter(track: (Point[] | null)[], cuts: ReadonlySet<number> = new Set()): { jitter: number; pairs: number } {
  let sum = 0, pairs = 0;
  for (let i = 1; i < track.length; i++) {
    const a = track[i - 1], b = track[i];
    if (!a || !b || cuts.has(i)) continue;
    const m = umeyama(a, b);
    const moved = transformPoints(m, a);
    let d = 0;
    for (let k = 0; k < b.length; k++) d += Math.hypot(moved[k][0] - b[k][0], moved[k][1] - b[k][1]);
    sum += d / b.length / interOcular(b);
    pairs++;
  }
  return { jitter: pairs ? sum / pairs : NaN, pairs };
}

/** Mean distance between two tracks (frames where both have points), in inter-ocular distances. */
export function trackDistance(a: (Point[] | null)[], b: (Point[] | null)[]): number {
  let sum = 0, n = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const p = a[i], q = b[i];
    if (!p || !q) continue;
    let d = 0;
    for (let k = 0; k < p.length; k++) d += Math.hypot(p[k][0] - q[k][0], p[k][1] - q[k][1]);
    sum += d / p.length / interOcular(q);
    n++;
  }
  return n ? sum / n : NaN;
}
