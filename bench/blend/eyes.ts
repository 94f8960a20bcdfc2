/**
 * The eyes of the delivered plate, per blend setting, on a pipeline's own stage outputs (the demo's by
 * default): does the delivered eye follow the plate's eye (landmarks), is it the swap's eye (a doubled
 * pupil is the plate's eye showing through the swap's), and is its colour the swap's (coloured rings are
 * chroma the blend added around the pupil)? Prints a table; writes bench/results/blend-eyes.json.
 *
 *   npx runner run pipelines/demo.yaml   (once, for the cached stage outputs)
 *   nice -n 10 node --import tsx bench/blend/eyes.ts [--project DIR] [--pipeline pipelines/demo.yaml] [--plate shot --align shot-align --swap swap]
 *
 * Each frame is looked at in the crop's frame of reference at the plate's own pixel size (the score
 * stage's seam view). Figures, means over the frames, in the eye region (score's eyesRegion of the plate's
 * landmarks):
 * - eye landmarks: face-api's eye points (36-47) found on the delivered view, mean distance to the plate's
 *   (align's) / interocular distance;
 * - detail: high-frequency energy (score's highFrequency) of the delivered view over the plate's;
 * - not the swap: mean |high-pass luma of delivered − of the swap| in 8-bit levels, the high-pass being the
 *   image less its box mean over a quarter of the interocular distance: the eye's structure (pupil, lids,
 *   lashes) that is not the swap's; a doubled pupil raises it;
 * - added chroma: mean |high-pass chroma| of the delivered view minus the swap's, 8-bit levels: colour
 *   fringes the blend made;
 * - identity: face-api's descriptor of the delivered view, distance to the mean of the source person's own
 *   aligned crops (`--source-align`, default ava-align) and share of frames nearer it than the mean of the
 *   target's (the plate's aligned crops).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readImage, warpAffine, type Affine, type Image } from '@facecomb/image';
import { interOcular, transformPoints, type Point } from '@facecomb/align';
import { blendFace, BufferPool, type BlendOptions } from '@facecomb/blend';
import { ycc } from './ycc.js';
import { boxFilter, eyesRegion, FaceReader, highFrequency, meanDescriptor, rasterise, regionMean } from '@facecomb/score';

const root = fileURLToPath(new URL('../..', import.meta.url));
const opt = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
// the project whose cached stages are read (default this checkout); its pipeline file
const project = resolve(opt('project', root));
const pipeline = resolve(project, opt('pipeline', 'pipelines/demo.yaml'));
// where the runner keeps each stage's output: .facecomb/cache/<key>/out, the key from `runner status --json`
const status = JSON.parse(execFileSync('npx', ['runner', 'status', pipeline, '--json'], { cwd: project, encoding: 'utf8' })) as Array<{ stage: string; key: string }>;
const dirOf = (name: string): string => {
  const s = status.find((x) => x.stage === name);
  const d = s && join(project, '.facecomb', 'cache', s.key, 'out');
  if (!d || !existsSync(d)) throw new Error(`stage '${name}' has no cached output: run \`npx runner run ${pipeline}\` first`);
  return d;
};
const plateDir = dirOf(opt('plate', 'shot')), alignDir = dirOf(opt('align', 'shot-align')), swapDir = dirOf(opt('swap', 'swap'));
// the source person's own aligned crops, for the delivered identity (the target's are alignDir's)
const sourceAlignDir = dirOf(opt('source-align', 'ava-align'));

// the rows before the chroma and plate-detail defaults set them off, to show what each step did
const OLD = { chroma: 0, plateDetail: 0 };
const SETTINGS: Array<{ name: string; opts: BlendOptions }> = [
  { name: 'plateLevels 2 (old default)', opts: { plateLevels: 2, chroma: 0 } },
  { name: 'plateLevels 0 (old)', opts: { plateLevels: 0, chroma: 0 } },
  { name: 'alpha', opts: { mode: 'alpha', chroma: 0 } },
  { name: 'plateCutoff 2', opts: { ...OLD } },
  { name: 'plateCutoff 2, contrast off', opts: { ...OLD, contrast: false } },
  ...[0.5, 1, 1.5, 2].map((c) => ({ name: `plateCutoff 2, chroma ${c}`, opts: { ...OLD, chroma: c } })),
  ...[1.5, 2, 3].map((d) => ({ name: `plateCutoff 2, chroma 1, plate detail ${d}`, opts: { chroma: 1, plateDetail: d } })),
  { name: 'defaults', opts: {} },
];

const highPass = (v: Float32Array, w: number, h: number, r: number): Float32Array => {
  const low = boxFilter(v, w, h, r);
  return v.map((x, i) => x - low[i]);
};

/** |(Cb, Cr)| less its 5 px box mean (r = 2): the finest colour, where the decoder's checkerboard is. */
const fineChroma = (img: Image): Float32Array => {
  const [, cb, cr] = ycc(img);
  const b = highPass(cb, img.width, img.height, 2), r = highPass(cr, img.width, img.height, 2);
  return b.map((v, p) => Math.hypot(v, r[p]));
};
/** Mean fine chroma of a folder's crops in the eye region of its faces (the crop's own landmarks). */
const cropFine = async (dir: string, landmarksOf: (f: string) => Point[]): Promise<number> => {
  let s = 0, n = 0;
  for (const f of frames) {
    if (!existsSync(join(dir, f))) continue;
    const img = await readImage(join(dir, f), { channels: 3 });
    s += regionMean(fineChroma(img), rasterise(eyesRegion(landmarksOf(f)), img.width, img.height));
    n++;
  }
  return n ? s / n : NaN;
};
const reader = await FaceReader.open('wasm');
const pool = new BufferPool();
const frames = readdirSync(join(swapDir, 'faces')).filter((f) => f.endsWith('.png')).sort();
const meanOf = async (dir: string): Promise<Float32Array> => {
  const crops: Image[] = [];
  for (const f of readdirSync(join(dir, 'crops')).filter((x) => x.endsWith('.png')).sort()) crops.push(await readImage(join(dir, 'crops', f), { channels: 3 }));
  return meanDescriptor((await reader.read(crops, 'wholeface')).map((r) => r.descriptor));
};
const sourceMean = await meanOf(sourceAlignDir), targetMean = await meanOf(alignDir);
// the swap crops' eye region from the plate's landmarks in crop space (the swap keeps the pose)
const cropLm = (f: string): Point[] => {
  const rec = JSON.parse(readFileSync(join(alignDir, 'faces', f.replace('.png', '.json')), 'utf8')) as { face: { matrix: Affine; landmarks: Point[] } };
  return transformPoints(rec.face.matrix, rec.face.landmarks);
};
const swapFine = await cropFine(join(swapDir, 'faces'), cropLm);
const sourceFine = await (async () => {
  let s = 0, n = 0;
  for (const f of readdirSync(join(sourceAlignDir, 'crops')).filter((x) => x.endsWith('.png')).sort()) {
    const rec = JSON.parse(readFileSync(join(sourceAlignDir, 'faces', f.replace('.png', '.json')), 'utf8')) as { face: { matrix: Affine; landmarks: Point[] } | null };
    if (!rec.face) continue;
    const img = await readImage(join(sourceAlignDir, 'crops', f), { channels: 3 });
    s += regionMean(fineChroma(img), rasterise(eyesRegion(transformPoints(rec.face.matrix, rec.face.landmarks)), img.width, img.height));
    n++;
  }
  return s / n;
})();
const dist = (a: Float32Array, b: Float32Array): number => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0));
const rows: Record<string, number | string>[] = [];
for (const s of SETTINGS) {
  let lm = 0, detail = 0, notSwap = 0, chroma = 0, fine = 0, finePlate = 0, toSource = 0, nearSource = 0, n = 0;
  const views: Image[] = [];
  const per: Array<{ plateLm: Point[]; region: Uint8Array; plateView: Image; swapView: Image; io: number }> = [];
  for (const f of frames) {
    const rec = JSON.parse(readFileSync(join(alignDir, 'faces', f.replace('.png', '.json')), 'utf8')) as { face: { matrix: Affine; landmarks: Point[] } };
    const m = rec.face.matrix;
    const plate = await readImage(join(plateDir, 'frames', f), { channels: 3 });
    const crop = await readImage(join(swapDir, 'faces', f), { channels: 3 });
    const mask = await readImage(join(alignDir, 'masks', f), { channels: 1 });
    const r = blendFace(plate, crop, mask, m, { ...s.opts, pool });
    // the crop's frame at the plate's pixel size
    const k = Math.max(1, 1 / Math.hypot(m[0], m[3]));
    const size = Math.round(crop.width * k);
    const mv = m.map((v) => v * k) as Affine;
    const view = warpAffine(r.image, mv, size, size, { replicate: true });
    views.push(view);
    const plateLm = transformPoints(mv, rec.face.landmarks);
    per.push({
      plateLm, io: interOcular(plateLm), region: rasterise(eyesRegion(plateLm), size, size),
      plateView: warpAffine(plate, mv, size, size, { replicate: true }),
      swapView: warpAffine(crop, [k, 0, 0, 0, k, 0], size, size, { replicate: true }),
    });
  }
  const read = await reader.read(views, 'wholeface');
  for (let i = 0; i < views.length; i++) {
    const { plateLm, io, region, plateView, swapView } = per[i];
    const w = views[i].width, h = views[i].height;
    let e = 0;
    for (let p = 36; p < 48; p++) e += Math.hypot(read[i].landmarks[p][0] - plateLm[p][0], read[i].landmarks[p][1] - plateLm[p][1]);
    lm += e / 12 / io;
    const rr = Math.max(1, Math.round(w / 128));
    detail += regionMean(highFrequency(views[i], rr), region) / regionMean(highFrequency(plateView, rr), region);
    const r4 = Math.max(1, Math.round(io / 4));
    const [dY, dB, dR] = ycc(views[i]).map((c) => highPass(c, w, h, r4));
    const [sY, sB, sR] = ycc(swapView).map((c) => highPass(c, w, h, r4));
    const diff = dY.map((v, p) => Math.abs(v - sY[p]));
    const cd = dB.map((v, p) => Math.hypot(v, dR[p]) - Math.hypot(sB[p], sR[p]));
    notSwap += 255 * regionMean(diff, region);
    const ds = dist(read[i].descriptor, sourceMean);
    toSource += ds;
    nearSource += ds < dist(read[i].descriptor, targetMean) ? 1 : 0;
    chroma += 255 * regionMean(cd, region);
    fine += 255 * regionMean(fineChroma(views[i]), region);
    finePlate += 255 * regionMean(fineChroma(plateView), region);
    n++;
  }
  rows.push({ setting: s.name, frames: n, toSource: toSource / n, nearestSource: nearSource / n, eyeLandmarks: lm / n, detail: detail / n, notSwap: notSwap / n, addedChroma: chroma / n, fineChroma: fine / n, fineChromaPlate: finePlate / n });
}
console.log(`eyes of the delivered plate: ${frames.length} frames of ${swapDir}`);
console.log(`fine chroma in the eye region: the source's own crops ${(255 * sourceFine).toFixed(2)} levels, the swap crops ${(255 * swapFine).toFixed(2)}`);
console.log("| setting | distance to source | nearest source | eye landmark error / io | eye detail vs plate | eye not the swap (levels) | eye added chroma (levels) | eye fine chroma (levels) | the plate's own (levels) |");
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
const f = (v: number | string, d = 3) => (typeof v === 'number' ? v.toFixed(d) : v);
for (const r of rows) console.log(`| ${r.setting} | ${f(r.toSource)} | ${f(r.nearestSource, 2)} | ${f(r.eyeLandmarks)} | ${f(r.detail, 2)} | ${f(r.notSwap, 2)} | ${f(r.addedChroma, 2)} | ${f(r.fineChroma, 2)} | ${f(r.fineChromaPlate, 2)} |`);
const resDir = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(resDir, { recursive: true });
writeFileSync(join(resDir, 'blend-eyes.json'), JSON.stringify({ date: new Date().toISOString(), pipeline, rows }, null, 2));
