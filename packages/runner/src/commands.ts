import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BACKENDS } from '@facecomb/stage';
import { Cache, cacheRootFor, type Manifest } from './cache.js';
import { checkKinds, checkNames } from './checks.js';
import { PipelineError } from './diagnostics.js';
import { Executor } from './execute.js';
import { loadFarm } from './farm.js';
import { HashIndex, formatBytes, treeSize } from './files.js';
import { didYouMean } from './hint.js';
import { loadPipeline, type Pipeline } from './pipeline.js';
import { planPipeline, type StagePlan } from './plan.js';
import { publishEntry } from './publish.js';
import { Reporter, formatElapsed } from './progress.js';
import { loadRegistry } from './registry.js';

export class UsageError extends Error {}

/** Refuses a `--backend` that is no tensor engine, before anything runs. */
export function checkBackend(backend: string | undefined): void {
  if (backend === undefined || BACKENDS.includes(backend)) return;
  const hint = /gpu|cuda/i.test(backend) ? ' (the GPU engines are webgpu and tensorflow)' : didYouMean(backend, BACKENDS);
  throw new UsageError(`--backend ${backend}: not a tensor engine${hint}; engines: ${BACKENDS.join(', ')}`);
}

export interface CommonOptions {
  cache?: string;
  env?: NodeJS.ProcessEnv;
  out?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

function write(o: CommonOptions, s: string): void {
  (o.out ?? process.stdout).write(s.endsWith('\n') ? s : `${s}\n`);
}

/**
 * Loads a pipeline and plans it against its cache. Throws PipelineError on a bad pipeline; with `check`, also
 * on what the cross-stage names and the kinds' own checks of the stale stages find (run and status).
 */
export async function openPipeline(file: string, o: CommonOptions & { force?: string[]; check?: boolean } = {}): Promise<{ p: Pipeline; cache: Cache; plans: Map<string, StagePlan> }> {
  const registry = loadRegistry(o.env);
  const p = loadPipeline(file, registry, { env: o.env });
  const cache = new Cache(cacheRootFor(p.file, { cache: o.cache, env: o.env }));
  const force = new Set<string>();
  for (const f of o.force ?? []) {
    if (f === 'all' || f === '*') p.order.forEach((n) => force.add(n));
    else if (p.stages.has(f)) force.add(f);
    else throw new UsageError(`--force ${f}: no stage '${f}' in ${p.name}${didYouMean(f, p.order)}; stages: ${p.order.join(', ')}`);
  }
  const hashes = new HashIndex(cache.hashIndexFile);
  const plans = await planPipeline(p, cache, hashes, force);
  await hashes.save((f, t) => cache.writeText(f, t));
  if (o.check) {
    const stale = p.order.filter((n) => plans.get(n)!.state === 'stale');
    const diags = [...checkNames(p), ...(await checkKinds(p, stale))];
    if (diags.length) throw new PipelineError(diags.sort((a, b) => a.line - b.line || a.col - b.col));
  }
  return { p, cache, plans };
}

export interface RunCommandOptions extends CommonOptions {
  jobs?: number;
  force?: string[];
  dryRun?: boolean;
  backend?: string;
  slots?: Record<string, number>;
  /** Stops the run like Ctrl-C, without a message (the CLI aborts it when its reader closed the pipe). */
  stop?: AbortSignal;
  /** redis:// URL: stages run as jobs on the farm's workers instead of here. */
  farm?: string;
}

/** `runner run`: returns the process exit code (0 ok, 1 a stage failed, 130 interrupted). */
export async function runCommand(file: string, o: RunCommandOptions = {}): Promise<number> {
  checkBackend(o.backend);
  const { p, cache, plans } = await openPipeline(file, { ...o, check: true });
  const out = o.out ?? process.stdout;
  if (o.dryRun) {
    const w = Math.max(8, ...p.order.map((n) => n.length));
    for (const n of p.order) {
      const sp = plans.get(n)!;
      write(o, `${n.padEnd(w)}  ${sp.state === 'cached' ? `cached     ${sp.key.slice(0, 12)}` : `would run  ${sp.reasons.join('; ')}`}`);
    }
    const stale = [...plans.values()].filter((s) => s.state === 'stale').length;
    write(o, `dry run: ${stale} of ${p.order.length} stage(s) would run`);
    return 0;
  }
  const removed = cache.cleanStaleTemps();
  if (removed) write(o, `removed ${removed} unfinished temp folder(s) of killed runs`);
  const launcher = o.farm ? await (await loadFarm()).FarmLauncher.open(o.farm, cache, { backend: o.backend }) : undefined;
  const reporter = new Reporter(out, p.order);
  const ex = new Executor(p, cache, plans, { jobs: Math.max(1, o.jobs ?? 1), slots: { gpu: 1, ...(o.slots ?? {}) }, backend: o.backend, env: o.env, launcher }, reporter);
  const t0 = Date.now();
  const onSignal = (sig: NodeJS.Signals) => {
    reporter.message(`\n${sig}: stopping running stages (again to kill at once)...`);
    ex.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const onStop = () => ex.abort();
  if (o.stop?.aborted) ex.abort();
  o.stop?.addEventListener('abort', onStop);
  let res;
  try {
    res = await ex.run();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    o.stop?.removeEventListener('abort', onStop);
    reporter.finish();
  }
  const count = (s: string) => [...res.outcomes.values()].filter((x) => x.state === s).length;
  const parts = [`${count('done')} ran`, `${count('cached')} cached`];
  if (count('failed')) parts.push(`${count('failed')} failed`);
  if (count('skipped')) parts.push(`${count('skipped')} skipped`);
  if (count('interrupted')) parts.push(`${count('interrupted')} interrupted`);
  write(o, `${p.name}: ${parts.join(', ')} in ${formatElapsed(Date.now() - t0)}${res.interrupted ? ' (interrupted; finished stages are cached, the next run resumes)' : ''}`);
  if (res.ok && !res.interrupted) for (const line of [...resultLines(p, cache, res.outcomes), ...summaryLines(p, cache, res.outcomes)]) write(o, line);
  // every stage that succeeded (ran or cached) publishes, even when an unrelated stage failed; nothing on Ctrl-C
  const done = new Map([...res.outcomes].filter(([, x]) => x.state === 'done' || x.state === 'cached').map(([n, x]) => [n, x.key]));
  const published = res.interrupted || publishStages(p, cache, done, o);
  return res.interrupted ? 130 : res.ok && published ? 0 : 1;
}

/** Publishes the stages (name -> cache key) that have `publish:`; false when one could not be published. */
function publishStages(p: Pipeline, cache: Cache, keys: Map<string, string>, o: CommonOptions): boolean {
  let ok = true;
  for (const name of p.order) {
    const folder = p.stages.get(name)!.publish;
    const m = folder && keys.has(name) ? cache.manifest(keys.get(name)!) : null;
    if (!folder || !m) continue;
    try {
      const r = publishEntry(m, folder, p.file);
      write(o, r.created ? `published ${name}: ${r.folder}` : `published ${name}: unchanged, still ${r.folder}`);
    } catch (e) {
      ok = false;
      write(o, `publish of ${name} into ${folder} failed: ${(e as Error).message}`);
    }
  }
  return ok;
}

/** `runner publish FILE [STAGE]`: publishes again from the cache (the stages must be cached). */
export async function publishCommand(file: string, stage: string | undefined, o: CommonOptions = {}): Promise<number> {
  const { p, cache, plans } = await openPipeline(file, o);
  const withPublish = p.order.filter((n) => p.stages.get(n)!.publish);
  if (stage !== undefined && !p.stages.has(stage)) throw new UsageError(`publish: no stage '${stage}' in ${p.name}${didYouMean(stage, p.order)}; stages with publish: ${withPublish.join(', ') || 'none'}`);
  if (stage !== undefined && !p.stages.get(stage)!.publish) throw new UsageError(`publish: stage '${stage}' has no 'publish: <folder>' field in ${p.file}; stages with one: ${withPublish.join(', ') || 'none'}`);
  const names = stage === undefined ? withPublish : [stage];
  if (!names.length) throw new UsageError(`publish: no stage of ${p.name} has a 'publish: <folder>' field`);
  const stale = names.filter((n) => plans.get(n)!.state !== 'cached');
  if (stale.length) throw new UsageError(`publish: ${stale.map((n) => `'${n}' is stale (${plans.get(n)!.reasons.join('; ')})`).join(', ')}: run the pipeline first (runner run ${file})`);
  return publishStages(p, cache, new Map(names.map((n) => [n, plans.get(n)!.key])), o) ? 0 : 1;
}

/** Where the final stages' results are: the artifact folders of stages nothing else needs, with their files. */
function resultLines(p: Pipeline, cache: Cache, outcomes: Map<string, { state: string; key?: string }>): string[] {
  const needed = new Set([...p.stages.values()].flatMap((s) => s.needs));
  const lines: string[] = [];
  for (const name of p.order) {
    const key = outcomes.get(name)?.key;
    if (needed.has(name) || !key) continue;
    const dir = cache.artifacts(key);
    if (!existsSync(dir)) continue;
    const files = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile() && e.name !== 'meta.json').map((e) => e.name);
    lines.push(`results of ${name}: ${dir}${files.length ? `\n  ${files.map((f) => join(dir, f)).join('\n  ')}` : ''}`);
  }
  return lines;
}

/** The summaries of the stages whose kind asks for it (`"show": "summary"` in stages.json), one figure a line. */
function summaryLines(p: Pipeline, cache: Cache, outcomes: Map<string, { state: string; key?: string }>): string[] {
  const lines: string[] = [];
  for (const name of p.order) {
    const key = outcomes.get(name)?.key;
    const summary = key && p.stages.get(name)!.kind.showSummary ? cache.manifest(key)?.summary : null;
    if (!summary) continue;
    const w = Math.max(...Object.keys(summary).map((k) => k.length));
    lines.push(`summary of ${name}:`);
    for (const [k, v] of Object.entries(summary)) lines.push(`  ${k.padEnd(w)}  ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  return lines;
}

export interface StatusEntry {
  stage: string;
  state: 'cached' | 'stale';
  reason: string | null;
  key: string;
}

export async function statusCommand(file: string, o: CommonOptions & { json?: boolean } = {}): Promise<StatusEntry[]> {
  const { p, plans } = await openPipeline(file, { ...o, check: true });
  const entries = p.order.map((n) => {
    const sp = plans.get(n)!;
    return { stage: n, state: sp.state, reason: sp.state === 'stale' ? sp.reasons.join('; ') : null, key: sp.key };
  });
  if (o.json) write(o, JSON.stringify(entries, null, 2));
  else {
    const w = Math.max(8, ...p.order.map((n) => n.length));
    for (const e of entries) write(o, `${e.stage.padEnd(w)}  ${e.state.padEnd(6)}  ${e.state === 'cached' ? e.key.slice(0, 12) : e.reason}`);
  }
  return entries;
}

export async function dagCommand(file: string, o: CommonOptions = {}): Promise<string> {
  const { p, plans } = await openPipeline(file, o);
  const id = new Map(p.order.map((n, i) => [n, `s${i}`]));
  const lines = ['graph TD'];
  for (const n of p.order) {
    const sp = plans.get(n)!;
    const gpu = sp.def.resources.gpu ? ' · gpu' : '';
    lines.push(`  ${id.get(n)}["${n}<br/><small>${sp.def.kind.kind}${gpu} · ${sp.state}</small>"]:::${sp.state}`);
  }
  for (const n of p.order) for (const m of p.stages.get(n)!.needs) lines.push(`  ${id.get(m)} --> ${id.get(n)}`);
  lines.push('  classDef cached fill:#d8f0d8,stroke:#3a7d3a', '  classDef stale fill:#fff1c9,stroke:#b08900');
  const text = lines.join('\n');
  write(o, text);
  return text;
}

function describeManifest(m: Manifest): string {
  const out = [
    `stage     ${m.stage} (${m.kind} v${m.version}) of ${m.pipeline.name}`,
    `key       ${m.key}`,
    `ran       ${m.start} -> ${m.end} (${formatElapsed(m.durationMs)})${m.engine ? `, engine ${String(m.engine.name)}` : ''}`,
    `params    ${JSON.stringify(m.params)}`,
  ];
  for (const i of m.inputs) out.push(`input     ${i.path}  ${formatBytes(i.size)}  ${i.sha256.slice(0, 12)}`);
  for (const [n, k] of Object.entries(m.upstream)) out.push(`upstream  ${n}  ${k.slice(0, 12)}`);
  if (m.summary) out.push(`summary   ${JSON.stringify(m.summary)}`);
  out.push(`artifacts ${m.artifacts}`);
  const shown = m.outputs.slice(0, 50);
  for (const f of shown) out.push(`  ${f.path}  ${formatBytes(f.size)}  ${f.sha256.slice(0, 12)}`);
  if (m.outputs.length > shown.length) out.push(`  ... ${m.outputs.length - shown.length} more file(s)`);
  out.push(`log       ${m.log}`);
  out.push(`manifest  ${join(m.artifacts, '..', 'manifest.json')}`);
  return out.join('\n');
}

export async function showCommand(file: string, stage: string, o: CommonOptions & { json?: boolean } = {}): Promise<number> {
  const { p, cache, plans } = await openPipeline(file, o);
  const sp = plans.get(stage);
  if (!sp) throw new UsageError(`no stage '${stage}' in ${p.name}${didYouMean(stage, p.order)}; stages: ${p.order.join(', ')}`);
  if (sp.state === 'cached') {
    const m = cache.manifest(sp.key)!;
    write(o, o.json ? JSON.stringify(m, null, 2) : describeManifest(m));
    return 0;
  }
  const rec = cache.readIndex(p.name, stage);
  const last = rec && cache.has(rec.key) ? cache.manifest(rec.key) : null;
  if (o.json) {
    write(o, JSON.stringify({ stage, state: 'stale', reason: sp.reasons.join('; '), key: sp.key, last }, null, 2));
    return 0;
  }
  write(o, `${stage} is stale: ${sp.reasons.join('; ')}`);
  if (last) write(o, `\nlast run (cached under another key):\n${describeManifest(last)}`);
  return 0;
}

export function lsCommand(o: CommonOptions & { json?: boolean; cwd?: string } = {}): Manifest[] {
  const cache = new Cache(cacheRootFor(null, { cache: o.cache, env: o.env, cwd: o.cwd }));
  const ms = cache
    .keys()
    .map((k) => cache.manifest(k))
    .filter((m): m is Manifest => m !== null)
    .sort((a, b) => a.startMs - b.startMs);
  if (o.json) {
    write(o, JSON.stringify(ms.map((m) => ({ key: m.key, pipeline: m.pipeline.name, stage: m.stage, kind: m.kind, start: m.start, durationMs: m.durationMs, bytes: treeSize(m.artifacts), path: join(m.artifacts, '..') })), null, 2));
    return ms;
  }
  let total = 0;
  for (const m of ms) {
    const size = treeSize(join(m.artifacts, '..'));
    total += size;
    write(o, `${m.key.slice(0, 12)}  ${`${m.pipeline.name}/${m.stage}`.padEnd(28)}  ${m.kind.padEnd(8)}  ${formatBytes(size).padStart(10)}  ${m.start.slice(0, 19).replace('T', ' ')}  ${formatElapsed(m.durationMs)}`);
  }
  write(o, `${ms.length} entr${ms.length === 1 ? 'y' : 'ies'}, ${formatBytes(total)} in ${cache.cacheDir}`);
  return ms;
}

export interface GcResult {
  removed: string[];
  kept: string[];
  keptTrain: string[];
  freedBytes: number;
}

export async function gcCommand(o: CommonOptions & { keep?: string[]; all?: boolean; dryRun?: boolean; cwd?: string } = {}): Promise<GcResult> {
  const root = cacheRootFor(o.keep?.length ? o.keep[0] : null, { cache: o.cache, env: o.env, cwd: o.cwd });
  const cache = new Cache(root);
  const keep = new Set<string>();
  if (o.keep?.length) {
    for (const f of o.keep) {
      const { plans } = await openPipeline(f, { ...o, cache: root });
      for (const sp of plans.values()) keep.add(sp.key);
    }
  } else for (const [, , rec] of cache.allIndex()) keep.add(rec.key);
  const res: GcResult = { removed: [], kept: [], keptTrain: [], freedBytes: 0 };
  for (const k of cache.keys()) {
    if (keep.has(k)) {
      res.kept.push(k);
      continue;
    }
    const m = cache.manifest(k);
    if ((m?.keep || m?.kind === 'train') && !o.all) {
      res.keptTrain.push(k);
      continue;
    }
    const size = treeSize(cache.entry(k));
    res.freedBytes += size;
    res.removed.push(k);
    if (!o.dryRun) rmSync(cache.entry(k), { recursive: true, force: true });
    write(o, `${o.dryRun ? 'would remove' : 'removed'} ${k.slice(0, 12)}  ${m ? `${m.pipeline.name}/${m.stage} (${m.kind})` : '(no manifest)'}  ${formatBytes(size)}`);
  }
  if (!o.dryRun) cache.cleanStaleTemps();
  const workDir = join(root, 'work');
  if (o.all && existsSync(workDir)) {
    for (const k of readdirSync(workDir)) {
      if (keep.has(k)) continue;
      const size = treeSize(join(workDir, k));
      res.freedBytes += size;
      if (!o.dryRun) rmSync(join(workDir, k), { recursive: true, force: true });
      write(o, `${o.dryRun ? 'would remove' : 'removed'} resume folder ${k.slice(0, 12)}  ${formatBytes(size)}`);
    }
  }
  let msg = `${o.dryRun ? 'would free' : 'freed'} ${formatBytes(res.freedBytes)}: ${res.removed.length} entr${res.removed.length === 1 ? 'y' : 'ies'} removed, ${res.kept.length} kept`;
  if (res.keptTrain.length) msg += `, ${res.keptTrain.length} unreferenced model entr${res.keptTrain.length === 1 ? 'y' : 'ies'} (train) kept (use --all to remove)`;
  write(o, msg);
  return res;
}
