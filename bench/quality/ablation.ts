/**
 * The seed's training improvements, measured: batch norm none / encoder / decoder / both, and the loss
 * variants (SSIM vs MS-SSIM, the L1 weight), each trained with the same steps and seed on the same crops of
 * ../shared/footage, then scored by the `score` stage on held-out frames of the same people:
 *   - reconstruction: aoc's held-out frames through her own decoder (SSIM, PSNR inside the mask);
 *   - identity: aoc's held-out frames through katie's decoder (retrieval of katie, distances).
 * Each person's clip is cut in two: training frames from its start, held-out frames from its end, with a
 * gap between them. Everything runs through the runner in one generated pipeline, so the ingest, align and
 * dataset stages are shared by all variants and cached across runs.
 *
 *   nice -n 10 node --import tsx bench/quality/ablation.ts                 (32 px, 240 steps per variant)
 *   node --import tsx bench/quality/ablation.ts --steps 120 --variants none,decoder --cache /tmp/ablation
 *
 * Prints a table and writes bench/results/ablation.json. Needs a built workspace (npx tsc -b).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '240' },
    res: { type: 'string', default: '32' },
    variants: { type: 'string' },
    cache: { type: 'string', default: join(process.env.TMPDIR ?? '/tmp', 'facecomb-ablation') },
    workers: { type: 'string' },
  },
});
const root = fileURLToPath(new URL('../../', import.meta.url));
const footage = join(root, '..', 'shared', 'footage');
if (!existsSync(join(footage, 'congress', 'aoc-a.mp4'))) throw new Error(`${footage}/congress/aoc-a.mp4 is missing: the ablation needs ../shared/footage beside the repository`);

const res = Number(values.res);
const steps = Number(values.steps);
/** Variant name -> train params changed from the baseline (batch norm none, SSIM 1 + L1 1). */
const VARIANTS: Record<string, Record<string, unknown>> = {
  none: { batchNorm: 'none' },
  encoder: { batchNorm: 'encoder' },
  decoder: { batchNorm: 'decoder' },
  both: { batchNorm: 'both' },
  msssim: { batchNorm: 'none', loss: { ssim: 1, l1: 1, msssim: 16 } },
  'l1-0': { batchNorm: 'none', loss: { ssim: 1, l1: 0, msssim: false } },
  'l1-3': { batchNorm: 'none', loss: { ssim: 1, l1: 3, msssim: false } },
};
const names = values.variants ? values.variants.split(',') : Object.keys(VARIANTS);
for (const n of names) if (!VARIANTS[n]) throw new Error(`--variants: unknown variant '${n}' (known: ${Object.keys(VARIANTS).join(', ')})`);

// people: [identity, clip, training frames, held-out frames]; 10 frames between the two parts
const PEOPLE: [string, string, [number, number], [number, number]][] = [
  ['aoc', 'congress/aoc-a.mp4', [1, 80], [91, 110]],
  ['katie', 'congress/katiehill.mp4', [1, 80], [91, 110]],
  ['speaker1', 'congress/speaker-1.mp4', [1, 80], [91, 110]],
];
const face = 2 * res;
const fade = Math.round(steps / 6);
const base = {
  resolution: res, startResolution: res / 2, stepsPerFade: fade, stepsPerStable: { [res / 2]: Math.round(steps / 3), [res]: steps - fade - Math.round(steps / 3) },
  batch: 8, lr: 5e-4, channels: { 4: 64, 8: 64, 16: 48, 32: 32, 64: 24 }, latent: 128, augment: { rotate: 3, scale: 0.04, shift: 0.03, flip: true, colour: 0.05 },
  previewEvery: 100000, checkpointEvery: 100000, seed: 3,
};

const y = (v: unknown) => JSON.stringify(v);
const lines: string[] = ['version: 1', 'name: ablation', 'stages:'];
for (const [id, clip, train, held] of PEOPLE) {
  const src = join(footage, clip);
  lines.push(`  ${id}-frames: { uses: ingest, with: { src: ${y(src)}, range: ${y(train)} } }`);
  lines.push(`  ${id}-faces: { uses: align, needs: [${id}-frames], with: { size: ${face} } }`);
  lines.push(`  ${id}: { uses: dataset, needs: [${id}-faces], with: { name: ${id} } }`);
  lines.push(`  ${id}-held-frames: { uses: ingest, with: { src: ${y(src)}, range: ${y(held)} } }`);
  lines.push(`  ${id}-held: { uses: align, needs: [${id}-held-frames], with: { size: ${face} } }`);
}
const ids = PEOPLE.map((p) => p[0]);
for (const v of names) {
  lines.push(`  train-${v}: { uses: train, needs: [${ids.join(', ')}], with: ${y({ ...base, ...VARIANTS[v] })} }`);
  lines.push(`  recon-${v}: { uses: swap, needs: [train-${v}, aoc-held], with: { source: aoc } }`);
  lines.push(`  recon-${v}-score: { uses: score, needs: [recon-${v}, aoc-held, ${ids.join(', ')}, train-${v}], with: { reconstruction: true } }`);
  lines.push(`  swap-${v}: { uses: swap, needs: [train-${v}, aoc-held], with: { source: katie } }`);
  lines.push(`  swap-${v}-score: { uses: score, needs: [swap-${v}, aoc-held, ${ids.join(', ')}, train-${v}], with: { target: aoc } }`);
}
const dir = join(values.cache!, 'pipeline');
mkdirSync(dir, { recursive: true });
const file = join(dir, 'ablation.yaml');
writeFileSync(file, lines.join('\n') + '\n');

const runner = join(root, 'packages', 'runner', 'dist', 'cli.js');
const env = { ...process.env, FACECOMB_CACHE: join(values.cache!, 'cache'), ...(values.workers ? { FACECOMB_WORKERS: values.workers } : {}) };
console.log(`ablation: ${names.length} variants, ${res} px, ${steps} steps each; pipeline ${file}`);
execFileSync(process.execPath, [runner, 'run', file, '--backend', 'wasm', '--jobs', '1'], { stdio: 'inherit', env });

const score = (stage: string): Record<string, number | null> => {
  const show = JSON.parse(execFileSync(process.execPath, [runner, 'show', file, stage, '--json'], { env, encoding: 'utf8' })) as { key: string };
  return (JSON.parse(readFileSync(join(values.cache!, 'cache', 'cache', show.key, 'out', 'score.json'), 'utf8')) as { summary: Record<string, number | null> }).summary;
};
const trainInfo = (stage: string): { loss: number; seconds: number } => {
  const show = JSON.parse(execFileSync(process.execPath, [runner, 'show', file, stage, '--json'], { env, encoding: 'utf8' })) as { key: string; start?: string; end?: string; summary?: { losses?: Record<string, number> } };
  const losses = Object.values(show.summary?.losses ?? {});
  return { loss: losses.reduce((a, b) => a + b, 0) / Math.max(1, losses.length), seconds: show.start && show.end ? (Date.parse(show.end) - Date.parse(show.start)) / 1000 : NaN };
};
const f = (v: number | null | undefined, d = 3) => (v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d));
const rows = names.map((v) => {
  const r = score(`recon-${v}-score`);
  const s = score(`swap-${v}-score`);
  const t = trainInfo(`train-${v}`);
  return {
    variant: v, params: VARIANTS[v], trainLoss: t.loss, trainSeconds: t.seconds,
    heldoutSsim: r.ssim, heldoutPsnr: r.psnr, identityRetrieval: s.identityRetrieval, distSource: s.distSource, distTarget: s.distTarget,
    landmarkError: s.landmarkError, expressionL1: s.expressionL1, detailMouth: s.detailMouth, detailEyes: s.detailEyes, detectability: s.detectability,
  };
});
console.log(`\n| variant | train loss (its own loss) | held-out SSIM | held-out PSNR | identity retrieval | dist to source | dist to target | landmark error | expression L1 | detail mouth | detail eyes | detected |`);
console.log(`| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
for (const r of rows) {
  console.log(`| ${r.variant} | ${f(r.trainLoss, 4)} | ${f(r.heldoutSsim)} | ${f(r.heldoutPsnr, 2)} | ${f(r.identityRetrieval, 2)} | ${f(r.distSource)} | ${f(r.distTarget)} | ${f(r.landmarkError)} | ${f(r.expressionL1)} | ${f(r.detailMouth, 4)} | ${f(r.detailEyes, 4)} | ${f(r.detectability, 2)} |`);
}
const outDir = join(root, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'ablation.json'), JSON.stringify({ date: new Date().toISOString(), resolution: res, steps, base, people: PEOPLE, rows }, null, 1));
console.log(`wrote ${join(outDir, 'ablation.json')}`);
