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

export { relError } from '../src/compare.js';

/** Switches to an engine; the reason to skip it, or null when active (a failure for webgpu in CI). */
export const tryEngine = switchOrSkip;

export { tf };
