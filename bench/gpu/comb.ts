/**
 * Training-step profile and speed of the comb model (packages/train) on the webgpu engine, per variant in the same run:
 *   tfjs     tfjs-backend-webgpu's own conv kernels, Adam from tf ops, trainStep reading the loss every step
 *   ours     our WGSL conv kernels, fused Adam and loss, the lean step reading the losses once per measured run
 *   smx      ours + the forward conv on tensor cores (subgroup matrices; validated first, skipped with the reason)
 *   smx-all  ours + all three conv GEMMs on subgroup matrices
 *   f16      ours with the conv kernels in f16 and dynamic loss scaling (the train param precision f16); only where
 *            the adapter offers shader-f16 (NVIDIA: FACECOMB_DAWN_FEATURES=vulkan_enable_f16_on_nvidia), else skipped
 * (more variants: VARIANTS below; e.g. an f16 one sets its train params in `config`.)
 * Per step: dispatches, submits (command buffers), GPU->CPU reads, MB of buffers acquired / newly created, wall
 * time, img/s; with profiling, the GPU time of every kernel of one step (timestamp queries, Dawn's timestamp
 * quantization disabled) and the time outside kernels (wall - sum of kernel times).
 *
 *   node --import tsx bench/gpu/comb.ts [--sizes 64] [--batch 4] [--scale 0.125] [--steps 3] [--kernels ours,tfjs]
 *        [--no-profile] [--backend webgpu] [--reference torch.txt] [--budget-s 30] [--deadline-s 0] [--tiny]
 *        [--fusion prologue] [--alpha 1]
 * --fusion: the model's conv + bias + LeakyReLU (conv2dLeakyRelu of @facecomb/engine), one row per value and variant
 * (repeats allowed, to see the noise): off (conv + bias, then tf.leakyRelu), forward (one forward kernel, backward
 * from tf ops), grad (the derivative in one pass of ours), prologue (default: the derivative fused into the loads of
 * the gradient kernels); see src/ops/conv2d-leaky-relu.ts of the engine. --alpha 0.5: steps mid fade-in (default 1: a stable level).
 *        [--loss 64,128,256]           also the fused-loss benchmark (bench/engine/ssim-loss-bench.ts), batch 4
 *   node --import tsx bench/gpu/comb.ts --results DIR      RESULTS.md (markdown) from what run.sh left in DIR
 * --reference: the output of ../shared/bench/comb_reference.py from the same machine; adds img/s ratios to PyTorch.
 * --scale multiplies the reference channels (512 at 4..32 px, 256 at 64, ... 16 at 1024): lavapipe needs a small
 * model (0.125: a step at 64 px in seconds), a GPU runs 1. --tiny: lavapipe-sized everything (scale 1/16, batch 2,
 * 1 step; sizes as given). --budget-s: time for one (size, variant) row, compile and warm-up included (fewer
 * measured steps when short); --deadline-s: rows starting later are skipped (marked "out of time").
 * Writes bench/results/comb-<backend>.json (or $OUT/comb-<backend>.json when OUT is set) after every row.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  tf, initEngine, useWebgpuKernels, webgpuOwnDispatches, initSubgroupMatrix, disableSubgroupMatrix, subgroupMatrixDispatches,
  setWebgpuPrecision, webgpuHasF16, LossScaler, setConvActFusion, setFlag,
  type BackendRequest, type SmxKind, type SmxStatus, type ConvActFusion,
} from '@facecomb/engine';
import { readFileSync } from 'node:fs';
// From the sources, not the package index: that pulls in the image codec (sharp, native), which cannot be
// bundled for the GPU machine.
import { CombModel } from '../../packages/train/src/model.js';
import { Adam } from '../../packages/train/src/adam.js';
import { resolveConfig, DEFAULT_CHANNELS } from '../../packages/train/src/config.js';
import { leanTrainStep, readLosses } from '../../packages/train/src/lean.js';
import type { Batch } from '../../packages/train/src/data.js';
import { benchLoss, lossTable, type LossRow } from '../engine/ssim-loss-bench.js';
import { counterTable, parseTorch, profileTables, resultsMarkdown, speedTable, type CombRow } from './results.js';

const argv = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
if (argv.includes('--results')) {
  process.stdout.write(resultsMarkdown(opt('results', '.')));
  process.exit(0);
}

/** A variant: our kernels on or off, the lean step, optional set-up (a reason to skip when it fails), train params. */
interface Variant {
  ours: boolean;
  setup?: () => Promise<{ skip?: string; info?: unknown }>;
  teardown?: () => void;
  /** Extra train params for resolveConfig (e.g. a precision). */
  config?: Record<string, unknown>;
  /** f16 conv kernels: the step scales its loss through a LossScaler, as the trainer does with precision f16. */
  f16?: boolean;
}
const smx = (kinds: SmxKind[]): Variant => ({
  ours: true,
  setup: async () => {
    const s: SmxStatus = await initSubgroupMatrix({ kinds, log: (m) => console.log(`[engine] ${m}`) });
    return { skip: s.on ? undefined : s.reason, info: s };
  },
  teardown: () => disableSubgroupMatrix(),
});
const VARIANTS: Record<string, Variant> = {
  tfjs: { ours: false },
  ours: { ours: true },
  smx: smx(['convfwd']),
  'smx-all': smx(['convfwd', 'convdx', 'convdw']),
  f16: {
    ours: true,
    f16: true,
    setup: async () => {
      if (!webgpuHasF16()) return { skip: 'the adapter offers no shader-f16 (NVIDIA: FACECOMB_DAWN_FEATURES=vulkan_enable_f16_on_nvidia)' };
      setWebgpuPrecision('f16');
      return {};
    },
    teardown: () => setWebgpuPrecision('f32'),
  },
};

const tiny = argv.includes('--tiny');
const sizes = opt('sizes', tiny ? '16,32' : '64').split(',').map(Number);
const scale = Number(opt('scale', tiny ? '0.0625' : '0.125'));
const steps = Number(opt('steps', tiny ? '1' : '3'));
const backendName = opt('backend', 'webgpu') as BackendRequest;
const variants = opt('kernels', 'tfjs,ours').split(',');
const fusions = opt('fusion', 'prologue').split(',') as ConvActFusion[];
/** < 1: every step is mid fade-in of its level (the r/2 fromRGB/toRGB branch and the two blends run too). */
const fadeAlpha = Number(opt('alpha', '1'));
for (const v of variants) if (!VARIANTS[v]) throw new Error(`--kernels: unknown variant '${v}' (known: ${Object.keys(VARIANTS).join(', ')})`);
const profile = !argv.includes('--no-profile');
const batchArg = opt('batch', tiny ? '2' : '');
const budgetMs = Number(opt('budget-s', '30')) * 1000;
const deadlineMs = Number(opt('deadline-s', '0')) * 1000;
const lossSizes = opt('loss', '');
const started = performance.now();

// Dawn rounds timestamps to 64 us unless told otherwise; the engine uses navigator.gpu when it is already set.
if (backendName === 'webgpu' && !(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu) {
  const webgpu = (await import('webgpu')) as unknown as { create(o: string[]): unknown; globals: Record<string, unknown> };
  Object.assign(globalThis, webgpu.globals);
  const features = ['timestamp_quantization'];
  const extra = process.env.FACECOMB_DAWN_FEATURES ? [`enable-dawn-features=${process.env.FACECOMB_DAWN_FEATURES}`] : [];
  const gpu = webgpu.create([`disable-dawn-features=${features.join(',')}`, ...extra]);
  if (!(globalThis as { navigator?: unknown }).navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, writable: true, configurable: true });
  (globalThis as unknown as { navigator: { gpu: unknown } }).navigator.gpu = gpu;
}
const engine = await initEngine({ backend: backendName, log: (m) => console.log(`[engine] ${m}`) });
const isWebgpu = engine.name === 'webgpu';

/** Counters wrapped around the webgpu backend's entry points. */
const count = { dispatches: 0, submits: 0, reads: 0, acquiredBytes: 0 };
/** Dispatches so far: tfjs programs (counted below) plus our own (fused Adam, loss scaling) and subgroup-matrix GEMMs', which bypass runWebGPUProgram. */
const dispatches = () => count.dispatches + webgpuOwnDispatches() + subgroupMatrixDispatches();
interface WebgpuInternals {
  runWebGPUProgram: (...a: unknown[]) => unknown;
  submitQueue: () => void;
  getBufferData: (...a: unknown[]) => Promise<unknown>;
  bufferManager: { acquireBuffer: (size: number, ...a: unknown[]) => unknown; numBytesAllocated: number };
}
const be = tf.backend() as unknown as WebgpuInternals;
if (isWebgpu) {
  const run = be.runWebGPUProgram.bind(be);
  be.runWebGPUProgram = (...a) => { count.dispatches++; return run(...a); };
  const submit = be.submitQueue.bind(be);
  be.submitQueue = () => { count.submits++; submit(); };
  const read = be.getBufferData.bind(be);
  be.getBufferData = (...a) => { count.reads++; return read(...a); };
  const acquire = be.bufferManager.acquireBuffer.bind(be.bufferManager);
  be.bufferManager.acquireBuffer = (size, ...a) => { count.acquiredBytes += size; return acquire(size, ...a); };
}
const allocated = () => (isWebgpu ? be.bufferManager.numBytesAllocated : tf.memory().numBytes);

/** trainStep of trainer.ts: the lean step, then the loss read back at once. */
async function trainStep(model: CombModel, adam: Adam, b: Batch, scaler?: LossScaler): Promise<number> {
  return (await readLosses([leanTrainStep(model, adam, b, scaler)]))[0];
}

function batchOf(r: number, b: number, identity: number, seed: number): Batch {
  const x = new Float32Array(b * r * r * 3);
  let s = seed >>> 0;
  for (let i = 0; i < x.length; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; x[i] = s / 4294967296; }
  return { step: seed, identity, resolution: r, alpha: fadeAlpha, size: b, x, m: new Float32Array(b * r * r).fill(1) };
}

const dir = process.env.OUT ? `${process.env.OUT}/` : fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(dir, { recursive: true });
const torch = opt('reference', '') ? parseTorch(readFileSync(opt('reference', ''), 'utf8')) : [];
const results: CombRow[] = [];
let lossRows: LossRow[] = [];
/** Written after every row, so a run cut short still leaves what it measured. */
function save(): void {
  writeFileSync(`${dir}comb-${engine.name}.json`, JSON.stringify({ date: new Date().toISOString(), adapter: engine.details.adapter, results, torch }, null, 2));
  if (lossRows.length) writeFileSync(`${dir}ssim-loss.json`, JSON.stringify({ date: new Date().toISOString(), adapter: engine.details.adapter, rows: lossRows }, null, 2));
}

if (lossSizes && isWebgpu) {
  // first: short on a GPU, and the training rows after it are the ones a deadline cuts
  lossRows = await benchLoss(lossSizes.split(',').map(Number), 4, tiny ? 300 : 1500, (row) => { lossRows.push(row); save(); });
  console.log('\nmasked SSIM + L1 loss and gradient: fused vs composed tf ops (ratio: composed / fused)');
  for (const line of lossTable(lossRows)) console.log(line);
}


for (const r of sizes) {
  const batch = Number(batchArg || ({ 64: 4, 128: 8, 256: 8, 512: 4, 1024: 2 } as Record<number, number>)[r] || 4);
  const channels = Object.fromEntries(Object.entries(DEFAULT_CHANNELS).map(([k, v]) => [k, Math.max(4, Math.round(v * scale))]));
  for (const [v, fusion] of variants.flatMap((v) => fusions.map((fu) => [v, fu] as const))) {
    // with several fusion modes a row is named by both
    const base = { resolution: r, batch, scale, kernels: fusions.length > 1 ? `${v}/${fusion}` : v, fusion } as CombRow;
    if (deadlineMs && performance.now() - started > deadlineMs) {
      results.push({ ...base, skipped: 'out of time' });
      save();
      continue;
    }
    const variant = VARIANTS[v];
    if (isWebgpu) useWebgpuKernels(variant.ours);
    setConvActFusion(fusion);
    setFlag('fadeBlend', fusion !== 'off'); // 'off' is the model before both fusions
    const set = isWebgpu && variant.setup ? await variant.setup() : {};
    if (set.skip) {
      results.push({ ...base, skipped: set.skip, smx: set.info });
      save();
      continue;
    }
    const cfg = resolveConfig({
      resolution: r, startResolution: fadeAlpha < 1 ? r / 2 : r, batch: { [r]: batch }, channels, latent: Math.max(16, Math.round(512 * scale)),
      loss: { ssim: 1, l1: 1, msssim: false, window: 7 }, augment: false, ...variant.config,
    }, ['a', 'b', 'c']);
    const t0row = performance.now();
    const model = new CombModel(cfg);
    model.build(r);
    const adam = new Adam(cfg.optim);
    const scaler = variant.f16 ? new LossScaler() : undefined;
    const lean = isWebgpu && variant.ours;
    // compile + warm: the first step compiles; a second one only when it fits the budget
    await trainStep(model, adam, batchOf(r, batch, 0, 1), scaler);
    let t = performance.now();
    if (t - t0row < budgetMs / 3) { await trainStep(model, adam, batchOf(r, batch, 1, 2), scaler); }
    const est = performance.now() - t;
    const n = Math.max(1, Math.min(steps, Math.floor((budgetMs - (performance.now() - t0row)) / Math.max(est, 1) / (profile ? 2 : 1))));
    const data = Array.from({ length: n }, (_, i) => batchOf(r, batch, i % 3, i + 10));
    const c0 = { ...count }, a0 = allocated(), d0 = dispatches();
    t = performance.now();
    let losses: number[] = [];
    // the lean steps are recorded before any await: the time until they return is the CPU (JS) cost of recording
    // them (tfjs's op dispatch, bind groups, encoding), the GPU work running on its own
    let recordMs: number | undefined;
    if (lean) {
      const pending = data.map((b) => leanTrainStep(model, adam, b, scaler));
      recordMs = (performance.now() - t) / n;
      losses = await readLosses(pending);
    } else for (const b of data) losses.push(await trainStep(model, adam, b, scaler));
    const wallMs = (performance.now() - t) / n;
    const per = (k: keyof typeof count) => (count[k] - c0[k]) / n;
    const row: CombRow = {
      ...base, step: lean ? 'lean' : 'trainStep', steps: n, msPerStep: wallMs, imgPerSec: (batch * 1000) / wallMs,
      dispatchesPerStep: (dispatches() - d0) / n, submitsPerStep: per('submits'), readsPerStep: per('reads'),
      acquiredMBPerStep: per('acquiredBytes') / 2 ** 20, newBuffersMBPerStep: (allocated() - a0) / n / 2 ** 20, losses, recordMsPerStep: recordMs,
      ...(set.info ? { smx: set.info } : {}),
    };
    // one more lean step recorded with the GPU idle (the n above overlap with the GPU working on the earlier ones)
    if (lean) {
      const t1 = performance.now();
      const pending = leanTrainStep(model, adam, batchOf(r, batch, 0, 50), scaler);
      row.recordIdleMs = performance.now() - t1;
      await readLosses([pending]);
    }
    if (profile && isWebgpu) {
      const info = await tf.profile(async () => { await trainStep(model, adam, batchOf(r, batch, 0, 99), scaler); });
      const byKernel = new Map<string, { n: number; ms: number }>();
      let kernelMs = 0;
      for (const k of info.kernels) {
        // a custom-gradient op (fused loss, conv + LeakyReLU) is profiled as its scope too, around its kernels
        if (!tf.getKernel(k.name, tf.getBackend())) continue;
        const ms = Number(await k.kernelTimeMs) || 0;
        kernelMs += ms;
        const e = byKernel.get(k.name) ?? { n: 0, ms: 0 };
        e.n++;
        e.ms += ms;
        byKernel.set(k.name, e);
      }
      row.kernelMs = kernelMs;
      row.outsideKernelsMs = wallMs - kernelMs;
      row.kernels_ = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms).map(([name, e]) => ({ name, calls: e.n, ms: e.ms }));
    }
    if (scaler) row.lossScale = await scaler.read();
    results.push(row);
    save();
    model.dispose();
    adam.dispose();
    scaler?.dispose();
    variant.teardown?.();
    console.log(`[bench] ${r} px ${base.kernels}: ${row.imgPerSec.toFixed(2)} img/s (${n} steps, row ${((performance.now() - t0row) / 1000).toFixed(1)} s)`);
  }
}
if (isWebgpu) useWebgpuKernels(true);
setConvActFusion('prologue');
setFlag('fadeBlend', true);

console.log(`\ncomb model training step on ${engine.name} (${String(engine.details.adapter ?? engine.why)}), channels x${scale}`);
for (const line of counterTable(results)) console.log(line);
for (const x of results.filter((y) => y.skipped)) console.log(`${x.resolution} px ${x.kernels}: skipped (${x.skipped})`);
for (const line of profileTables(results, 12)) console.log(line);
const base = results.find((x) => x.kernels === 'tfjs' && !x.skipped);
for (const x of results.filter((y) => y.kernels !== 'tfjs' && !y.skipped)) {
  const b = results.find((y) => y.kernels === 'tfjs' && y.resolution === x.resolution && !y.skipped) ?? base;
  if (b) console.log(`${x.resolution} px: ${x.kernels} ${(b.msPerStep / x.msPerStep).toFixed(2)}x the step speed of tfjs's kernels`);
}
// what the conv + LeakyReLU fusion saves against the unfused model, same kernels, same run
// (against the nearest 'off' row before it, else the first: with repeated modes, e.g. off,prologue,off,prologue)
for (const [i, x] of results.entries()) {
  if (x.fusion === 'off' || x.skipped) continue;
  const same = (y: CombRow) => y.fusion === 'off' && !y.skipped && y.kernels.split('/')[0] === x.kernels.split('/')[0] && y.resolution === x.resolution;
  const b = results.slice(0, i).reverse().find(same) ?? results.find(same);
  if (!b) continue;
  const ratio = (k: 'msPerStep' | 'kernelMs' | 'acquiredMBPerStep') => (x[k] && b[k] ? ((b[k] as number) / (x[k] as number)).toFixed(2) : '-');
  console.log(`${x.resolution} px, ${x.kernels} vs off: dispatches ${b.dispatchesPerStep.toFixed(0)} -> ${x.dispatchesPerStep.toFixed(0)}, `
    + `step ${ratio('msPerStep')}x faster, GPU kernel time ${ratio('kernelMs')}x less, MB acquired ${ratio('acquiredMBPerStep')}x less`);
}
if (torch.length) {
  console.log(`\nimg/s against PyTorch (${opt('reference', '')}), same machine:`);
  for (const line of speedTable(results, torch)) console.log(line);
}
save();
console.log(`wrote ${dir}comb-${engine.name}.json${lossRows.length ? ' and ssim-loss.json' : ''}`);
