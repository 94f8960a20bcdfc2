/**
 * RESULTS.md from what bench/gpu/run.sh left in $OUT (comb.ts --results DIR): the machine (nvidia-smi line), PyTorch's
 * img/s, ours per variant with the ratio to PyTorch fp32, the subgroup-matrix validation, the per-kernel profile
 * and the fused-loss speed. Reads whatever is there: a part that did not run (or ran out of time) is said so.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { lossTable, type LossRow } from '../engine/ssim-loss-bench.js';

export interface CombRow {
  resolution: number; batch: number; scale: number; kernels: string; step: string; msPerStep: number; imgPerSec: number;
  dispatchesPerStep: number; submitsPerStep: number; readsPerStep: number; acquiredMBPerStep: number; newBuffersMBPerStep: number;
  losses: number[]; steps: number; recordMsPerStep?: number; recordIdleMs?: number; kernelMs?: number; outsideKernelsMs?: number;
  kernels_?: { name: string; calls: number; ms: number }[];
  skipped?: string; smx?: unknown; fusion?: string; lossScale?: { scale: number; goodSteps: number; skipped: number };
}
export interface TorchRow { res: number; batch: number; kind: string; imgPerSec: number }

/** Lines like "torch fp32/tf32 R256 B8: 29.7 ms/step 269.4 img/s ..." of comb_reference.py. */
export function parseTorch(text: string): TorchRow[] {
  return [...text.matchAll(/torch (\S+) R(\d+) B(\d+): [\d.]+ ms\/step ([\d.]+) img\/s/g)]
    .map((m) => ({ kind: m[1], res: Number(m[2]), batch: Number(m[3]), imgPerSec: Number(m[4]) }));
}

const f = (x: unknown, d = 1) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '-');

/** img/s per size and variant with the ratio to PyTorch fp32 (markdown lines). */
export function speedTable(rows: CombRow[], torch: TorchRow[]): string[] {
  const sizes = [...new Set(rows.map((r) => r.resolution))].sort((a, b) => a - b);
  const variants = [...new Set(rows.map((r) => r.kernels))];
  const out = [
    `| px | B | PyTorch fp32 | PyTorch bf16 | ${variants.map((v) => `${v} img/s | ${v} / fp32`).join(' | ')} |`,
    `| --- | --- | --- | --- | ${variants.map(() => '--- | ---').join(' | ')} |`,
  ];
  for (const r of sizes) {
    const fp32 = torch.find((x) => x.res === r && x.kind !== 'bf16');
    const bf16 = torch.find((x) => x.res === r && x.kind === 'bf16');
    const cells = variants.map((v) => {
      const x = rows.find((y) => y.resolution === r && y.kernels === v);
      if (!x || x.skipped) return `${x?.skipped ? (x.skipped === 'out of time' ? 'out of time' : 'skipped (see below)') : '-'} | -`;
      return `${f(x.imgPerSec, 2)} | ${fp32 ? (x.imgPerSec / fp32.imgPerSec).toFixed(3) : '-'}`;
    });
    const b = rows.find((y) => y.resolution === r)?.batch ?? fp32?.batch;
    out.push(`| ${r} | ${b ?? '-'} | ${f(fp32?.imgPerSec)} | ${f(bf16?.imgPerSec)} | ${cells.join(' | ')} |`);
  }
  return out;
}

/** Per-step counters of every row (markdown lines). */
export function counterTable(rows: CombRow[]): string[] {
  return [
    '| px | B | variant | ms/step | img/s | steps | record ms/step | us/dispatch | record ms, GPU idle | dispatches | submits | reads | MB acquired | MB new | GPU kernel ms | outside kernels ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.filter((r) => !r.skipped).map((r) => `| ${[r.resolution, r.batch, r.kernels, f(r.msPerStep), f(r.imgPerSec, 2), r.steps ?? '-', f(r.recordMsPerStep, 2),
      f(r.recordMsPerStep !== undefined ? (1000 * r.recordMsPerStep) / r.dispatchesPerStep : undefined), f(r.recordIdleMs, 2), f(r.dispatchesPerStep, 0),
      f(r.submitsPerStep, 0), f(r.readsPerStep, 2), f(r.acquiredMBPerStep), f(r.newBuffersMBPerStep), f(r.kernelMs), f(r.outsideKernelsMs)].join(' | ')} |`),
  ];
}

/** Top kernels of each profiled row (markdown lines). */
export function profileTables(rows: CombRow[], top = 10): string[] {
  const out: string[] = [];
  for (const r of rows) {
    const ks = r.kernels_;
    if (!ks) continue;
    const total = ks.reduce((a, k) => a + k.ms, 0);
    out.push('', `${r.resolution} px, B${r.batch}, ${r.kernels}: ${total.toFixed(1)} ms GPU in ${ks.reduce((a, k) => a + k.calls, 0)} kernels, wall ${f(r.msPerStep)} ms`, '',
      '| kernel | calls | ms | share |', '| --- | --- | --- | --- |',
      ...ks.slice(0, top).map((k) => `| ${k.name} | ${k.calls} | ${k.ms.toFixed(2)} | ${(100 * k.ms / Math.max(total, 1e-9)).toFixed(1)}% |`));
  }
  return out;
}

/** comb-webgpu.json, else the comb-<engine>.json that is there (a run on another engine). */
function combJson(dir: string): string {
  const names = existsSync(dir) ? readdirSync(dir).filter((n) => /^comb-\w+\.json$/.test(n)) : [];
  return `${dir}/${names.includes('comb-webgpu.json') ? 'comb-webgpu.json' : names[0] ?? 'comb-webgpu.json'}`;
}

function readJson<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** The whole RESULTS.md text for the folder run.sh wrote. */
export function resultsMarkdown(dir: string): string {
  const gpu = existsSync(`${dir}/gpu.txt`) ? readFileSync(`${dir}/gpu.txt`, 'utf8').trim() : 'unknown (no gpu.txt)';
  const torch = existsSync(`${dir}/torch.txt`) ? parseTorch(readFileSync(`${dir}/torch.txt`, 'utf8')) : [];
  const speed = readJson<{ date: string; adapter: string; results: CombRow[] }>(combJson(dir));
  // the tensor-core variants ran in a process of their own (Dawn's unsafe APIs): their rows join the speed table
  const smxRun = readJson<{ results: CombRow[] }>(combJson(`${dir}/smx`));
  if (speed && smxRun) speed.results.push(...smxRun.results);
  const prof = readJson<{ results: CombRow[] }>(combJson(`${dir}/profile`));
  const loss = readJson<{ rows: LossRow[] }>(`${dir}/ssim-loss.json`);
  const fusion = readJson<{ results: CombRow[] }>(combJson(`${dir}/fusion`));
  const lines = [
    '# GPU results: comb model training on the webgpu engine against PyTorch', '',
    `Date: ${speed?.date ?? new Date().toISOString()}. GPU, driver, memory (nvidia-smi): ${gpu}. Adapter: ${speed?.adapter ?? '-'}.`,
    'Measured by `OUT=$OUT bash bench/gpu/run.sh` in one call (bench/gpu/README.md); img/s over the measured steps, same machine.', '',
    '## Training speed (img/s) and ratio to PyTorch fp32', '',
    ...(speed ? speedTable(speed.results, torch) : ['(no comb-webgpu.json: the speed run did not finish)']),
    ...(torch.length ? [] : ['', '(no PyTorch figures: comb_reference.py did not run)']),
  ];
  const smx = speed?.results.find((r) => r.smx !== undefined)?.smx ?? prof?.results.find((r) => r.smx !== undefined)?.smx;
  const skipped = (speed?.results ?? []).filter((r) => r.skipped && r.skipped !== 'out of time').map((r) => `- ${r.resolution} px ${r.kernels}: ${r.skipped}`);
  lines.push('', '## Subgroup matrices (tensor cores)', '', smx ? `Validation: \`${JSON.stringify(smx)}\`` : 'Not tried in this run.', ...(skipped.length ? ['', 'Skipped rows:', ...skipped] : []));
  if (speed) lines.push('', '## Per-step counters', '', ...counterTable(speed.results));
  lines.push('', '## Per-kernel profile (one step, timestamp queries)');
  lines.push('', ...(prof ? [...counterTable(prof.results), ...profileTables(prof.results)] : ['(no profile: it did not run or ran out of time)']));
  lines.push('', '## conv + bias + LeakyReLU: unfused (off), derivative in one pass (grad), in the gradient kernels\' loads (prologue)', '',
    ...(fusion ? counterTable(fusion.results) : ['(no fusion/comb-webgpu.json: it did not run or ran out of time)']));
  lines.push('', '## Fused masked SSIM + L1 loss and gradient vs composed tf ops (ratio: composed / fused)', '',
    ...(loss ? lossTable(loss.rows) : ['(no ssim-loss.json)']));
  return `${lines.join('\n')}\n`;
}
