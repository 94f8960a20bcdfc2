import { createWriteStream, existsSync, readFileSync, renameSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Manifest, StageStore } from './cache.js';
import { assembleChunks, chunkKey, type ChunkRef } from './chunks.js';
import { DiskFullError, diskFullError, freeBytes, isDiskFull } from './disk.js';
import { hashTree, treeSize } from './files.js';
import { runStageProcess, type ProcessEnd } from './job-process.js';
import { stageKey, type StagePlan } from './plan.js';
import { ProgressFile } from './progress-file.js';
import { formatElapsed, type StageProgress } from './progress.js';
import type { ChunkSpec } from './registry.js';

export { killTree } from './job-process.js';

export const RUNNER_VERSION = '0.1.0';

/**
 * One unit of work, self-contained and JSON-serialisable so any executor (a local child process, a farm worker
 * on another machine) can run it against the same cache: a whole stage, one frame chunk of a stage, or the
 * assembly of a stage's chunks into its artifact.
 */
export interface StageJob {
  /** Cache key this job commits: the stage's key, or the chunk's key. */
  key: string;
  stage: string;
  pipeline: { name: string; file: string; dir: string };
  kind: { kind: string; version: string; pkg: string; keep: boolean; chunk: ChunkSpec | null };
  params: Record<string, unknown>;
  /** Needed stage -> its key (FACECOMB_INPUTS point at their artifact folders). */
  upstream: Record<string, string>;
  inputs: { param: string; path: string; size: number; sha256: string }[];
  resources: Record<string, number>;
  /** Rerun even if cached (`--force`); the new entry replaces the old one. */
  forced: boolean;
  /** A chunk: the frame numbers [first, last] (inclusive) the stage computes, and the whole stage's key. */
  frames?: [number, number];
  chunkOf?: string;
  /** An assembly: the chunks merged into the stage's artifact, in frame order. */
  chunks?: ChunkRef[];
  /** Which submission asked for it (recorded in the manifest): a submitter tells its own runs from cache hits. */
  run?: string;
}

/**
 * Why a job's key does not follow from its content (null when it does): a key is only ever filled by the work
 * it names, whoever sent the job.
 */
export function jobKeyProblem(job: StageJob): string | null {
  const own = stageKey({ kind: job.kind.kind, version: job.kind.version, params: job.params, upstream: job.upstream, inputs: job.inputs });
  if (job.frames) {
    if (job.chunkOf !== own) return `its stage key ${String(job.chunkOf).slice(0, 12)} is not the key of its content (${own.slice(0, 12)})`;
    const k = chunkKey(own, job.frames);
    return k === job.key ? null : `its key ${job.key.slice(0, 12)} is not the key of frames ${job.frames.join('-')} of its stage (${k.slice(0, 12)})`;
  }
  if (own !== job.key) return `its key ${job.key.slice(0, 12)} is not the key of its content (${own.slice(0, 12)})`;
  const bad = (job.chunks ?? []).find((c) => c.key !== chunkKey(own, c.frames));
  return bad ? `its chunk ${bad.key.slice(0, 12)} is not the key of frames ${bad.frames.join('-')} of the stage` : null;
}

export type JobState = 'done' | 'cached' | 'failed' | 'interrupted';

export interface JobOutcome {
  state: JobState;
  key: string;
  /** Failure explanation (`exit code 1`). */
  error?: string;
  /** Saved log of a failed run. */
  log?: string;
  /** Last lines of that log. */
  tail?: string[];
  /** Machine that ran it. */
  host?: string;
}

export interface JobHooks {
  /** The stage process started (its pid is the process group to kill). */
  started?(pid: number | undefined, startMs: number): void;
  progress?(p: StageProgress): void;
}

export interface RunJobOptions {
  /** Absolute path of the kind's entry (`node <cli> <kind>`); null for shell. */
  cli: string | null;
  backend?: string;
  env?: NodeJS.ProcessEnv;
  tailLines?: number;
  /** True once the run is being stopped: no new process starts, nothing is committed. */
  aborted(): boolean;
  hooks?: JobHooks;
}

/** The job for a planned stage (or one of its chunks / its assembly). */
export function stageJob(pipeline: { name: string; file: string; dir: string }, sp: StagePlan, part: Partial<Pick<StageJob, 'key' | 'frames' | 'chunkOf' | 'chunks'>> = {}): StageJob {
  const k = sp.def.kind;
  return {
    key: sp.key,
    stage: sp.name,
    // only these three: the executor passes its whole Pipeline (with the parsed YAML), which is no job content
    pipeline: { name: pipeline.name, file: pipeline.file, dir: pipeline.dir },
    kind: { kind: k.kind, version: k.version, pkg: k.pkg, keep: k.keep, chunk: k.chunk },
    params: sp.def.params,
    upstream: sp.upstream,
    inputs: sp.inputs.map((i) => ({ param: i.param, path: i.path, size: i.size, sha256: i.sha256 })),
    resources: sp.def.resources,
    forced: sp.reasons.includes('forced'),
    ...part,
  };
}

/**
 * Runs one job to its end exactly as the local runner does: a temp folder inside the cache root, the stage's
 * CLI with the contract environment, its log and manifest, then an atomic rename into the cache. The caller
 * holds whatever exclusivity it has (a lock file, a farm job lease); a lost commit race is a cache hit.
 */
export async function runStageJob(job: StageJob, cache: StageStore, o: RunJobOptions): Promise<JobOutcome> {
  const { key, stage } = job;
  const host = hostname();
  if (o.aborted()) return { state: 'interrupted', key };
  if (cache.has(key) && !job.forced) return { state: 'cached', key, host };
  if (!job.chunks && o.cli && !existsSync(o.cli)) {
    throw new Error(`stage entry ${o.cli} of ${job.kind.pkg} not found: build it first (npx tsc -b)`);
  }
  let tmp: string | undefined = cache.makeTemp(key);
  try {
    const out = join(tmp, 'out');
    const resume = cache.work(key);
    const logFile = join(tmp, 'log.txt');
    const log = createWriteStream(logFile);
    // a full disk fails the log's writes: kept to report once the stage ended, never an unhandled 'error'
    let logError: unknown;
    log.on('error', (e) => (logError ??= e));
    const what = job.chunks ? `assembly of ${job.chunks.length} chunks` : job.frames ? `frames ${job.frames[0]}-${job.frames[1]}` : '';
    log.write(`# stage '${stage}' of pipeline '${job.pipeline.name}' (${job.kind.kind} v${job.kind.version})${what ? `, ${what}` : ''}, key ${key}, on ${host}\n`);
    const startMs = Date.now();
    const end = job.chunks ? await runAssembly(job, job.chunks, cache, o, { out, log, startMs }) : await runStageProcess(job, cache, o, { tmp, out, resume, log, startMs });
    const { exit, signal } = end;
    const endMs = Date.now();
    // whether the stage's own output filled the log (else the failed writes were the stage's outputs)
    const logFilled = logError;
    log.write(`# exit ${exit ?? `signal ${signal}`} after ${formatElapsed(endMs - startMs)}\n`);
    await new Promise<void>((res) => (log.destroyed ? res() : log.end(res)));
    if (o.aborted()) return { state: 'interrupted', key };
    // a stage that failed on a full disk (its own writes or its log's) is reported as that, with what it had made
    const full = (logError && isDiskFull(logError)) || (exit !== 0 && freeBytes(tmp) < 64 * 1024) ? new DiskFullError(logFilled || exit === 0 ? logFile : out, Math.max(1, Math.ceil(treeSize(tmp) / 2 ** 20))) : null;
    if (logError && !full) throw logError;
    if (exit !== 0 || full) return failedOutcome(job, cache, { logFile, tailLines: o.tailLines ?? 20, full, end, host });
    const manifest = await manifestOf(job, cache, { out, startMs, endMs, end, host });
    try {
      writeFileSync(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    } catch (e) {
      throw diskFullError(e, join(tmp, 'manifest.json'));
    }
    rmSync(join(tmp, 'stage.pid'), { force: true });
    rmSync(join(tmp, ProgressFile.NAME), { force: true });
    if (o.aborted()) return { state: 'interrupted', key };
    const committed = cache.commit(tmp, key, job.forced);
    tmp = undefined;
    rmSync(resume, { recursive: true, force: true });
    return { state: committed === 'committed' ? 'done' : 'cached', key, host };
  } catch (e) {
    throw diskFullError(e, tmp ?? cache.root);
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

/** An assembly job: merges the stage's chunks into its artifact, in this process. */
async function runAssembly(job: StageJob, chunks: ChunkRef[], cache: StageStore, o: RunJobOptions, at: { out: string; log: WriteStream; startMs: number }): Promise<ProcessEnd> {
  const end: ProcessEnd = { exit: 0, engine: null, summary: null };
  o.hooks?.started?.(undefined, at.startMs);
  try {
    end.summary = await assembleChunks(cache, chunks, at.out, job.kind.chunk ?? { sum: [] });
    at.log.write(`# assembled ${chunks.length} chunk(s): ${chunks.map((c) => `${c.frames[0]}-${c.frames[1]} ${c.key.slice(0, 12)}`).join(', ')}\n`);
  } catch (e) {
    at.log.write(`error: ${(e as Error).message}\n`);
    end.exit = 1;
  }
  return end;
}

/** A failed job: its log saved beside the pipeline's failed logs (unless the disk is full), its last lines kept. */
function failedOutcome(job: StageJob, cache: StageStore, f: { logFile: string; tailLines: number; full: DiskFullError | null; end: ProcessEnd; host: string }): JobOutcome {
  const { full, end } = f;
  const tail = readFileSync(f.logFile, 'utf8').trimEnd().split('\n').slice(-f.tailLines);
  let saved: string | undefined;
  try {
    saved = cache.failedLog(job.pipeline.name, job.frames ? `${job.stage}.${job.frames[0]}-${job.frames[1]}` : job.stage);
    renameSync(f.logFile, saved);
  } catch (e) {
    if (!full || !isDiskFull(e)) throw e;
    saved = undefined;
  }
  const error = full ? full.message : end.exit === null ? `killed by ${end.signal}` : `exit code ${end.exit}`;
  return { state: 'failed', key: job.key, error, log: saved, tail, host: f.host };
}

/** The manifest of a finished job, as its cache entry will hold it. */
async function manifestOf(job: StageJob, cache: StageStore, m: { out: string; startMs: number; endMs: number; end: ProcessEnd; host: string }) {
  const { key, stage } = job;
  const { startMs, endMs } = m;
  const entry = cache.entry(key);
  const manifest: Manifest & { frames?: [number, number]; chunkOf?: string; chunks?: ChunkRef[]; run?: string } = {
    key,
    stage,
    kind: job.kind.kind,
    version: job.kind.version,
    pipeline: { name: job.pipeline.name, file: job.pipeline.file },
    params: job.params,
    inputs: job.inputs,
    upstream: job.upstream,
    resources: job.resources,
    keep: job.kind.keep,
    outputs: await hashTree(m.out),
    artifacts: join(entry, 'out'),
    start: new Date(startMs).toISOString(),
    end: new Date(endMs).toISOString(),
    startMs,
    endMs,
    durationMs: endMs - startMs,
    engine: m.end.engine,
    summary: m.end.summary,
    log: join(entry, 'log.txt'),
    runner: RUNNER_VERSION,
    host: m.host,
    pid: process.pid,
    ...(job.frames ? { frames: job.frames, chunkOf: job.chunkOf } : {}),
    ...(job.chunks ? { chunks: job.chunks } : {}),
    ...(job.run ? { run: job.run } : {}),
  };
  return manifest;
}
