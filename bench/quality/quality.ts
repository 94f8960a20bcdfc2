/**
 * The method's training improvements, measured on real held-out faces at equal steps: region weights,
 * rare-expression balancing, the detail term, all three together and batch-norm placement, against today's
 * default (the baseline) in the same run, each trained with two seeds. Real footage only (../shared/footage):
 *   - identities: obama (obama-train clips, some clips held out whole), aoc and katie (congress clips, the
 *     start trained, a later part held out with a gap);
 *   - reconstruction: held-out frames of obama (held-out clips) and aoc through their own decoders: SSIM and
 *     PSNR inside the mask (score stage), mouth and eye landmark error (face-api's 68 landmarks read on the
 *     reconstruction and on the plate crop, mean distance in inter-ocular distances), detail ratios;
 *   - cross swap: katie's held-out frames decoded by obama's decoder, blended into katie's plate and scored
 *     (identity retrieval of the source; the delivered-plate figures where the score stage reports them);
 *   - rare expressions: the quarter of held-out frames whose expression (aligned brow, eye and mouth
 *     landmarks, as train's balancing reads them) is farthest from their identity's training mean.
 * Everything runs through the runner in one generated pipeline, so ingest, align and dataset are shared by
 * all variants and cached across runs.
 *
 *   nice -n 10 node --import tsx bench/quality/quality.ts                  (64 px, 300 steps, 2 seeds, 4 runs at once)
 *   node --import tsx bench/quality/quality.ts --steps 30 --variants baseline,all --seeds 1 --out quality-smoke.json   (smoke run)
 *
 * Prints a table and writes bench/results/quality.json (after every variant, so a cut run keeps what it did).
 * Needs a built workspace (npx tsc -b).
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readImage, type Image } from '@facecomb/image';
import { FaceReader } from '@facecomb/score';
import { expressionVector } from '@facecomb/train';
import { qualityTable } from './table.js';

type Point = [number, number];

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '300' },
    res: { type: 'string', default: '64' },
    seeds: { type: 'string', default: '1,2' },
    variants: { type: 'string' },
    cache: { type: 'string', default: join(process.env.TMPDIR ?? '/tmp', 'facecomb-quality') },
    parallel: { type: 'string', default: '4' },
    out: { type: 'string', default: 'quality.json' },
  },
});
const root = fileURLToPath(new URL('../../', import.meta.url));
const footage = join(root, '..', 'shared', 'footage');
if (!existsSync(join(footage, 'congress', 'aoc-a.mp4')) || !existsSync(join(footage, 'obama-train'))) {
  throw new Error(`${footage} (congress/, obama-train/) is missing: the quality bench needs ../shared/footage beside the repository`);
}

const res = Number(values.res);
const steps = Number(values.steps);
const seeds = values.seeds!.split(',').map(Number);
/** Variant name -> train params changed from the baseline (today's defaults). */
const VARIANTS: Record<string, Record<string, unknown>> = {
  baseline: {},
  regions: { regionWeights: { eyes: 2, brows: 1, mouth: 2 } },
  balance: { balance: 8 },
  detail: { loss: { detail: 1 } },
  all: { regionWeights: { eyes: 2, brows: 1, mouth: 2 }, balance: 8, loss: { detail: 1 } },
  'regions-detail': { regionWeights: { eyes: 2, brows: 1, mouth: 2 }, loss: { detail: 1 } },
  'bn-encoder': { batchNorm: 'encoder' },
  'bn-decoder': { batchNorm: 'decoder' },
  'lr1e-3': { lr: 1e-3 },
  'lr2e-3': { lr: 2e-3 },
  bilinear: { upsample: 'bilinear' },
};
const names = values.variants ? values.variants.split(',') : Object.keys(VARIANTS);
for (const n of names) if (!VARIANTS[n]) throw new Error(`--variants: unknown variant '${n}' (known: ${Object.keys(VARIANTS).join(', ')})`);

// obama: every 5th clip (by name) held out whole, 12 of the others trained on
const obamaClips = readdirSync(join(footage, 'obama-train')).filter((f) => f.endsWith('.mp4')).sort();
const obamaHeld = obamaClips.filter((_, i) => i % 20 === 7).slice(0, 2);
const obamaTrain = obamaClips.filter((c) => !obamaHeld.includes(c)).filter((_, i) => i % 4 === 0).slice(0, 12);
// congress people: [identity, clip, training frames, held-out frames]; 20 frames between the two parts
const CONGRESS: [string, string, [number, number], [number, number]][] = [
  ['aoc', 'congress/aoc-a.mp4', [1, 120], [141, 164]],
  ['katie', 'congress/katiehill.mp4', [1, 120], [141, 164]],
];
const face = 2 * res;
const third = Math.round(steps / 3);
const base = {
  resolution: res, startResolution: res / 2, stepsPerFade: third, stepsPerStable: { [res / 2]: third, [res]: steps - 2 * third },
  batch: 8, lr: 5e-4, channels: { 4: 64, 8: 64, 16: 48, 32: 32, 64: 24, 128: 16 }, latent: 128,
  previewEvery: 100000, checkpointEvery: 100000,
};

const y = (v: unknown) => JSON.stringify(v);
const lines: string[] = ['version: 1', 'name: quality', 'stages:'];
const slug = (c: string) => c.replace(/[^A-Za-z0-9]+/g, '-').replace(/-mp4$/, '');
const clipStages = (id: string, clip: string, range?: [number, number]) => {
  lines.push(`  ${id}-frames: { uses: ingest, with: ${y({ src: join(footage, clip), ...(range ? { range } : {}) })} }`);
  lines.push(`  ${id}-align: { uses: align, needs: [${id}-frames], with: { size: ${face} } }`);
};
const obamaTrainIds = obamaTrain.map((c) => `ob-${slug(c)}`);
obamaTrain.forEach((c, i) => clipStages(obamaTrainIds[i], `obama-train/${c}`));
lines.push(`  obama: { uses: dataset, needs: [${obamaTrainIds.map((s) => `${s}-align`).join(', ')}], with: { name: obama, heldout: 0 } }`);
const obamaHeldIds = obamaHeld.map((c) => `obh-${slug(c)}`);
obamaHeld.forEach((c, i) => clipStages(obamaHeldIds[i], `obama-train/${c}`));
for (const [id, clip, train, held] of CONGRESS) {
  clipStages(`${id}-t`, clip, train);
  lines.push(`  ${id}: { uses: dataset, needs: [${id}-t-align], with: { name: ${id} } }`);
  clipStages(`${id}-h`, clip, held);
}
const ids = ['obama', ...CONGRESS.map((p) => p[0])];
/** Held-out reconstructions: [identity, align stage of its held-out frames]. */
const RECON: [string, string][] = [...obamaHeldIds.map((s): [string, string] => ['obama', `${s}-align`]), ['aoc', 'aoc-h-align']];
const runs = names.flatMap((v) => seeds.map((seed) => ({ v, seed, tag: `${v}-s${seed}` })));
const sharedLines = [...lines];
/** The stages of one run (a variant and a seed): train, held-out reconstructions with their scores, the cross swap. */
const runLines = ({ v, seed, tag }: (typeof runs)[number]) => {
  const out = [`  train-${tag}: { uses: train, needs: [${ids.join(', ')}], with: ${y({ ...base, ...VARIANTS[v], seed })} }`];
  RECON.forEach(([id, held], k) => {
    out.push(`  recon-${tag}-${k}: { uses: swap, needs: [train-${tag}, ${held}], with: { source: ${id} } }`);
    out.push(`  recon-${tag}-${k}-score: { uses: score, needs: [recon-${tag}-${k}, ${held}, ${ids.join(', ')}, train-${tag}], with: { reconstruction: true } }`);
  });
  out.push(`  cross-${tag}: { uses: swap, needs: [train-${tag}, katie-h-align], with: { source: obama } }`);
  out.push(`  cross-${tag}-blend: { uses: blend, needs: [katie-h-frames, katie-h-align, cross-${tag}], with: { mode: multiband } }`);
  out.push(`  cross-${tag}-score: { uses: score, needs: [cross-${tag}, cross-${tag}-blend, katie-h-align, ${ids.join(', ')}, train-${tag}] }`);
  return out;
};
// one pipeline of the shared stages (ingest, align, dataset) and one per run; the cache is keyed by content,
// so every run's pipeline finds the shared stages done, and a cut run keeps the runs that finished
const dir = join(values.cache!, 'pipeline');
mkdirSync(dir, { recursive: true });
const sharedFile = join(dir, 'quality-shared.yaml');
writeFileSync(sharedFile, sharedLines.join('\n') + '\n');
const runFile = (tag: string) => join(dir, `quality-${tag}.yaml`);
for (const r of runs) writeFileSync(runFile(r.tag), [...sharedLines, ...runLines(r)].map((l) => l.replace('name: quality', `name: quality-${r.tag}`)).join('\n') + '\n');

const runner = join(root, 'packages', 'runner', 'dist', 'cli.js');
const env = { ...process.env, FACECOMB_CACHE: join(values.cache!, 'cache'), FACECOMB_WORKERS: '1' };
/** Runs a pipeline (one stage at a time), its output in a log beside it. */
const run = async (file: string) => {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [runner, 'run', file, '--backend', 'wasm', '--jobs', '1'], { env, maxBuffer: 1 << 28 }).catch((e: { stdout?: string; stderr?: string; message: string }) => {
    writeFileSync(file.replace(/\.yaml$/, '.log'), `${e.stdout ?? ''}${e.stderr ?? ''}`);
    throw new Error(`${file}: ${e.message.split('\n')[0]} (log: ${file.replace(/\.yaml$/, '.log')})`);
  });
  writeFileSync(file.replace(/\.yaml$/, '.log'), stdout + stderr);
};
const stageOut = (stage: string, showFile = sharedFile): string => {
  const show = JSON.parse(execFileSync(process.execPath, [runner, 'show', showFile, stage, '--json'], { env, encoding: 'utf8' })) as { key: string };
  return join(values.cache!, 'cache', 'cache', show.key, 'out');
};
const readJson = <T>(f: string): T => JSON.parse(readFileSync(f, 'utf8')) as T;

interface FrameScore { frame: number; status: string; ssim?: number; psnr?: number; detailMouth?: [number, number]; detailEyes?: [number, number] }
interface Score { summary: Record<string, number | null>; frames: FrameScore[] }
const score = (stage: string, file: string): Score => {
  const s = readJson<{ figures?: Record<string, number | null>; summary?: Record<string, number | null>; frames: FrameScore[] }>(join(stageOut(stage, file), 'score.json'));
  return { summary: s.summary ?? s.figures ?? {}, frames: s.frames };
};

/** The 68 landmarks of an align stage's frame in its crop (frame landmarks through the crop matrix). */
const cropLandmarks = (alignDir: string, f: number): Point[] | null => {
  const rec = readJson<{ face: null | { landmarks: Point[]; matrix: number[] } }>(join(alignDir, 'faces', `${String(f).padStart(6, '0')}.json`));
  if (!rec.face) return null;
  const m = rec.face.matrix;
  return rec.face.landmarks.map(([x, yy]): Point => [m[0] * x + m[1] * yy + m[2], m[3] * x + m[4] * yy + m[5]]);
};
const dist2 = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0);
const meanVec = (vs: Float64Array[]) => {
  const m = new Float64Array(vs[0].length);
  for (const v of vs) v.forEach((x, i) => (m[i] += x / vs.length));
  return m;
};
const ioDist = (l: Point[]) => {
  const c = (a: number, b: number) => [0, 1].map((d) => l.slice(a, b).reduce((s, p) => s + p[d], 0) / (b - a));
  const [e1, e2] = [c(36, 42), c(42, 48)];
  return Math.hypot(e2[0] - e1[0], e2[1] - e1[1]);
};
/** Mean landmark distance over points [a, b), in inter-ocular distances of the plate's landmarks. */
const partError = (got: Point[], want: Point[], a: number, b: number) => {
  let s = 0;
  for (let k = a; k < b; k++) s += Math.hypot(got[k][0] - want[k][0], got[k][1] - want[k][1]);
  return s / (b - a) / ioDist(want);
};

let reader: FaceReader | null = null;
/** Mouth and eye landmark errors per frame: face-api's landmarks on the swap's face vs on the plate crop. */
async function landmarkErrors(swapDir: string, alignDir: string, frames: number[]): Promise<Map<number, { mouth: number; eyes: number }>> {
  reader ??= await FaceReader.open('wasm');
  const meta = readJson<{ faceType?: string }>(join(alignDir, 'meta.json'));
  const out = new Map<number, { mouth: number; eyes: number }>();
  for (const f of frames) {
    const name = `${String(f).padStart(6, '0')}.png`;
    if (!existsSync(join(swapDir, 'faces', name))) continue;
    const imgs: Image[] = [await readImage(join(swapDir, 'faces', name), { channels: 3 }), await readImage(join(alignDir, 'crops', name), { channels: 3 })];
    const [got, want] = await reader.read(imgs, (meta.faceType ?? 'wholeface') as Parameters<FaceReader['read']>[1]);
    out.set(f, { mouth: partError(got.landmarks as Point[], want.landmarks as Point[], 48, 68), eyes: partError(got.landmarks as Point[], want.landmarks as Point[], 36, 48) });
  }
  return out;
}

const avg = (xs: (number | undefined | null)[]) => {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};
const ratio = (xs: ([number, number] | undefined)[]) => {
  const v = xs.filter((x): x is [number, number] => !!x);
  const a = avg(v.map((x) => x[0])), b = avg(v.map((x) => x[1]));
  return a === null || b === null || !(b > 0) ? null : a / b;
};

/** Which held-out frames are rare: per identity, the quarter farthest from the training frames' mean expression. */
function rareFrames(): Map<string, Set<number>> {
  const rare = new Map<string, Set<number>>();
  const trainMean = new Map<string, Float64Array>();
  for (const id of ids) {
    const items = readJson<{ landmarks?: Point[]; split: string }[]>(join(stageOut(id), 'items.json'));
    trainMean.set(id, meanVec(items.filter((it) => it.split === 'train' && it.landmarks).map((it) => expressionVector(it.landmarks!))));
  }
  RECON.forEach(([id, held], k) => {
    const dirA = stageOut(held);
    const frames = readJson<{ frames: number[] }>(join(dirA, 'meta.json')).frames;
    const d = frames.flatMap((f) => {
      const l = cropLandmarks(dirA, f);
      return l ? [{ f, d: dist2(expressionVector(l), trainMean.get(id)!) }] : [];
    });
    d.sort((a, b) => b.d - a.d);
    rare.set(`${k}`, new Set(d.slice(0, Math.max(1, Math.round(d.length / 4))).map((x) => x.f)));
  });
  return rare;
}

const outDir = join(root, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
const jsonFile = join(outDir, values.out!);
const rows: Record<string, unknown>[] = [];
const save = () => writeFileSync(jsonFile, JSON.stringify({ date: new Date().toISOString(), resolution: res, steps, seeds, base, variants: VARIANTS, obamaTrain, obamaHeld, congress: CONGRESS, rows }, null, 1));

console.log(`quality: ${names.length} variants x ${seeds.length} seeds, ${res} px, ${steps} steps each, ${values.parallel} at once; pipelines and logs in ${dir}`);
await run(sharedFile);
const rare = rareFrames();
/** Runs one variant and seed and reads its figures. */
async function measure({ v, seed, tag }: (typeof runs)[number]): Promise<void> {
  const file = runFile(tag);
  const t0 = Date.now();
  await run(file);
  const per: { ssim?: number; psnr?: number; mouth?: number; eyes?: number; rare: boolean; detailMouth?: [number, number]; detailEyes?: [number, number] }[] = [];
  for (const [k, [, held]] of RECON.entries()) {
    const s = score(`recon-${tag}-${k}-score`, file);
    const scored = s.frames.filter((f) => f.status === 'scored');
    const lm = await landmarkErrors(stageOut(`recon-${tag}-${k}`, file), stageOut(held), scored.map((f) => f.frame));
    for (const f of scored) per.push({ ssim: f.ssim, psnr: f.psnr, mouth: lm.get(f.frame)?.mouth, eyes: lm.get(f.frame)?.eyes, rare: rare.get(`${k}`)!.has(f.frame), detailMouth: f.detailMouth, detailEyes: f.detailEyes });
  }
  const pick = (sel: typeof per) => ({
    ssim: avg(sel.map((p) => p.ssim)), psnr: avg(sel.map((p) => p.psnr)), mouthError: avg(sel.map((p) => p.mouth)), eyeError: avg(sel.map((p) => p.eyes)),
    detailMouth: ratio(sel.map((p) => p.detailMouth)), detailEyes: ratio(sel.map((p) => p.detailEyes)), frames: sel.length,
  });
  const cross = score(`cross-${tag}-score`, file);
  const crossFrames = cross.frames.filter((f) => f.status === 'scored').map((f) => f.frame);
  const crossLm = await landmarkErrors(stageOut(`cross-${tag}`, file), stageOut('katie-h-align'), crossFrames);
  const train = JSON.parse(execFileSync(process.execPath, [runner, 'show', file, `train-${tag}`, '--json'], { env, encoding: 'utf8' })) as { start?: string; end?: string };
  rows.push({
    variant: v, seed, params: VARIANTS[v], trainSeconds: train.start && train.end ? (Date.parse(train.end) - Date.parse(train.start)) / 1000 : null,
    heldout: pick(per), rare: pick(per.filter((p) => p.rare)), common: pick(per.filter((p) => !p.rare)),
    cross: { ...cross.summary, mouthError: avg([...crossLm.values()].map((x) => x.mouth)), eyeError: avg([...crossLm.values()].map((x) => x.eyes)) },
  });
  save();
  console.log(`${tag} (${((Date.now() - t0) / 60000).toFixed(1)} min): ${JSON.stringify(rows[rows.length - 1])}`);
}
// seeds first: every variant's first seed before any second seed, so a cut run still compares them all
const queue = [...runs].sort((a, b) => a.seed - b.seed);
await Promise.all(Array.from({ length: Number(values.parallel) }, async () => {
  for (let r = queue.shift(); r; r = queue.shift()) await measure(r).catch((e: Error) => console.error(`${r!.tag}: ${e.message}; skipped`));
}));

const table = qualityTable(rows, names);
console.log('\n' + table);
writeFileSync(jsonFile.replace(/\.json$/, '.md'), table + '\n');
console.log(`wrote ${jsonFile} and the table beside it`);
