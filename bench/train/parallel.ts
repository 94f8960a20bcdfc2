/**
 * Data-parallel training on the wasm engine: ms/step and img/s of the demo's model (pipelines/demo.yaml
 * channels, 3 identities on real crops of ../shared/footage) at each level with 1 worker and with N, and
 * the speed-up as a ratio measured in the same run. Also the CPU time of the process (all its threads)
 * per step: on a loaded machine wall-clock speed-ups mean little, and N x (CPU of 1 worker) / (CPU of N
 * workers) is the speed-up the split allows on N idle cores.
 *
 *   node --import tsx bench/train/parallel.ts                       (16, 32, 64 px; 1 and 2 workers; 8 steps)
 *   node --import tsx bench/train/parallel.ts --res 64 --workers 1,2,3 --steps 6 --batch 8
 *
 * Writes bench/results/train-parallel.json. The machine's other load shows in the figures: run it idle.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initEngine, readDataset, resolveConfig, train } from '../../packages/train/src/index.js';
import { datasetFixture } from '../../packages/train/test/fixtures.js';

const { values } = parseArgs({
  options: { res: { type: 'string', default: '16,32,64' }, workers: { type: 'string', default: `1,${Math.max(2, availableParallelism())}` }, steps: { type: 'string', default: '8' }, batch: { type: 'string', default: '8' } },
});
const list = (s: string) => s.split(',').map(Number);
const steps = Number(values.steps);
const batch = Number(values.batch);
const NAMES = ['aoc', 'katie', 'speaker1'];

const engine = await initEngine({ backend: 'wasm', log: () => undefined });
const fx = await datasetFixture(64, 20);
const sets = await Promise.all(NAMES.map((n) => readDataset(fx.datasets[n])));
const work = await mkdtemp(join(tmpdir(), 'facecomb-bench-parallel-'));
const rows: { resolution: number; workers: number; batch: number; msPerStep: number; imgPerSec: number; cpuMsPerStep: number; speedup: number }[] = [];
console.log('res  workers  batch  ms/step  img/s  process CPU ms/step (all threads)  speed-up vs 1 worker');
for (const r of list(values.res!)) {
  let base = 0;
  for (const w of list(values.workers!)) {
    const cfg = resolveConfig(
      { resolution: r, startResolution: r, stepsPerFade: 1, stepsPerStable: steps + 1, batch, lr: 5e-4, channels: { 4: 64, 8: 64, 16: 48, 32: 32, 64: 24 }, latent: 128, checkpointEvery: 1e6, previewEvery: 1e6, seed: 7 },
      NAMES,
    );
    const cpu: number[] = [];
    let last = process.cpuUsage();
    const res = await train({
      config: cfg, sets, out: join(work, `${r}-${w}`), engine, workers: w,
      onStep: () => {
        const now = process.cpuUsage();
        cpu.push((now.user - last.user + now.system - last.system) / 1000);
        last = now;
      },
    });
    // the first step warms up (kernels, packed filters, worker start): timed from the second
    const ms = res.metrics.slice(1).map((m) => m.msPerStep);
    const msPerStep = ms.reduce((a, b) => a + b, 0) / ms.length;
    if (w === 1) base = msPerStep;
    const row = { resolution: r, workers: w, batch, msPerStep: Math.round(msPerStep), imgPerSec: +((batch * 1000) / msPerStep).toFixed(2), cpuMsPerStep: Math.round(cpu.slice(1).reduce((a, b) => a + b, 0) / (cpu.length - 1)), speedup: +(base / msPerStep).toFixed(2) };
    rows.push(row);
    console.log(`${String(r).padStart(3)}  ${String(w).padStart(7)}  ${String(batch).padStart(5)}  ${String(row.msPerStep).padStart(7)}  ${row.imgPerSec.toFixed(1).padStart(5)}  ${String(row.cpuMsPerStep).padStart(34)}  ${row.speedup.toFixed(2).padStart(20)}`);
  }
}
await rm(work, { recursive: true, force: true });
const outDir = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'train-parallel.json'), JSON.stringify({ date: new Date().toISOString(), cores: availableParallelism(), steps, rows }, null, 1));
console.log(`wrote ${join(outDir, 'train-parallel.json')}`);
