// Runner overhead and input hashing: `node --import tsx bench/runner/bench.ts` from the repository root
// (build first: npx tsc -b packages/runner). Prints a table, writes bench/results/runner.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../packages/runner/bin/runner.js', import.meta.url));
const RESULTS = fileURLToPath(new URL('../results/', import.meta.url));
const sizeMiB = Number(process.env.BENCH_PLATE_MIB ?? 1024);
const stages = Number(process.env.BENCH_STAGES ?? 40);

function time(args: string[], cwd: string): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`runner ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
  return (performance.now() - t0) / 1000;
}

const dir = mkdtempSync(join(tmpdir(), 'facecomb-bench-runner-'));
writeFileSync(join(dir, 'package.json'), '{}');
try {
  // 1. a big plate: first status hashes it, the second finds it in the size+mtime+inode index
  const plate = join(dir, 'plate.bin');
  const fd = openSync(plate, 'w');
  const chunk = Buffer.alloc(1 << 20, 1);
  for (let i = 0; i < sizeMiB; i++) {
    chunk[0] = i & 255;
    writeSync(fd, chunk);
  }
  closeSync(fd);
  writeFileSync(join(dir, 'plate.yaml'), 'version: 1\nname: plate\nstages:\n  a: {uses: shell, with: {cmd: "true", inputs: plate.bin}}\n');
  const hashCold = time(['status', 'plate.yaml'], dir);
  const hashWarm = time(['status', 'plate.yaml'], dir);

  // 2. many trivial stages in a chain of fan-outs: run cold with 4 jobs, then fully cached
  let yaml = 'version: 1\nname: many\nstages:\n  root: {uses: shell, with: {cmd: "echo root > $FACECOMB_OUT/r"}}\n';
  for (let i = 0; i < stages - 1; i++) yaml += `  s${i}: {uses: shell, needs: [root], with: {cmd: "echo ${i} > $FACECOMB_OUT/x"}}\n`;
  writeFileSync(join(dir, 'many.yaml'), yaml);
  const runCold = time(['run', 'many.yaml', '--jobs', '4'], dir);
  const runCached = time(['run', 'many.yaml', '--jobs', '4'], dir);
  const status = time(['status', 'many.yaml', '--json'], dir);

  const rows: [string, string][] = [
    [`status, ${sizeMiB} MiB input, first (hashes it)`, `${hashCold.toFixed(2)} s (${(sizeMiB / hashCold).toFixed(0)} MiB/s)`],
    [`status, ${sizeMiB} MiB input, again (hash index)`, `${hashWarm.toFixed(2)} s`],
    [`run ${stages} trivial shell stages, --jobs 4`, `${runCold.toFixed(2)} s (${((runCold * 1000) / stages).toFixed(0)} ms/stage)`],
    [`run ${stages} stages, all cached`, `${runCached.toFixed(2)} s`],
    [`status --json, ${stages} stages`, `${status.toFixed(2)} s`],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`${'measure'.padEnd(w)}  result`);
  for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'runner.json'), JSON.stringify({ date: new Date().toISOString(), sizeMiB, stages, hashCold, hashWarm, runCold, runCached, status }, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
