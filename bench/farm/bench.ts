// The farm: `node --import tsx bench/farm/bench.ts` from the repository root (build first: npx tsc -b; needs
// redis-server and ../shared/footage). Prints a table, writes bench/results/farm.json.
//
// 1. align + swap + blend of N real frames (BENCH_FRAMES, default 48; chunks of BENCH_CHUNK, default 12: not a multiple of swap's batch of 8) on a farm
//    of 1 worker, then of 3 workers (each cpu=1,gpu=1), from the same cached ingest/dataset/train entries:
//    the wall-clock ratio. Their outputs are compared with an unchunked local run: swap and blend bit for bit
//    (with the reference's align), align's landmarks within a tolerance in pixels.
// 2. Per-job overhead: BENCH_JOBS trivial chunk jobs through the farm (1 worker) against the same run local.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cache, type Manifest } from '@facecomb/runner';
import { startRedis } from '../../packages/farm/test/redis.js';

const BIN = fileURLToPath(new URL('../../packages/runner/bin/runner.js', import.meta.url));
const RESULTS = fileURLToPath(new URL('../results/', import.meta.url));
const FOOTAGE = fileURLToPath(new URL('../../../shared/footage/congress/', import.meta.url));
const N = Number(process.env.BENCH_FRAMES ?? 48);
const CHUNK = Number(process.env.BENCH_CHUNK ?? 12);
const JOBS = Number(process.env.BENCH_JOBS ?? 40);
const PER_FRAME = ['plate-align', 'swap', 'blend'];

if (!existsSync(join(FOOTAGE, 'katiehill.mp4'))) throw new Error(`footage ${FOOTAGE} is missing (../shared/footage beside the repository)`);

const pipeline = (chunk: number | null) => {
  const c = chunk ? `, chunk: ${chunk}` : '';
  return `version: 1
name: farmbench
stages:
  aoc-frames: { uses: ingest, with: { src: "${FOOTAGE}aoc-a.mp4", range: [1, 12] } }
  spk-frames: { uses: ingest, with: { src: "${FOOTAGE}speaker-1.mp4", range: [1, 12] } }
  plate: { uses: ingest, with: { src: "${FOOTAGE}katiehill.mp4", range: [1, ${N}] } }
  aoc-align: { uses: align, needs: [aoc-frames], with: { size: 64, samples: 2, contact: false } }
  spk-align: { uses: align, needs: [spk-frames], with: { size: 64, samples: 2, contact: false } }
  plate-align: { uses: align, needs: [plate], with: { size: 64, samples: 2, contact: false }${c} }
  aoc: { uses: dataset, needs: [aoc-align], with: { name: aoc } }
  spk: { uses: dataset, needs: [spk-align], with: { name: spk } }
  train:
    uses: train
    needs: [aoc, spk]
    with: { resolution: 32, startResolution: 16, stepsPerFade: 6, stepsPerStable: 6, batch: 4, channels: { "4": 16, "8": 16, "16": 12, "32": 8 }, latent: 32, seed: 3 }
  swap: { uses: swap, needs: [train, plate-align], with: { source: aoc }${c} }
  blend: { uses: blend, needs: [plate, plate-align, swap], with: { mode: multiband, levels: 4, plateLevels: 2 }${c} }
`;
};

const dir = mkdtempSync(join(tmpdir(), 'facecomb-bench-farm-'));
writeFileSync(join(dir, 'package.json'), '{}');
const procs: ChildProcess[] = [];
const redis = await startRedis();
const stopAll = () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  redis.stop();
};
process.on('exit', stopAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

// the engine every stage uses (as the e2e test does: wasm works on every machine)
const BACKEND = process.env.BENCH_BACKEND ?? 'wasm';

function runner(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args, '--backend', BACKEND], { cwd: dir, encoding: 'utf8', timeout: 1_800_000 });
  if (r.status !== 0) throw new Error(`runner ${args.join(' ')} failed (${r.status}): ${r.stderr}\n${r.stdout}`);
  return (performance.now() - t0) / 1000;
}

async function workers(n: number, cache: string, slots: string): Promise<ChildProcess[]> {
  const ws: ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    const w = spawn(process.execPath, [BIN, 'worker', '--farm', redis.url, '--slots', slots, '--cache', cache, '--backend', BACKEND], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
    procs.push(w);
    ws.push(w);
    await new Promise<void>((res, rej) => {
      let out = '';
      const t = setTimeout(() => rej(new Error('a worker did not start in 60 s')), 60_000);
      w.stdout!.on('data', (d) => {
        out += d;
        if (/worker \S+ on redis/.test(out)) {
          clearTimeout(t);
          res();
        }
      });
    });
  }
  return ws;
}

const entries = (root: string) => new Cache(root).keys().map((k) => new Cache(root).manifest(k)!);
const finalOf = (root: string, stage: string) => entries(root).find((m) => m.stage === stage && !(m as { frames?: unknown }).frames) as Manifest;
/** A cache holding the reference run's entries, except those of `drop` (their chunks too). */
function seed(name: string, from: string, drop: string[]): string {
  const to = join(dir, name);
  mkdirSync(join(to, 'cache'), { recursive: true });
  for (const m of entries(from)) if (!drop.includes(m.stage)) cpSync(new Cache(from).entry(m.key), new Cache(to).entry(m.key), { recursive: true });
  return to;
}
/** Per-file sha256 of a stage's artifact: how many files differ from the reference. */
function diffFiles(a: Manifest, b: Manifest): number {
  const ref = new Map(a.outputs.map((o) => [o.path, o.sha256]));
  return b.outputs.filter((o) => ref.get(o.path) !== o.sha256).length + Math.abs(a.outputs.length - b.outputs.length);
}
/** Largest landmark difference (px) between two align artifacts, over frames with a face in both. */
function landmarkDiff(a: Manifest, b: Manifest): { maxPx: number; meanPx: number; faceMismatch: number } {
  let max = 0;
  let sum = 0;
  let n = 0;
  let mismatch = 0;
  for (const f of readdirSync(join(a.artifacts, 'faces'))) {
    const fa = JSON.parse(readFileSync(join(a.artifacts, 'faces', f), 'utf8')).face;
    const fb = JSON.parse(readFileSync(join(b.artifacts, 'faces', f), 'utf8')).face;
    if (!fa || !fb) {
      if (!fa !== !fb) mismatch++;
      continue;
    }
    for (let i = 0; i < fa.landmarks.length; i++) {
      const d = Math.hypot(fa.landmarks[i][0] - fb.landmarks[i][0], fa.landmarks[i][1] - fb.landmarks[i][1]);
      max = Math.max(max, d);
      sum += d;
      n++;
    }
  }
  return { maxPx: max, meanPx: n ? sum / n : 0, faceMismatch: mismatch };
}

try {
  // the reference: everything local and unchunked (its ingest/dataset/train entries seed the farm runs)
  writeFileSync(join(dir, 'whole.yaml'), pipeline(null));
  writeFileSync(join(dir, 'chunked.yaml'), pipeline(CHUNK));
  const ref = join(dir, 'ref');
  runner(['run', 'whole.yaml', '--cache', ref, '--jobs', '2']);
  const refAlign = finalOf(ref, 'plate-align');
  const tLocal = runner(['run', 'whole.yaml', '--cache', seed('local', ref, PER_FRAME), '--jobs', '1']);

  const timed: Record<number, number> = {};
  const caches: Record<number, string> = {};
  for (const n of [1, 3]) {
    caches[n] = seed(`farm${n}`, ref, PER_FRAME);
    const ws = await workers(n, caches[n], 'cpu=1,gpu=1');
    timed[n] = runner(['run', 'chunked.yaml', '--farm', redis.url, '--cache', caches[n]]);
    for (const w of ws) w.kill('SIGTERM');
  }
  // swap + blend chunked on the farm with the reference's align: bit for bit
  const exact = seed('exact', ref, ['swap', 'blend']);
  const ws = await workers(3, exact, 'cpu=1,gpu=1');
  runner(['run', 'chunked.yaml', '--farm', redis.url, '--cache', exact]);
  const swapDiff = diffFiles(finalOf(ref, 'swap'), finalOf(exact, 'swap'));
  const blendDiff = diffFiles(finalOf(ref, 'blend'), finalOf(exact, 'blend'));
  const align = landmarkDiff(refAlign, finalOf(caches[3], 'plate-align'));

  // per-job overhead: JOBS one-frame chunks of a trivial stage, local (--jobs 1) against 1 farm worker
  const frames = Array.from({ length: JOBS }, (_, i) => i + 1);
  writeFileSync(join(dir, 'jobs.yaml'), `version: 1
name: jobs
stages:
  src: { uses: shell, with: { cmd: 'echo "{\\"frames\\": [${frames.join(',')}]}" > $FACECOMB_OUT/meta.json' } }
  per: { uses: shell, needs: [src], chunk: 1, with: { cmd: 'echo $FACECOMB_FRAMES > $FACECOMB_OUT/f$FACECOMB_FRAMES' } }
`);
  const tJobsLocal = runner(['run', 'jobs.yaml', '--cache', join(dir, 'jobs-local'), '--jobs', '1']);
  for (const w of ws) w.kill('SIGTERM');
  await workers(1, join(dir, 'jobs-farm'), 'cpu=1');
  const tJobsFarm = runner(['run', 'jobs.yaml', '--farm', redis.url, '--cache', join(dir, 'jobs-farm')]);

  const rows: [string, string][] = [
    [`align+swap+blend, ${N} frames, local unchunked (--jobs 1)`, `${tLocal.toFixed(1)} s`],
    [`same, chunks of ${CHUNK}, farm of 1 worker`, `${timed[1].toFixed(1)} s`],
    [`same, chunks of ${CHUNK}, farm of 3 workers`, `${timed[3].toFixed(1)} s (${(timed[1] / timed[3]).toFixed(2)}x the 1-worker farm, ${(tLocal / timed[3]).toFixed(2)}x local)`],
    ['swap / blend files differing from unchunked', `${swapDiff} / ${blendDiff}`],
    ['align landmarks, chunked vs unchunked', `max ${align.maxPx.toFixed(3)} px, mean ${align.meanPx.toFixed(4)} px, face found differently on ${align.faceMismatch} frame(s)`],
    [`${JOBS} trivial chunk jobs, local (--jobs 1)`, `${tJobsLocal.toFixed(2)} s`],
    [`${JOBS} trivial chunk jobs, farm of 1 worker`, `${tJobsFarm.toFixed(2)} s (${(((tJobsFarm - tJobsLocal) * 1000) / JOBS).toFixed(0)} ms per job over local)`],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`${'measure'.padEnd(w)}  result`);
  for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'farm.json'), JSON.stringify({ date: new Date().toISOString(), frames: N, chunk: CHUNK, tLocal, farm1: timed[1], farm3: timed[3], ratio: timed[1] / timed[3], swapDiff, blendDiff, align, jobs: JOBS, tJobsLocal, tJobsFarm }, null, 2));
} finally {
  stopAll();
  if (!process.env.FACECOMB_KEEP_BENCH) rmSync(dir, { recursive: true, force: true });
}
