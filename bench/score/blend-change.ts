/**
 * What the score stage's crop readings cache (FACECOMB_STAGE_CACHE) saves when only the blend changes: the demo
 * with its blend `mode` changed (default poisson), score forced twice in the same run, first with an empty
 * stage cache (every crop read by the nets: the cost before the cache), then with the readings it just stored
 * (only the blended frames measured). Prints a table, writes bench/results/score-blend-change.json.
 *
 *   npx runner run pipelines/demo.yaml    # once: trains the demo (cached afterwards)
 *   nice -n 10 node --import tsx bench/score/blend-change.ts [--mode poisson]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const at = process.argv.indexOf('--mode');
const mode = at >= 0 ? process.argv[at + 1] : 'poisson';
if (!['poisson', 'alpha', 'multiband'].includes(mode)) throw new Error(`--mode must be poisson, alpha or multiband, got '${mode}'`);
const runner = join(root, 'packages', 'runner', 'dist', 'cli.js');
const demo = readFileSync(join(root, 'pipelines', 'demo.yaml'), 'utf8');
if (!demo.includes('with: { mode: multiband }')) throw new Error('pipelines/demo.yaml: its blend no longer reads `with: { mode: multiband }`; update this benchmark');
// beside demo.yaml: the same project, so the same cache (.facecomb/) and the same relative paths
const file = join(root, 'pipelines', `demo-bench-${mode}.yaml`);
const stageCache = join(root, '.facecomb', 'stage-cache', 'score');
const aside = `${stageCache}.bench-aside`;

interface Row { stageCache: string; cropReadingsCached: number; cropReadingsRead: number; scoreSeconds: number; runSeconds: number }
const rows: Row[] = [];

function runScore(label: string): Row {
  const t0 = Date.now();
  execFileSync(process.execPath, [runner, 'run', file, '--force', 'score'], { cwd: root, stdio: 'ignore' });
  const runSeconds = (Date.now() - t0) / 1000;
  const show = JSON.parse(execFileSync(process.execPath, [runner, 'show', file, 'score', '--json'], { cwd: root, encoding: 'utf8' })) as { key: string };
  const out = join(root, '.facecomb', 'cache', show.key, 'out', 'score.json');
  const s = JSON.parse(readFileSync(out, 'utf8')) as { seconds: number; cropReadings: { cached: number; read: number } };
  return { stageCache: label, cropReadingsCached: s.cropReadings.cached, cropReadingsRead: s.cropReadings.read, scoreSeconds: s.seconds, runSeconds };
}

// without the gate: a failed gate keeps no cache entry, and the figures are not this benchmark's business
const gate = /^ {4}with: \{ thresholds: .*\n/m;
if (!gate.test(demo)) throw new Error("pipelines/demo.yaml: its score stage no longer reads `with: { thresholds: ... }` on one line; update this benchmark");
writeFileSync(file, demo.replace('with: { mode: multiband }', `with: { mode: ${mode} }`).replace(gate, ''));
if (existsSync(stageCache)) renameSync(stageCache, aside);
try {
  // blend (and encode) run on the first call; score is forced on both, so only the stage cache differs
  execFileSync(process.execPath, [runner, 'run', file], { cwd: root, stdio: 'ignore' });
  rmSync(stageCache, { recursive: true, force: true });
  rows.push(runScore('empty'));
  rows.push(runScore('warm'));
} catch (e) {
  throw new Error(`benchmark failed (is the demo trained? run \`npx runner run pipelines/demo.yaml\` first): ${(e as Error).message}`);
} finally {
  rmSync(file, { force: true });
  rmSync(stageCache, { recursive: true, force: true });
  if (existsSync(aside)) renameSync(aside, stageCache);
}

console.log(`score of the demo with blend mode ${mode} (${cpus().length} cores, load ${loadavg()[0].toFixed(1)})`);
console.log('| stage cache | crop readings cached | read by the nets | score s | ratio to empty |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.stageCache} | ${r.cropReadingsCached} | ${r.cropReadingsRead} | ${r.scoreSeconds.toFixed(1)} | ${(r.scoreSeconds / rows[0].scoreSeconds).toFixed(2)} |`);
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', 'score-blend-change.json'), JSON.stringify({ mode, cores: cpus().length, load: loadavg(), rows }, null, 2) + '\n');
