/**
 * Occlusion masks on real footage with occluders of known shape painted into held-out plates.
 *   nice -n 10 node --import tsx bench/occlusion/run.ts [--frames 200] [--steps 500] [--size 64] [--crop 128] [--mesh]
 * (--mesh: adds the rows of align's own mesh masks, see mesh.ts; --reuse: keeps the
 * segmenter runs of the last bench run in the work folder instead of training again; --margins M:T,...: rows for
 * the stage's `margin` and `threshold` params, drawn from the raw run; --oracle: the ground truth as the mask)
 *
 * The shot: the first N frames of ../shared/footage/congress/katiehill.mp4, aligned at `--crop` px. Every 4th
 * frame (and every 10th from the 6th, the frames offered for labelling: bench/occlusion/labels.json was drawn on
 * them with `--prepare`) gets an occluder (hand, bar, blob, glasses frames) painted into its plate, filled from frames of
 * congress/speaker-1.mp4 (never seen by the stage); the crops of those frames are warped again from the painted
 * plate. Reported per method: mean IoU of the visible-face mask with the ground truth (align's hull where the
 * occluder does not cover it) over the occluded frames; then, blending a stand-in swap (another frame's crop)
 * into the painted plates, the share of occluder pixels inside the face that the blend changes (> 2/255).
 * With bench/occlusion/labels.json, also the segmenter trained with those labels (labelled frames excluded
 * from the mean). Writes bench/results/occlusion.json; work files go to os.tmpdir() (never committed).
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readImage, writePng, type Affine } from '@facecomb/image';
import { ingestClip, footage } from '../../packages/align/test/helpers.ts';
import { runCli, runStage as runAlign } from '../../packages/align/test/stage.ts';
import { DEFAULTS, iou, parseLabels, readMask, readTextures, withMargin } from '../../packages/occlusion/src/index.ts';
import { occludePlates, type PlateOccluder } from './occlude.ts';
import { meshMasks } from './mesh.ts';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('frames', 200), STEPS = arg('steps', 500), SIZE = arg('size', 64), CROP = arg('crop', 128);
const root = fileURLToPath(new URL('../..', import.meta.url));
const work = join(tmpdir(), `facecomb-bench-occlusion-${N}-${CROP}`);
const pad = (n: number): string => String(n).padStart(6, '0');
const occlCli = join(root, 'packages/occlusion/src/cli.ts');
const blendCli = join(root, 'packages/blend/src/cli.ts');
const labelsFile = join(root, 'bench/occlusion/labels.json');

/** The clean shot, aligned (kept in the work folder across runs). */
async function shot(): Promise<{ frames: string; align: string; faces: number[] }> {
  const frames = join(work, 'frames');
  const align = join(work, 'align');
  if (!existsSync(join(align, 'meta.json'))) {
    await ingestClip(footage('congress', 'katiehill.mp4'), frames, 1, N);
    const r = await runAlign('align', align, { size: CROP, samples: 2, contact: false }, { frames });
    if (r.code !== 0) throw new Error(r.stderr);
  }
  const faces = (JSON.parse(await readFile(join(align, 'meta.json'), 'utf8')) as { withFace: number[] }).withFace;
  return { frames, align, faces };
}

async function occlusionRun(name: string, inputs: Record<string, string>, params: Record<string, unknown>): Promise<Record<string, number>> {
  const out = join(work, name);
  // --reuse: keep a segmenter run of an earlier bench run (the occluded plates are drawn again identically)
  if (process.argv.includes('--reuse') && existsSync(join(out, 'occlusion.json'))) return JSON.parse(await readFile(join(out, 'occlusion.json'), 'utf8')) as Record<string, number>;
  await rm(out, { recursive: true, force: true });
  const r = await runCli(occlCli, 'occlusion', out, params, inputs, join(root, 'bench/occlusion'));
  if (r.code !== 0) throw new Error(`${name}: ${r.stderr}`);
  return JSON.parse(await readFile(join(out, 'occlusion.json'), 'utf8')) as Record<string, number>;
}

async function meanIou(occ: PlateOccluder[], maskDir: string, skip: Set<number> = new Set()): Promise<number> {
  const use = occ.filter((o) => !skip.has(o.frame));
  let s = 0;
  for (const o of use) s += iou(await readMask(join(maskDir, `${pad(o.frame)}.png`)), o.truth);
  return s / use.length;
}

/** Share of occluder pixels inside the face that the blend changed, over the occluded frames (and per shape). */
async function paintedOver(occ: PlateOccluder[], plates: string, blended: string): Promise<number> {
  let hit = 0, all = 0;
  const shapes: Record<string, [number, number]> = {};
  for (const o of occ) {
    const before = [hit, all];
    const [a, b] = await Promise.all([readImage(join(plates, `${pad(o.frame)}.png`), { channels: 3 }), readImage(join(blended, `${pad(o.frame)}.png`), { channels: 3 })]);
    for (let i = 0; i < o.plateMatte.length; i++) {
      if (o.plateMatte[i] < 0.5 || o.plateHull[i] < 0.5) continue;
      all++;
      if ([0, 1, 2].some((c) => Math.abs(a.data[i * 3 + c] - b.data[i * 3 + c]) > 2 / 255)) hit++;
    }
    const t = (shapes[o.shape] ??= [0, 0]);
    t[0] += hit - before[0];
    t[1] += all - before[1];
  }
  console.log(`painted over by shape (${blended}): ${Object.entries(shapes).map(([k, [h, n]]) => `${k} ${((100 * h) / Math.max(1, n)).toFixed(1)}% of ${n} px`).join(', ')}`);
  return hit / Math.max(1, all);
}

async function blendShare(occ: PlateOccluder[], frames: string, align: string, faces: number[], occl: string | null): Promise<number> {
  const swap = join(work, 'swap');
  if (!existsSync(join(swap, 'meta.json'))) {
    await mkdir(join(swap, 'faces'), { recursive: true });
    const held = occ.map((o) => o.frame);
    for (const f of held) await copyFile(join(work, 'align', 'crops', `${pad(faces[(faces.indexOf(f) + Math.floor(faces.length / 2)) % faces.length])}.png`), join(swap, 'faces', `${pad(f)}.png`));
    await writeFile(join(swap, 'meta.json'), JSON.stringify({ kind: 'swap', source: 'stand-in', size: CROP, frames: held }));
  }
  const out = join(work, occl ? 'blend-occl' : 'blend');
  await rm(out, { recursive: true, force: true });
  const r = await runCli(blendCli, 'blend', out, {}, { plate: frames, align, swap, ...(occl ? { occl } : {}) });
  if (r.code !== 0) throw new Error(r.stderr);
  return paintedOver(occ, join(frames, 'frames'), join(out, 'frames'));
}

/** A segmenter run's masks of the occluded frames rewritten through withMargin (uncovered = mask / hull). */
async function marginMasks(occ: PlateOccluder[], seg: string, margin: number, threshold: number): Promise<string> {
  const dir = join(work, `seg-m${margin}-t${threshold}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'masks'), { recursive: true });
  await copyFile(join(seg, 'meta.json'), join(dir, 'meta.json'));
  for (const o of occ) {
    const name = `${pad(o.frame)}.png`;
    const [m, hull] = await Promise.all([readImage(join(seg, 'masks', name), { channels: 1 }), readImage(join(work, 'align', 'masks', name), { channels: 1 })]);
    const u = m.data.map((v, k) => (hull.data[k] > 0 ? Math.min(1, v / hull.data[k]) : 1));
    const safe = withMargin(u, hull.data, m.width, margin, threshold);
    await writePng(join(dir, 'masks', name), { ...m, data: hull.data.map((h, k) => h * safe[k]) });
  }
  return dir;
}

/** Rows for align's mesh masks (mesh oval, mesh minus hands, hull minus hands), each blended and measured. */
async function meshRows(): Promise<{ method: string; iou: number; painted: number; note: string }[]> {
  const out: { method: string; iou: number; painted: number; note: string }[] = [];
  const masks: [string, Record<string, unknown>][] = [['align mask source mesh (face-mesh oval)', { source: 'mesh', hands: false }], ['align mesh minus hands', { source: 'mesh', hands: true }], ['align landmark hull minus hands', { source: 'hull', hands: true }]];
  for (const [k, [method, mask]] of masks.entries()) {
    const m = await meshMasks(frames, align, join(work, `align-mesh-${k}`), occ.map((o) => o.frame), mask);
    out.push({ method, iou: await meanIou(occ, join(m.dir, 'masks')), painted: await blendShare(occ, frames, m.dir, clean.faces, null), note: `hull fallbacks: ${m.fallbacks} frames; hands found: ${m.hands}` });
  }
  return out;
}

const clean = await shot();
// every 4th frame is held out for measuring; every 10th (from the 6th) is offered for labelling, with its own occluder
const held = clean.faces.filter((_, i) => i % 4 === 2);
const offered = clean.faces.filter((_, i) => i % 10 === 5);
const texDir = join(work, 'textures');
if (!existsSync(join(texDir, 'meta.json'))) await ingestClip(footage('congress', 'speaker-1.mp4'), texDir, 1, 24);
const textures = await readTextures(texDir, Array.from({ length: 24 }, (_, i) => i + 1), [], 12, 256);
const prepare = process.argv.includes('--prepare');
const [frames, align] = prepare ? [join(work, 'view-frames'), join(work, 'view-align')] : [join(work, 'occ-frames'), join(work, 'occ-align')];
await Promise.all([frames, align, join(work, 'swap')].map((d) => rm(d, { recursive: true, force: true })));
const all = await occludePlates(clean.frames, clean.align, frames, align, [...held, ...offered].sort((a, b) => a - b), textures, 11);
if (prepare) {
  // the offered frames' crops, for drawing labels on (left in the work folder, never committed)
  console.log(`crops to label: ${offered.map((f) => join(align, 'crops', `${pad(f)}.png`)).join(' ')}`);
  process.exit(0);
}
const occ = all.filter((o) => held.includes(o.frame));
const inputs = { frames, align };
// the raw prediction (no threshold or margin): the margin rows below are drawn from it
const params = { size: SIZE, steps: STEPS, contact: false, margin: 0, threshold: 0 };
const seg = await occlusionRun('seg', inputs, params);
const rows: { method: string; iou: number; painted?: number; note?: string }[] = [];
rows.push({ method: 'landmark hull (align mask)', iou: await meanIou(occ, join(work, 'align', 'masks')), painted: await blendShare(occ, frames, align, clean.faces, null) });
rows.push({ method: 'segmenter, no labels (raw: no threshold or margin)', iou: await meanIou(occ, join(work, 'seg', 'masks')), painted: await blendShare(occ, frames, align, clean.faces, join(work, 'seg')) });
// --margins 0:0.5,2:0.8,...: the segmenter's masks again with a safety margin (crop px) and covered threshold
// (withMargin, as the stage's `margin` and `threshold` params write them), each blended and measured; the
// stage's defaults when not given
const variants = process.argv.includes('--margins') ? process.argv[process.argv.indexOf('--margins') + 1].split(',').map((v) => v.split(':').map(Number)) : [[DEFAULTS.margin, DEFAULTS.threshold]];
for (const [margin, threshold] of variants) {
  const dir = await marginMasks(occ, join(work, 'seg'), margin, threshold);
  rows.push({ method: `segmenter, margin ${margin} px, covered under ${threshold}`, iou: await meanIou(occ, join(dir, 'masks')), painted: await blendShare(occ, frames, align, clean.faces, dir) });
}
if (process.argv.includes('--oracle')) {
  // the ground truth itself as the occlusion stage's masks: what the blend paints over with a perfect segmenter
  const dir = join(work, 'seg-truth');
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'masks'), { recursive: true });
  await copyFile(join(work, 'seg', 'meta.json'), join(dir, 'meta.json'));
  for (const o of occ) await writePng(join(dir, 'masks', `${pad(o.frame)}.png`), { width: CROP, height: CROP, channels: 1, data: o.truth });
  rows.push({ method: 'ground truth as the mask (a perfect segmenter)', iou: 1, painted: await blendShare(occ, frames, align, clean.faces, dir) });
}
if (process.argv.includes('--mesh')) rows.push(...(await meshRows()));
if (existsSync(labelsFile)) {
  const labelled = new Set(Object.keys(parseLabels(await readFile(labelsFile, 'utf8'), labelsFile).frames).map(Number));
  await occlusionRun('seg-labels', inputs, { ...params, labels: 'labels.json' });
  rows.push({ method: `segmenter, ${labelled.size} labelled frames`, iou: await meanIou(occ, join(work, 'seg-labels', 'masks'), labelled), note: 'labelled frames left out of the mean' });
}
const load = loadavg()[0];
console.log(`\n${N} frames of katiehill, ${held.length} occluded, crops ${CROP} px, segmenter ${SIZE} px, ${STEPS} steps, engine ${seg.engine}; load average ${load.toFixed(1)}`);
console.log('| method | held-out IoU | occluder pixels painted over |\n| --- | --- | --- |');
for (const r of rows) console.log(`| ${r.method} | ${r.iou.toFixed(3)} | ${r.painted === undefined ? '-' : `${(100 * r.painted).toFixed(2)}%`} |${r.note ? ` ${r.note}` : ''}`);
console.log(`segmenter training ${seg.trainSeconds} s for ${seg.frames} frames (${STEPS} steps), applying ${seg.applyFps} frames/s (load average ${load.toFixed(1)} on ${(await import('node:os')).cpus().length} cores)`);
await mkdir(join(root, 'bench/results'), { recursive: true });
await writeFile(join(root, 'bench/results/occlusion.json'), JSON.stringify({ frames: N, occluded: held.length, crop: CROP, size: SIZE, steps: STEPS, load, rows, segmenter: seg }, null, 2));
