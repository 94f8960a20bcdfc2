/**
 * Training-step profile and speed of the comb model (packages/train) on the webgpu engine, before ("tfjs":
 * tfjs-backend-webgpu's own conv kernels, Adam from tf ops, trainStep reading the loss every step) and after
 * ("ours": our WGSL conv kernels, fused Adam, the lean step reading the losses once per measured run) and "f16" (ours
 * with the conv kernels in f16 and dynamic loss scaling, as the train param precision f16; only where the adapter
 * offers shader-f16, on NVIDIA with FACECOMB_DAWN_FEATURES=allow_unsafe_apis,vulkan_enable_f16_on_nvidia) in the same run:
 *   per-kernel GPU time of one step (timestamp queries, Dawn's timestamp quantization disabled), dispatches,
 *   submits (command buffers), GPU->CPU reads and bytes of buffers acquired / newly created per step, wall time
 *   per step, img/s, and the time outside kernels (wall - sum of kernel times).
 *
 *   node --import tsx bench/gpu/comb.ts [--sizes 64] [--batch 4] [--scale 0.125] [--steps 3] [--kernels ours,f16,tfjs]
 *                                       [--fusion prologue] [--alpha 1] [--no-profile] [--backend webgpu] [--reference torch.txt]
 * --alpha 0.5: steps mid fade-in (default 1: a stable level).
 * --fusion: the model's conv + bias + LeakyReLU (conv2dLeakyRelu of @facecomb/engine), one row per value (repeats
 * allowed, to see the noise) for each kernel set: off (conv + bias, then tf.leakyRelu), forward (one forward
 * kernel, backward from tf ops), grad (the derivative in one pass of ours), prologue (default: the derivative
 * fused into the loads of the gradient kernels); see src/conv-act.ts of the engine.
 * --reference: the output of ../shared/bench/comb_reference.py from the same machine; adds img/s ratios to PyTorch.
 * --scale multiplies the reference channels (512 at 4..32 px, 256 at 64, ... 16 at 1024): lavapipe needs a
 * small model (0.125: a step at 64 px in seconds), a GPU runs 1. Prints tables, writes bench/results/comb-<backend>.json
 * (or $OUT/comb-<backend>.json when OUT is set, as on the GPU machine).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tf, initEngine, useWebgpuKernels, webgpuOwnDispatches, setWebgpuPrecision, webgpuHasF16, LossScaler, setConvActFusion, type BackendRequest, type ConvActFusion } from '@facecomb/engine';
import { readFileSync } from 'node:fs';
// From the sources, not the package index: that pulls in the image codec (sharp, native), which cannot be
// bundled for the GPU machine.
import { CombModel } from '../../packages/train/src/model.js';
import { Adam } from '../../packages/train/src/adam.js';
import { resolveConfig, DEFAULT_CHANNELS } from '../../packages/train/src/config.js';
import { leanTrainStep, readLosses } from '../../packages/train/src/lean.js';
import type { Batch } from '../../packages/train/src/data.js';

/** trainStep of trainer.ts: the lean step, then the loss read back at once. */
async function trainStep(model: CombModel, adam: Adam, b: Batch, scaler?: LossScaler): Promise<number> {
  return (await readLosses([leanTrainStep(model, adam, b, scaler)]))[0];
}

const argv = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
const sizes = opt('sizes', '64').split(',').map(Number);
const scale = Number(opt('scale', '0.125'));
const steps = Number(opt('steps', '3'));
const backendName = opt('backend', 'webgpu') as BackendRequest;
const kernelSets = opt('kernels', 'tfjs,ours,f16').split(',') as ('tfjs' | 'ours' | 'f16')[];
const fusions = opt('fusion', 'prologue').split(',') as ConvActFusion[];
let variants = kernelSets.flatMap((kernels) => fusions.map((fusion) => ({ kernels, fusion })));
const profile = !argv.includes('--no-profile');
const batchArg = opt('batch', '');
/** < 1: every step is mid fade-in of its level (the r/2 fromRGB/toRGB branch and the two blends run too). */
const fadeAlpha = Number(opt('alpha', '1'));

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
if (variants.some((v) => v.kernels === 'f16') && !webgpuHasF16()) {
  console.log(`[bench] no f16 row: ${isWebgpu ? 'the adapter does not offer shader-f16 (NVIDIA: FACECOMB_DAWN_FEATURES=allow_unsafe_apis,vulkan_enable_f16_on_nvidia)' : `the ${engine.name} engine`}`);
  variants = variants.filter((v) => v.kernels !== 'f16');
}

/** Counters wrapped around the webgpu backend's entry points. */
const count = { dispatches: 0, submits: 0, reads: 0, acquiredBytes: 0 };
/** Dispatches so far: tfjs programs (counted below) plus our own (fused Adam, loss scaling), which bypass runWebGPUProgram. */
const dispatches = () => count.dispatches + webgpuOwnDispatches();
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

function batchOf(r: number, b: number, identity: number, seed: number): Batch {
  const x = new Float32Array(b * r * r * 3);
  let s = seed >>> 0;
  for (let i = 0; i < x.length; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; x[i] = s / 4294967296; }
  return { step: seed, identity, resolution: r, alpha: fadeAlpha, size: b, x, m: new Float32Array(b * r * r).fill(1) };
}

const results: Record<string, unknown>[] = [];
for (const r of sizes) {
  const batch = Number(batchArg || ({ 64: 4, 128: 8, 256: 8, 512: 4, 1024: 2 } as Record<number, number>)[r] || 4);
  const channels = Object.fromEntries(Object.entries(DEFAULT_CHANNELS).map(([k, v]) => [k, Math.max(4, Math.round(v * scale))]));
  const cfg = resolveConfig({
    resolution: r, startResolution: fadeAlpha < 1 ? r / 2 : r, batch: { [r]: batch }, channels, latent: Math.max(16, Math.round(512 * scale)),
    loss: { ssim: 1, l1: 1, msssim: false, window: 7 }, augment: false,
  }, ['a', 'b', 'c']);
  for (const { kernels: v, fusion } of variants) {
    if (isWebgpu) useWebgpuKernels(v !== 'tfjs');
    if (isWebgpu) setWebgpuPrecision(v === 'f16' ? 'f16' : 'f32');
    setConvActFusion(fusion);
    const scaler = v === 'f16' ? new LossScaler() : undefined;
    const model = new CombModel(cfg);
    model.build(r);
    const adam = new Adam({ lr: cfg.lr, beta1: cfg.beta1, beta2: cfg.beta2, epsilon: cfg.epsilon });
    const lean = isWebgpu && v !== 'tfjs';
    for (let i = 0; i < 2; i++) await trainStep(model, adam, batchOf(r, batch, i % 3, i + 1), scaler); // compile + warm
    const data = Array.from({ length: steps }, (_, i) => batchOf(r, batch, i % 3, i + 10));
    const c0 = { ...count }, a0 = allocated(), d0 = dispatches();
    const t0 = performance.now();
    let losses: number[] = [];
    if (lean) losses = await readLosses(data.map((b) => leanTrainStep(model, adam, b, scaler)));
    else for (const b of data) losses.push(await trainStep(model, adam, b, scaler));
    const wallMs = (performance.now() - t0) / steps;
    const per = (k: keyof typeof count) => (count[k] - c0[k]) / steps;
    const row: Record<string, unknown> = {
      resolution: r, batch, scale, kernels: isWebgpu ? v : engine.name, fusion, step: lean ? 'lean' : 'trainStep', msPerStep: wallMs, imgPerSec: (batch * 1000) / wallMs,
      dispatchesPerStep: (dispatches() - d0) / steps, submitsPerStep: per('submits'), readsPerStep: per('reads'),
      acquiredMBPerStep: per('acquiredBytes') / 2 ** 20, newBuffersMBPerStep: (allocated() - a0) / steps / 2 ** 20, losses,
    };
    if (profile) {
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
    model.dispose();
    adam.dispose();
    scaler?.dispose();
  }
}
if (isWebgpu) {
  useWebgpuKernels(true);
  setWebgpuPrecision('f32');
}
setConvActFusion('prologue');

const f = (x: unknown, d = 1) => (typeof x === 'number' ? x.toFixed(d) : String(x ?? '-'));
console.log(`\ncomb model training step on ${engine.name} (${String(engine.details.adapter ?? engine.why)}), channels x${scale}`);
console.log('px | B | kernels | conv+act fusion | ms/step | img/s | dispatches | submits | reads | MB acquired | MB new | GPU kernel ms | outside kernels ms');
for (const r of results) {
  console.log([r.resolution, r.batch, r.kernels, r.fusion, f(r.msPerStep), f(r.imgPerSec, 2), f(r.dispatchesPerStep, 0), f(r.submitsPerStep, 0),
    f(r.readsPerStep, 0), f(r.acquiredMBPerStep), f(r.newBuffersMBPerStep), f(r.kernelMs), f(r.outsideKernelsMs)].join(' | '));
}
for (const r of results) {
  const ks = r.kernels_ as { name: string; calls: number; ms: number }[] | undefined;
  if (!ks) continue;
  const total = ks.reduce((a, k) => a + k.ms, 0);
  console.log(`\nper-kernel GPU time, ${r.resolution} px, ${r.kernels} kernels, fusion ${r.fusion} (top 12 of ${ks.length}; total ${total.toFixed(1)} ms):`);
  for (const k of ks.slice(0, 12)) console.log(`  ${k.name.padEnd(28)} ${String(k.calls).padStart(4)} calls ${k.ms.toFixed(2).padStart(9)} ms ${(100 * k.ms / Math.max(total, 1e-9)).toFixed(1).padStart(5)}%`);
}
const base = results.find((x) => x.kernels === 'tfjs');
for (const x of results.filter((y) => y.kernels === 'ours')) {
  const b = results.find((y) => y.kernels === 'tfjs' && y.resolution === x.resolution && y.fusion === x.fusion) ?? base;
  if (b) console.log(`\n${x.resolution} px, fusion ${x.fusion}: ours ${((b.msPerStep as number) / (x.msPerStep as number)).toFixed(2)}x the step speed of tfjs's kernels`);
}
// what the conv + LeakyReLU fusion saves against the unfused model, same kernels, same run
// (against the nearest 'off' row before it, else the first: with repeated modes, e.g. off,prologue,off,prologue)
for (const [i, x] of results.entries()) {
  if (x.fusion === 'off') continue;
  const same = (y: Record<string, unknown>) => y.fusion === 'off' && y.kernels === x.kernels && y.resolution === x.resolution;
  const b = results.slice(0, i).reverse().find(same) ?? results.find(same);
  if (!b) continue;
  const ratio = (k: string) => (typeof x[k] === 'number' && typeof b[k] === 'number' && x[k] ? ((b[k] as number) / (x[k] as number)).toFixed(2) : '-');
  console.log(`${x.resolution} px, ${x.kernels} kernels, fusion ${x.fusion} vs off: dispatches ${f(b.dispatchesPerStep, 0)} -> ${f(x.dispatchesPerStep, 0)}, `
    + `step ${ratio('msPerStep')}x faster, GPU kernel time ${ratio('kernelMs')}x less, MB acquired ${ratio('acquiredMBPerStep')}x less`);
}
const refArg = opt('reference', '');
const torch: { res: number; batch: number; kind: string; imgPerSec: number }[] = [];
if (refArg) {
  // lines like "torch fp32/tf32 R256 B8: 29.7 ms/step 269.4 img/s ..."
  for (const m of readFileSync(refArg, 'utf8').matchAll(/torch (\S+) R(\d+) B(\d+): [\d.]+ ms\/step ([\d.]+) img\/s/g)) {
    torch.push({ kind: m[1], res: Number(m[2]), batch: Number(m[3]), imgPerSec: Number(m[4]) });
  }
  console.log(`\nimg/s against PyTorch (${refArg}), same machine:`);
  console.log('px | B | PyTorch fp32 | PyTorch bf16 | ours | ratio ours/fp32 | f16 | ratio f16/fp32 | tfjs | ratio tfjs/fp32');
  for (const r of sizes) {
    const fp32 = torch.find((x) => x.res === r && x.kind !== 'bf16');
    const bf16 = torch.find((x) => x.res === r && x.kind === 'bf16');
    const o = results.find((x) => x.resolution === r && x.kernels === 'ours' && x.fusion === 'prologue') ?? results.find((x) => x.resolution === r && x.kernels === 'ours');
    const tj = results.find((x) => x.resolution === r && x.kernels === 'tfjs');
    const h = results.find((x) => x.resolution === r && x.kernels === 'f16');
    const ratio = (x?: Record<string, unknown>) => (x && fp32 ? ((x.imgPerSec as number) / fp32.imgPerSec).toFixed(3) : '-');
    console.log([r, o?.batch ?? fp32?.batch, f(fp32?.imgPerSec), f(bf16?.imgPerSec), f(o?.imgPerSec, 2), ratio(o), f(h?.imgPerSec, 2), ratio(h), f(tj?.imgPerSec, 2), ratio(tj)].join(' | '));
  }
}
const dir = process.env.OUT ? `${process.env.OUT}/` : fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}comb-${engine.name}.json`, JSON.stringify({ date: new Date().toISOString(), adapter: engine.details.adapter, results, torch }, null, 2));
console.log(`wrote ${dir}comb-${engine.name}.json`);
