/**
 * A 68-point face (iBUG layout) drawn from its parts for tests of landmark-driven training: jaw, brows,
 * nose, eyes and a mouth whose opening is a parameter, in a crop of `size` pixels, with seeded jitter.
 */
import { Rng } from '../src/rng.js';
import type { Point } from '../src/regions.js';

export function facePoints(size: number, mouthOpen: number, rng: Rng, jitter = 0.004): Point[] {
  const p: Point[] = [];
  const at = (x: number, y: number) => p.push([(x + rng.uniform(-jitter, jitter)) * size, (y + rng.uniform(-jitter, jitter)) * size]);
  for (let i = 0; i < 17; i++) { const t = Math.PI * (i / 16); at(0.5 - 0.4 * Math.cos(t), 0.45 + 0.45 * Math.sin(t)); } // jaw 0-16
  for (let i = 0; i < 10; i++) { const x = i < 5 ? 0.22 + 0.05 * i : 0.58 + 0.05 * (i - 5); at(x, 0.33 - 0.02 * Math.sin(Math.PI * ((i % 5) / 4))); } // brows 17-26
  for (let i = 0; i < 9; i++) at(i < 4 ? 0.5 : 0.44 + 0.03 * (i - 4), i < 4 ? 0.42 + 0.05 * i : 0.62); // nose 27-35
  for (const cx of [0.33, 0.67]) for (let i = 0; i < 6; i++) { const t = (2 * Math.PI * i) / 6; at(cx - 0.06 * Math.cos(t), 0.42 - 0.02 * Math.sin(t)); } // eyes 36-47
  for (let i = 0; i < 12; i++) { const t = (2 * Math.PI * i) / 12; at(0.5 - 0.12 * Math.cos(t), 0.76 - (0.03 + mouthOpen) * Math.sin(t)); } // outer lips 48-59
  for (let i = 0; i < 8; i++) { const t = (2 * Math.PI * i) / 8; at(0.5 - 0.08 * Math.cos(t), 0.76 - (0.01 + mouthOpen) * Math.sin(t)); } // inner lips 60-67
  return p;
}
