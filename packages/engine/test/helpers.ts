import { tf, switchOrSkip } from '../src/index.js';

/** Deterministic pseudo-random values (mulberry32), so every engine sees identical inputs. */
export function randomValues(n: number, seed: number, scale = 1): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = (u * 2 - 1) * scale;
  }
  return out;
}

/** max |a - b| / max |b|: error relative to the reference tensor's largest magnitude. */
export function relError(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (got.length !== ref.length) return Infinity;
  let diff = 0, mag = 0;
  for (let i = 0; i < ref.length; i++) {
    if (!Number.isFinite(got[i])) return Infinity;
    diff = Math.max(diff, Math.abs(got[i] - ref[i]));
    mag = Math.max(mag, Math.abs(ref[i]));
  }
  return diff / Math.max(mag, 1e-30);
}

/** Switches to an engine; the reason to skip it, or null when active (a failure for webgpu in CI). */
export const tryEngine = switchOrSkip;

export { tf };
