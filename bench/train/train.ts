/**
 * Training speed of the real comb model (the reference architecture of bench/reference/comb_reference.py:
 * default channels, 512-d latent, 3 identities, L1 + SSIM loss, Adam) per engine and resolution, at the
 * default batch sizes: ms/step, img/s, GFLOPS achieved, peak RSS and tensor memory. Each (engine, resolution)
 * runs in its own process so peak memory is its own. Prints a table and writes bench/results/train.json.
 *
 *   node --import tsx bench/train/train.ts                          (wasm at 64 and 128 px, cpu at 64 px)
 *   node --import tsx bench/train/train.ts --res 64,128,256 --engines wasm --steps 3
 *   node --import tsx bench/train/train.ts --cpu-batch 8 --cpu-res 64,128
 *   node --import tsx bench/train/train.ts --res 128 --engines wasm --batch 4 --steps 3   (force a batch)
 * wasm runs at the batch the train stage would choose (planBatches: the default, lowered to fit the 4 GiB heap).
 * Memory: the estimate (estimateStepMemory) against what a step really takes: peak tensor bytes of the last
 * timed step (tf.profile) and the wasm heap size afterwards (the heap only grows, so it is the high-water mark).
 * With --steps 3 or more every decoder has its Adam moments (the steady state of a run).
 * Rows of other (engine, resolution) pairs already in train.json are kept (--fresh drops them).
 * wasm: one untimed step, then --steps timed steps (default 1). cpu: one timed step (its first), at batch 1
 * and 64 px by default: a step of the real model takes minutes. The wasm/cpu ratio compares img/s.
 *
 * Run `npx tsc -b packages/train` first (the bench imports the built package).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { initEngine, tf, CombModel, Adam, trainStep, resolveConfig, DEFAULT_BATCH, Rng, estimateStepMemory, planBatches, WASM32_MAX_BYTES, forwardMacs } from '@facecomb/train';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};

interface Row {
  engine: string;
  resolution: number;
  batch: number;
  steps: number;
  msPerStep: number;
  imgPerSec: number;
  gflops: number;
  firstStepMs: number;
  parameters: number;
  peakRssMB: number;
  tensorMB: number;
  wasmHeapMB: number | null;
  /** Peak tensor memory of the last timed step (tf.profile), and the estimate of it and of the heap. */
  peakTensorMB: number;
  estTensorMB: number;
  estHeapMB: number;
  loss: number;
}

async function one(engine: string, r: number, batch: number, steps: number): Promise<Row> {
  await initEngine({ backend: engine, log: () => undefined });
  // the reference's loss: L1 + (1 - SSIM)/2 with a 7x7 window (MS-SSIM off, as in comb_reference.py)
  const cfg = resolveConfig({ resolution: r, startResolution: r, batch, loss: { msssim: false } }, ['a', 'b', 'c']);
  const model = new CombModel(cfg);
  model.build(r);
  const adam = new Adam(cfg.optim);
  const rng = new Rng(1, 'bench');
  const x = new Float32Array(batch * r * r * 3).map(() => rng.next());
  const m = new Float32Array(batch * r * r).fill(1);
  const t0 = performance.now();
  let loss = await trainStep(model, adam, { step: 0, identity: 0, resolution: r, alpha: 1, size: batch, x, m });
  const firstStepMs = performance.now() - t0;
  const times: number[] = [];
  let peak = 0;
  for (let i = 1; i <= steps; i++) {
    const t = performance.now();
    const run = () => trainStep(model, adam, { step: i, identity: i % 3, resolution: r, alpha: 1, size: batch, x, m });
    if (i === steps) {
      const prof = await tf.profile(async () => {
        loss = await run();
        return [];
      });
      peak = prof.peakBytes;
    } else loss = await run();
    times.push(performance.now() - t);
  }
  const est = estimateStepMemory(cfg, r, batch, { fading: false });
  const ms = times.length ? times.reduce((a, b) => a + b, 0) / times.length : firstStepMs;
  const flops = 3 * 2 * forwardMacs(r, cfg.model.channels, cfg.model.latent) * batch; // forward + two backward passes
  const wasm = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
  return {
    engine,
    resolution: r,
    batch,
    steps: times.length,
    msPerStep: Math.round(ms),
    imgPerSec: +((batch * 1000) / ms).toFixed(3),
    gflops: +(flops / ms / 1e6).toFixed(2),
    firstStepMs: Math.round(firstStepMs),
    parameters: model.parameterCount(r),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    tensorMB: Math.round(tf.memory().numBytes / 2 ** 20),
    wasmHeapMB: wasm?.HEAPU8 ? Math.round(wasm.HEAPU8.length / 2 ** 20) : null,
    peakTensorMB: Math.round(peak / 2 ** 20),
    estTensorMB: Math.round(est.tensorBytes / 2 ** 20),
    estHeapMB: Math.round(est.heapBytes / 2 ** 20),
    loss,
  };
}

function child(engine: string, r: number, batch: number, steps: number, timeoutS: number): Promise<Row | { engine: string; resolution: number; batch: number; error: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--one', engine, String(r), String(batch), String(steps)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutS * 1000);
    p.on('close', (code, sig) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code === 0 && line) resolve(JSON.parse(line) as Row);
      else resolve({ engine, resolution: r, batch, error: sig === 'SIGKILL' ? `over the ${timeoutS} s limit` : err.trim().split('\n').slice(-3).join(' ') });
    });
  });
}

if (args[0] === '--one') {
  const row = await one(args[1], Number(args[2]), Number(args[3]), Number(args[4]));
  process.stdout.write(JSON.stringify(row) + '\n');
  process.exit(0);
}

const resolutions = arg('res', '64,128').split(',').map(Number);
const engines = arg('engines', 'wasm,cpu').split(',');
const steps = Number(arg('steps', '1'));
/** The cpu engine's batch (default 1: at the default batch one step of the real model takes most of an hour). */
const cpuBatch = Number(arg('cpu-batch', '1'));
const timeoutS = Number(arg('timeout', '900'));
/** The cpu engine takes minutes per step of the real model: by default it runs at 64 px only, one step. */
const cpuRes = arg('cpu-res', '64').split(',').map(Number);
/** Force this batch on wasm (default: the batch the train stage chooses for the 4 GiB heap). */
const forcedBatch = args.includes('--batch') ? Number(arg('batch', '0')) : null;
/** The batch the train stage picks at resolution r on wasm (the default lowered to fit the heap). */
function wasmBatch(r: number): number {
  const cfg = resolveConfig({ resolution: r, startResolution: r, loss: { msssim: false } }, ['a', 'b', 'c']);
  return planBatches(cfg, new Set(), 'wasm', WASM32_MAX_BYTES).levels[0].batch;
}
const rows: unknown[] = [];
console.log('engine  res  batch  ms/step   img/s   GFLOPS  params(E+1D)  peak RSS MB  tensors MB  wasm heap MB  peak tensors MB (est)  est heap MB');
for (const r of resolutions) {
  for (const e of engines) {
    if (e === 'cpu' && !cpuRes.includes(r)) continue;
    const batch = e === 'cpu' ? cpuBatch : forcedBatch ?? wasmBatch(r);
    if (e === 'wasm' && batch !== DEFAULT_BATCH[String(r)]) console.log(`wasm ${r} px: batch ${DEFAULT_BATCH[String(r)]} -> ${batch} (the estimate does not fit the 4 GiB heap)`);
    let row = await child(e, r, batch, e === 'cpu' ? 0 : steps, timeoutS);
    // wasm32 caps its heap at 4 GB: where the default batch does not fit, halve it and say so
    for (let b = batch / 2; 'error' in row && e === 'wasm' && b >= 1 && Number.isInteger(b); b /= 2) {
      console.log(`${e.padEnd(6)} ${String(r).padStart(4)} ${String(row.batch).padStart(5)}  failed (${row.error.slice(0, 120)}); retrying at batch ${b}`);
      const failed = row.batch;
      row = await child(e, r, b, steps, timeoutS);
      if (!('error' in row)) (row as Row & { note?: string }).note = `batch ${batch} was estimated to fit the 4 GiB wasm heap but aborted (batch ${failed}); the estimate is too low`;
    }
    rows.push(row);
    if ('error' in row) console.log(`${e.padEnd(6)} ${String(r).padStart(4)} ${String(batch).padStart(5)}  failed: ${row.error}`);
    else
      console.log(
        `${e.padEnd(6)} ${String(r).padStart(4)} ${String(row.batch).padStart(5)} ${String(row.msPerStep).padStart(8)} ${row.imgPerSec.toFixed(3).padStart(7)} ${row.gflops.toFixed(2).padStart(8)} ${(row.parameters / 1e6).toFixed(1).padStart(11)}M ${String(row.peakRssMB).padStart(12)} ${String(row.tensorMB).padStart(11)} ${String(row.wasmHeapMB ?? '-').padStart(13)} ${String(row.peakTensorMB).padStart(8)} (${row.estTensorMB}) ${String(row.estHeapMB).padStart(12)}`,
      );
  }
}
// keep earlier rows of other (engine, resolution) pairs, so runs can be split: --res 256 --engines wasm
const outDir = fileURLToPath(new URL('../results/', import.meta.url));
const outFile = `${outDir}train.json`;
if (existsSync(outFile) && !args.includes('--fresh')) {
  const prev = JSON.parse(readFileSync(outFile, 'utf8')) as { rows?: Row[] };
  const key = (r: { engine: string; resolution: number }) => `${r.engine}@${r.resolution}`;
  const have = new Set((rows as Row[]).map(key));
  for (const r of prev.rows ?? []) if (!have.has(key(r))) rows.push(r);
  rows.sort((a, b) => (a as Row).resolution - (b as Row).resolution || (a as Row).engine.localeCompare((b as Row).engine));
}
const ok = rows.filter((r): r is Row => !('error' in (r as object)));
const ratios = [...new Set(ok.map((x) => x.resolution))]
  .map((r) => {
    const w = ok.find((x) => x.engine === 'wasm' && x.resolution === r);
    const c = ok.find((x) => x.engine === 'cpu' && x.resolution === r);
    return w && c ? { resolution: r, wasmOverCpuImgPerSec: +(w.imgPerSec / c.imgPerSec).toFixed(1) } : null;
  })
  .filter(Boolean);
for (const q of ratios) console.log(`wasm / cpu at ${q!.resolution} px: ${q!.wasmOverCpuImgPerSec}x img/s`);
mkdirSync(outDir, { recursive: true });
writeFileSync(
  outFile,
  JSON.stringify({ date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, model: 'comb reference (default config), 3 identities', rows, ratios }, null, 2) + '\n',
);
console.log(`wrote ${outFile}`);
