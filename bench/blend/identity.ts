/**
 * Whose face does the delivered plate show? For each blend setting: the identity of the delivered face
 * (distance to the source, share of frames nearer the source than the target), the seam ratio, and how well
 * the plate's light is kept. Prints a table per footage group; writes bench/results/blend-identity.json.
 *
 *   npx tsc -b packages/blend packages/score && nice -n 10 node --import tsx bench/blend/identity.ts [--frames 10] [--only 'cutoff 2;poisson']
 *
 * A swap with a known identity, without training: real aligned crops of person A (the align stage's output
 * on one clip of ../shared/footage) are blended as the "swap" into the plates of person B (another clip,
 * with its own align output: matrix and mask), frame by frame. The crop's own distance to A is the
 * reference the delivered face is compared with. The delivered face is read as the score stage reads a crop
 * (face-api's landmarks found again, then its descriptor): the plate is warped by B's align matrix, the
 * landmarks and descriptor come from the delivered pixels.
 *
 * Detail: high-frequency luma energy (score's highFrequency, radius 1) of the delivered face over the plate's,
 * inside the mask, in the crop's frame at SIZE px. With --crop-res the swap is the source's crop at that
 * resolution (a perfect decoder there), to see what a low-resolution swap delivers and what the plate's
 * detail adds.
 *
 * Groups: "tune" (congress/aoc-a <-> katiehill, both ways) chose the default; "check" (congress/speaker-1
 * <-> speaker-2, both ways) is held out: people and clips the choice never saw.
 *
 * Light: the Gaussian low-pass (half response at 1.5 cycles per face width, normalised inside the mask) of
 * the delivered face against the plate's, mean |difference| inside the mask in 8-bit levels, for luma
 * (Rec. 709) and chroma (|(Cb, Cr)|). Seam: the score stage's seam figures at the plate's resolution.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readImage, resize, warpAffine, type Affine, type Image } from '@facecomb/image';
import { alignFrames, parseAlignParams, readFrameSource } from '@facecomb/align';
import { blendFace, boxBlur, BufferPool, cutoffSigma, maskBounds, type BlendOptions } from '@facecomb/blend';
import { FaceReader, highFrequency, meanDescriptor, regionMean, seamFigures, seamView } from '@facecomb/score';
import { ycc } from './ycc.js';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('../..', import.meta.url));
const footage = join(root, '..', 'shared', 'footage', 'congress');
if (!existsSync(footage)) throw new Error(`${footage} not found: the benchmark needs the real footage in ../shared/footage`);
const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) || def : def;
};
const N = arg('--frames', 10);
const SIZE = 256;
// --crop-res R: the "swap" is the source's crop at R px (a perfect decoder at that resolution), blended with
// the target's mask at R px and its matrix scaled to match; 0: the crop at SIZE px as aligned
const CROP_RES = arg('--crop-res', 0);

const SETTINGS: Array<{ name: string; opts: BlendOptions }> = [
  ...[0, 1, 1.5, 2, 2.5, 3, 4].map((c) => ({ name: `cutoff ${c}`, opts: { mode: 'multiband', plateCutoff: c } as BlendOptions })),
  ...[1.5, 2].map((c) => ({ name: `cutoff ${c} + lab`, opts: { mode: 'multiband', plateCutoff: c, colour: 'lab' } as BlendOptions })),
  { name: 'cutoff 2 + histogram', opts: { mode: 'multiband', plateCutoff: 2, colour: 'histogram' } },
  // the seam pyramid's depth (auto: 1)
  ...[2, 3, 4].map((l) => ({ name: `cutoff 2, levels ${l}`, opts: { mode: 'multiband', plateCutoff: 2, levels: l } as BlendOptions })),
  ...[0, 1, 2].map((l) => ({ name: `plateLevels ${l} (old)`, opts: { mode: 'multiband', plateLevels: l } as BlendOptions })),
  { name: 'plateLevels 2 + lab (old)', opts: { mode: 'multiband', plateLevels: 2, colour: 'lab' } },
  { name: 'poisson', opts: { mode: 'poisson' } },
  { name: 'poisson + lab', opts: { mode: 'poisson', colour: 'lab' } },
  { name: 'alpha', opts: { mode: 'alpha' } },
  { name: 'alpha + lab', opts: { mode: 'alpha', colour: 'lab' } },
  ...[0, 0.5, 1, 1.5].map((c) => ({ name: `cutoff 2, chroma ${c}`, opts: { mode: 'multiband', plateCutoff: 2, chroma: c } as BlendOptions })),
  ...[0.5, 0.7, 1, 1.5, 2].map((d) => ({ name: `cutoff 2, plate detail ${d}`, opts: { mode: 'multiband', plateCutoff: 2, plateDetail: d } as BlendOptions })),
];

interface Clip { name: string; plates: Image[]; crops: Image[]; masks: Image[]; matrices: Affine[] }

/** Every k-th frame of a clip, aligned at SIZE px; kept in os.tmpdir() between runs. */
async function loadClip(name: string): Promise<Clip> {
  const dir = join(tmpdir(), 'facecomb-bench-identity', `${name}-${N}-${SIZE}`);
  const frames = join(dir, 'frames'), out = join(dir, 'align');
  if (!existsSync(join(out, 'meta.json'))) {
    mkdirSync(join(frames, 'frames'), { recursive: true });
    const ffmpeg = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    // every 12th frame: different expressions and head turns, not near-copies
    execFileSync(ffmpeg, ['-y', '-v', 'error', '-i', join(footage, `${name}.mp4`), '-vf', 'select=not(mod(n\\,12))', '-vsync', '0', '-frames:v', String(N), '-start_number', '1', join(frames, 'frames', '%06d.png')]);
    const first = await readImage(join(frames, 'frames', '000001.png'), { channels: 3 });
    const numbers = readdirSync(join(frames, 'frames')).sort().map((f) => Number(f.slice(0, 6)));
    writeFileSync(join(frames, 'meta.json'), JSON.stringify({ kind: 'ingest', fps: 2, width: first.width, height: first.height, frames: numbers }));
    await alignFrames(await readFrameSource(frames), out, parseAlignParams({ size: SIZE, contact: false }), { backend: 'wasm' });
  }
  const clip: Clip = { name, plates: [], crops: [], masks: [], matrices: [] };
  for (const f of readdirSync(join(out, 'faces')).sort()) {
    const rec = JSON.parse(readFileSync(join(out, 'faces', f), 'utf8')) as { face: { matrix: Affine } | null };
    if (!rec.face) continue;
    const n = f.slice(0, 6);
    clip.plates.push(await readImage(join(frames, 'frames', `${n}.png`), { channels: 3 }));
    clip.crops.push(await readImage(join(out, 'crops', `${n}.png`), { channels: 3 }));
    clip.masks.push(await readImage(join(out, 'masks', `${n}.png`), { channels: 1 }));
    clip.matrices.push(rec.face.matrix);
  }
  return clip;
}

const dist = (a: Float32Array, b: Float32Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
};

/** Mask-normalised Gaussian low-pass of one channel plane (three box passes). */
function maskedLowpass(plane: Float32Array, mask: Image, sigma: number): Float32Array {
  const { width: w, height: h } = mask;
  const r = Math.max(1, Math.round((Math.sqrt(4 * sigma * sigma + 1) - 1) / 2));
  const num = { width: w, height: h, channels: 1, data: plane.map((v, i) => v * mask.data[i]) };
  const den = { width: w, height: h, channels: 1, data: new Float32Array(mask.data) };
  boxBlur(num, r, 3);
  boxBlur(den, r, 3);
  return num.data.map((v, i) => (den.data[i] > 1e-3 ? v / den.data[i] : 0));
}

/** Low-pass luma and chroma difference (8-bit levels) of `a` against `b` inside `mask` (crop space). */
function lightDiff(a: Image, b: Image, mask: Image): { luma: number; chroma: number } {
  const box = maskBounds(mask)!;
  const sigma = cutoffSigma(1.5, Math.sqrt((box[2] - box[0] + 1) * (box[3] - box[1] + 1)));
  const A = ycc(a).map((c) => maskedLowpass(c, mask, sigma)), B = ycc(b).map((c) => maskedLowpass(c, mask, sigma));
  let luma = 0, chroma = 0, n = 0;
  for (let p = 0; p < mask.data.length; p++) {
    if (mask.data[p] < 0.5) continue;
    luma += Math.abs(A[0][p] - B[0][p]);
    chroma += Math.hypot(A[1][p] - B[1][p], A[2][p] - B[2][p]);
    n++;
  }
  return { luma: (255 * luma) / n, chroma: (255 * chroma) / n };
}

// --only 'a;b': only the settings whose names are listed (alpha, the reference column, is always run)
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1].split(';') : null;
if (only) SETTINGS.splice(0, SETTINGS.length, ...SETTINGS.filter((s) => s.name === 'alpha' || only.includes(s.name)));

interface Row {
  group: string; setting: string; frames: number; cropDistance: number; distance: number; overCrop: number;
  nearestSource: number; cropNearestSource: number; seamRatio: number; lightLuma: number; lightChroma: number; detail: number;
}

const reader = await FaceReader.open('wasm');
const read = async (crops: Image[]) => (await reader.read(crops, 'wholeface')).map((r) => r.descriptor);
const groups: Array<{ group: string; clips: [string, string] }> = [
  { group: 'tune', clips: ['aoc-a', 'katiehill'] },
  { group: 'check', clips: ['speaker-1', 'speaker-2'] },
];
const rows: Row[] = [];
const pool = new BufferPool();
for (const { group, clips } of groups) {
  const [c0, c1] = await Promise.all(clips.map(loadClip));
  // the crop as the blend gets it: at CROP_RES when given (read back at SIZE)
  const asSwap = (crops: Image[]) => (CROP_RES ? crops.map((c) => resize(resize(c, CROP_RES, CROP_RES), SIZE, SIZE)) : crops);
  const desc = new Map<string, Float32Array[]>([[c0.name, await read(asSwap(c0.crops))], [c1.name, await read(asSwap(c1.crops))]]);
  const mean = new Map([...desc].map(([k, v]) => [k, meanDescriptor(v)]));
  const acc = new Map<string, { d: number; near: number; cd: number; cnear: number; seam: number; luma: number; chroma: number; detail: number; n: number }>();
  for (const [src, tgt] of [[c0, c1], [c1, c0]]) {
    const mSrc = mean.get(src.name)!, mTgt = mean.get(tgt.name)!;
    const frames = Math.min(src.crops.length, tgt.plates.length);
    for (const s of SETTINGS) {
      const a = acc.get(s.name) ?? { d: 0, near: 0, cd: 0, cnear: 0, seam: 0, luma: 0, chroma: 0, detail: 0, n: 0 };
      const delivered: Image[] = [];
      for (let i = 0; i < frames; i++) {
        const plate = tgt.plates[i], m = tgt.matrices[i];
        const r = CROP_RES
          ? blendFace(plate, resize(src.crops[i], CROP_RES, CROP_RES), resize(tgt.masks[i], CROP_RES, CROP_RES), m.map((v) => (v * CROP_RES) / SIZE) as Affine, { feather: 0.04, ...s.opts, pool })
          : blendFace(plate, src.crops[i], tgt.masks[i], m, { feather: 0.04, ...s.opts, pool });
        delivered.push(warpAffine(r.image, m, SIZE, SIZE, { replicate: true }));
        const plateCrop = warpAffine(plate, m, SIZE, SIZE, { replicate: true });
        const seam = seamFigures(seamView(r.image, plate, plateCrop, tgt.masks[i], m));
        a.seam += (seam.seamPlate + seam.seam) / seam.seamPlate;
        const light = lightDiff(delivered[i], plateCrop, tgt.masks[i]);
        a.luma += light.luma;
        a.chroma += light.chroma;
        const inMask = tgt.masks[i].data.map((v) => (v > 0.5 ? 1 : 0)) as unknown as Uint8Array;
        a.detail += regionMean(highFrequency(delivered[i], 1), inMask) / regionMean(highFrequency(plateCrop, 1), inMask);
      }
      const got = await read(delivered);
      const crops = desc.get(src.name)!;
      for (let i = 0; i < frames; i++) {
        const d = dist(got[i], mSrc);
        a.d += d;
        a.near += d < dist(got[i], mTgt) ? 1 : 0;
        const cd = dist(crops[i], mSrc);
        a.cd += cd;
        a.cnear += cd < dist(crops[i], mTgt) ? 1 : 0;
      }
      a.n += frames;
      acc.set(s.name, a);
    }
  }
  for (const s of SETTINGS) {
    const a = acc.get(s.name)!;
    rows.push({
      group, setting: s.name, frames: a.n, cropDistance: a.cd / a.n, distance: a.d / a.n, overCrop: (a.d - a.cd) / a.n,
      nearestSource: a.near / a.n, cropNearestSource: a.cnear / a.n, seamRatio: a.seam / a.n, lightLuma: a.luma / a.n, lightChroma: a.chroma / a.n, detail: a.detail / a.n,
    });
  }
}

const f = (v: number, d = 3) => v.toFixed(d);
for (const { group, clips } of groups) {
  const g = rows.filter((r) => r.group === group);
  console.log(`\n${group}: ${clips.join(' <-> ')} (both ways, ${g[0].frames} frames; crops: distance to source ${f(g[0].cropDistance)}, nearest source ${f(g[0].cropNearestSource, 2)})`);
  const alpha = g.find((r) => r.setting === 'alpha')!.distance;
  const sign = (v: number) => `${v >= 0 ? '+' : ''}${f(v)}`;
  console.log('| setting | distance to source | - crop\'s | - alpha\'s | nearest source | seam ratio | light luma | light chroma | detail vs plate |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of g) console.log(`| ${r.setting} | ${f(r.distance)} | ${sign(r.overCrop)} | ${sign(r.distance - alpha)} | ${f(r.nearestSource, 2)} | ${f(r.seamRatio, 2)} | ${f(r.lightLuma, 1)} | ${f(r.lightChroma, 1)} | ${f(r.detail, 2)} |`);
}
const resDir = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(resDir, { recursive: true });
writeFileSync(join(resDir, 'blend-identity.json'), JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, load: loadavg(), frames: N, size: SIZE, cropRes: CROP_RES, rows }, null, 2));
