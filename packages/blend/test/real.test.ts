import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readImage, warpAffine, type Image } from '@facecomb/image';
import { blendFace, boxBlur, type BlendOptions } from '../src/index.js';
import { ellipseMask, similarity } from './synth.js';

const require = createRequire(import.meta.url);
const S = 192; // crop side; the face (the ellipse) is about 0.74 S wide

/** The green channel, box-blurred (3 passes of radius r: a Gaussian of sigma about r). */
function blurred(img: Image, r: number): Float32Array {
  const plane = { width: img.width, height: img.height, channels: 1, data: new Float32Array(img.width * img.height) };
  for (let p = 0; p < plane.data.length; p++) plane.data[p] = img.data[p * 3 + 1];
  boxBlur(plane, r, 3);
  return plane.data;
}

/** Band-pass (features: 3-16 px of a 142 px face, about 4-24 cycles per face width) of the green channel. */
const band = (img: Image): Float32Array => {
  const a = blurred(img, 1), b = blurred(img, 6);
  return a.map((v, i) => v - b[i]);
};

function correlation(a: Float32Array, b: Float32Array, sel: Uint8Array): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) if (sel[i]) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
  return ab / Math.sqrt(aa * bb);
}

test('on real faces the delivered face has the swap\'s features and the plate\'s light; the old plate levels mix in the target\'s', async () => {
  const footage = fileURLToPath(new URL('../../../../shared/footage/congress', import.meta.url));
  if (!existsSync(footage)) throw new Error(`the real footage folder ${footage} is required for this test`);
  const dir = mkdtempSync(join(tmpdir(), 'facecomb-blend-real-'));
  try {
    const ffmpeg = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    const grab = (src: string, out: string) => execFileSync(ffmpeg, ['-v', 'error', '-y', '-ss', '2', '-i', join(footage, src), '-frames:v', '1', out]);
    grab('katiehill.mp4', join(dir, 'plate.png'));
    grab('aoc-a.mp4', join(dir, 'donor.png'));
    {
      const plate = await readImage(join(dir, 'plate.png'), { channels: 3 });
      const donor = await readImage(join(dir, 'donor.png'), { channels: 3 });
      // eye centres and mouth centre placed by hand on these two frames (t = 2 s), as in bench/blend/blend.ts
      const template = [[0.35 * S, 0.4 * S], [0.65 * S, 0.4 * S], [0.5 * S, 0.72 * S]];
      const m = similarity([[213, 226], [322, 220], [268, 352]], template);
      const swap = warpAffine(donor, similarity([[240, 228], [370, 225], [316, 360]], template), S, S, { replicate: true });
      const mask = ellipseMask(S, 0.3, 0.38, 0.55);
      const plateCrop = warpAffine(plate, m, S, S, { replicate: true });
      // the mask's core, well inside its soft edge
      const core = new Uint8Array(S * S);
      for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
        const ex = (x / S - 0.5) / 0.24, ey = (y / S - 0.55) / 0.32;
        core[y * S + x] = ex * ex + ey * ey <= 1 ? 1 : 0;
      }
      const bs = band(swap), bp = band(plateCrop), lp = blurred(plateCrop, 12);
      const deliver = (opts: BlendOptions) => {
        const out = warpAffine(blendFace(plate, swap, mask, m, opts).image, m, S, S, { replicate: true });
        const bo = band(out), lo = blurred(out, 12);
        let light = 0, n = 0;
        for (let i = 0; i < core.length; i++) if (core[i]) { light += Math.abs(lo[i] - lp[i]); n++; }
        return { swap: correlation(bo, bs, core), target: correlation(bo, bp, core), light: (255 * light) / n };
      };
      const now = deliver({});
      const old = deliver({ plateLevels: 2 });
      const alpha = deliver({ mode: 'alpha' });
      // the features are the swap's, as pasted (two aligned faces correlate by themselves: alpha's figure
      // with the target is that baseline); the light is the plate's, unlike alpha's
      assert.ok(now.swap > 0.98, `default: correlation with the swap ${now.swap.toFixed(3)}`);
      assert.ok(now.target < alpha.target + 0.05, `default: correlation with the target ${now.target.toFixed(3)}, alpha's ${alpha.target.toFixed(3)}`);
      assert.ok(now.light < 0.5 * alpha.light, `default: low-pass luma ${now.light.toFixed(2)} levels from the plate's, alpha ${alpha.light.toFixed(2)}`);
      // the old default shows the target's features (measured: 0.73 against 0.39 for alpha)
      assert.ok(old.target > alpha.target + 0.2 && old.swap < 0.9, `plateLevels 2: swap ${old.swap.toFixed(3)}, target ${old.target.toFixed(3)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
