/**
 * Blend stage speed and seam quality. Prints a table (mode, plate, face, ms/frame, frames/s, seam metric) and
 * writes bench/results/blend.json.
 *   node --import tsx bench/blend/blend.ts            (synthetic 1080p and 4K plates + one real plate)
 *   node --import tsx bench/blend/blend.ts --quick    (fewer repeats)
 *   node --import tsx bench/blend/blend.ts --mode=poisson   (one mode only)
 *
 * Synthetic: a gradient-lit textured plate, a 1024 px crop (the "1024 px face": the crop covers 1024 plate px,
 * rotated 5 degrees) holding a textured face of another colour, an elliptical mask. Real: a frame of
 * congress/katiehill.mp4 as the plate and a face from congress/aoc-a.mp4 warped onto the same eye/mouth
 * template as the 'swapped' crop, with an elliptical mask (hand-placed landmarks; files go to os.tmpdir()).
 * Timings are of blendFace (unwarp, mask feather, blend, paste into the plate) on one core, without PNG I/O.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createImage, readImage, warpAffine, type Affine, type Image } from '@facecomb/image';
import { umeyama } from '@facecomb/align';
import { blendFace, BufferPool, extractRoi, seamMetric, type BlendMode, type BlendOptions } from '@facecomb/blend';

const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--mode='))?.slice(7);
// the old multiband (the plate's coarsest pyramid levels) is timed beside the current one, as a baseline
const VARIANTS: Array<{ label: string; opts: BlendOptions & { mode: BlendMode } }> = [
  { label: 'multiband', opts: { mode: 'multiband' } },
  { label: 'multiband, plateLevels 2 (old)', opts: { mode: 'multiband', plateLevels: 2 } },
  { label: 'poisson', opts: { mode: 'poisson' } },
  { label: 'alpha', opts: { mode: 'alpha' } },
].filter((v) => !only || v.opts.mode === only) as Array<{ label: string; opts: BlendOptions & { mode: BlendMode } }>;
const FACE = 1024;

function syntheticPlate(w: number, h: number): Image {
  const img = createImage(w, h, 3);
  const d = img.data;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const light = 0.25 + 0.6 * (x / w) * (0.6 + 0.4 * y / h);
      const tex = 0.04 * Math.sin(x * 0.21) * Math.cos(y * 0.17) + 0.02 * Math.sin((x + 2 * y) * 0.05);
      const o = (y * w + x) * 3;
      d[o] = light * 0.9 + tex; d[o + 1] = light * 0.75 + tex; d[o + 2] = light * 0.6 + tex;
    }
  }
  return img;
}

function syntheticCrop(s: number): { crop: Image; mask: Image } {
  const crop = createImage(s, s, 3);
  const mask = createImage(s, s, 1);
  for (let y = 0; y < s; y++) {
    for (let x = 0; x < s; x++) {
      const u = x / s, v = y / s;
      const tex = 0.05 * Math.sin(x * 0.31 + 1) * Math.sin(y * 0.27) + 0.03 * Math.cos((x - y) * 0.09);
      const o = (y * s + x) * 3;
      crop.data[o] = 0.75 + tex - 0.1 * v; crop.data[o + 1] = 0.5 + tex; crop.data[o + 2] = 0.45 + tex + 0.05 * u;
      const ex = (u - 0.5) / 0.33, ey = (v - 0.55) / 0.42;
      mask.data[y * s + x] = ex * ex + ey * ey <= 1 ? 1 : 0;
    }
  }
  return { crop, mask };
}

/** plate -> crop: rotate by `deg` and scale about the plate point (cx, cy), landing on the crop centre. */
function matrixAbout(cx: number, cy: number, scale: number, deg: number, s: number): Affine {
  const t = (deg * Math.PI) / 180;
  const a = scale * Math.cos(t), b = scale * Math.sin(t);
  return [a, -b, s / 2 - (a * cx - b * cy), b, a, s / 2 - (b * cx + a * cy)];
}

interface Row { mode: string; plate: string; face: number; roi: string; ms: number; cpuMs: number; fps: number; fpsCpu: number; seam: number; note?: string }

function bench(name: string, plate: Image, crop: Image, mask: Image, m: Affine, variant: { label: string; opts: BlendOptions }, budgetMs: number): Row {
  const pool = new BufferPool();
  const work = { ...plate, data: new Float32Array(plate.data) };
  const opts = { ...variant.opts, inPlace: true, pool };
  let r = blendFace(work, crop, mask, m, opts); // warm-up (JIT, pool)
  const roi = r.roi!;
  const seam = seamMetric(extractRoi(r.image, roi), extractRoi(plate, roi), r.mask!);
  const times: number[] = [];
  const cpu: number[] = [];
  const start = performance.now();
  while (times.length < 3 || (performance.now() - start < budgetMs && times.length < 30)) {
    work.data.set(plate.data); // fresh plate, as the stage reads one per frame (not timed)
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    r = blendFace(work, crop, mask, m, opts);
    const c1 = process.cpuUsage(c0);
    times.push(performance.now() - t0);
    cpu.push((c1.user + c1.system) / 1000);
  }
  const median = (v: number[]): number => v.sort((a, b) => a - b)[Math.floor(v.length / 2)];
  const ms = median(times);
  const cpuMs = median(cpu);
  const note = r.iterations ? `MG-PCG iterations ${r.iterations.join('/')}` : r.levels ? `levels ${r.levels}, gain ${r.gain?.toFixed(2)}` : undefined;
  return { mode: variant.label, plate: name, face: crop.width, roi: `${roi.width}x${roi.height}`, ms: Math.round(ms * 10) / 10, cpuMs: Math.round(cpuMs * 10) / 10, fps: Math.round((1000 / ms) * 100) / 100, fpsCpu: Math.round((1000 / cpuMs) * 100) / 100, seam: Math.round(seam * 1000) / 1000, note };
}

async function realPlate(): Promise<{ plate: Image; crop: Image; mask: Image; m: Affine } | null> {
  const footage = fileURLToPath(new URL('../../../shared/footage', import.meta.url));
  if (!existsSync(footage)) {
    console.error('../shared/footage is required for the real-plate row; skipping it');
    return null;
  }
  const { default: ff } = await import('@ffmpeg-installer/ffmpeg');
  const dir = mkdtempSync(join(tmpdir(), 'fc-blend-bench-'));
  try {
    const grab = (src: string, out: string): void => {
      execFileSync(ff.path, ['-loglevel', 'error', '-y', '-ss', '2', '-i', join(footage, src), '-frames:v', '1', out]);
    };
    grab('congress/katiehill.mp4', join(dir, 'plate.png'));
    grab('congress/aoc-a.mp4', join(dir, 'donor.png'));
    const plate = await readImage(join(dir, 'plate.png'), { channels: 3 });
    const donor = await readImage(join(dir, 'donor.png'), { channels: 3 });
    // eye centres and mouth centre, placed by hand on these two frames (t = 2 s)
    const template: Array<[number, number]> = [[0.35 * FACE, 0.4 * FACE], [0.65 * FACE, 0.4 * FACE], [0.5 * FACE, 0.72 * FACE]];
    const mPlate = umeyama([[213, 226], [322, 220], [268, 352]], template);
    const mDonor = umeyama([[240, 228], [370, 225], [316, 360]], template);
    const crop = warpAffine(donor, mDonor, FACE, FACE, { replicate: true });
    const mask = createImage(FACE, FACE, 1);
    for (let y = 0; y < FACE; y++) for (let x = 0; x < FACE; x++) {
      const ex = (x / FACE - 0.5) / 0.3, ey = (y / FACE - 0.55) / 0.38;
      mask.data[y * FACE + x] = ex * ex + ey * ey <= 1 ? 1 : 0;
    }
    return { plate, crop, mask, m: mPlate };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
const budget = quick ? 1500 : 4000;
const { crop, mask } = syntheticCrop(FACE);
for (const [name, w, h] of [['1080p synthetic', 1920, 1080], ['4K synthetic', 3840, 2160]] as const) {
  const plate = syntheticPlate(w, h);
  const m = matrixAbout(w * 0.55, h * 0.5, 1, 5, FACE);
  for (const v of VARIANTS) {
    const row = bench(name, plate, crop, mask, m, v, budget);
    rows.push(row);
    console.error(`${row.plate} ${row.mode}: ${row.ms} ms`);
  }
}
const real = await realPlate();
if (real) {
  for (const v of VARIANTS) rows.push(bench(`katiehill 512x512 (real)`, real.plate, real.crop, real.mask, real.m, v, budget));
}

console.log('\nmode                            plate                      face  roi         wall ms  cpu ms  frames/s (wall, cpu)  seam    note');
for (const r of rows) {
  console.log(`${r.mode.padEnd(31)} ${r.plate.padEnd(26)} ${String(r.face).padEnd(5)} ${r.roi.padEnd(11)} ${String(r.ms).padStart(7)} ${String(r.cpuMs).padStart(7)}  ${String(r.fps).padStart(8)} ${String(r.fpsCpu).padStart(8)}     ${r.seam.toFixed(3).padStart(6)}  ${r.note ?? ''}`);
}
console.log(`load average ${loadavg().map((v) => v.toFixed(1)).join(' ')} on ${cpus().length} cores (wall times include waiting for a core; cpu ms is this thread's own time)`);
const resDir = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(resDir, { recursive: true });
writeFileSync(join(resDir, 'blend.json'), JSON.stringify({
  date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, loadavg: loadavg(), threads: 1,
  seamUnit: '8-bit levels per px: mean excess of |grad Y| over the plate in a 2 px band around the mask edge',
  rows,
}, null, 2) + '\n');
console.log(`\nwrote ${join(resDir, 'blend.json')}`);
