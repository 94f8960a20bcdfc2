import { writeFileSync, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { parseReportLine } from '@facecomb/stage';
import type { StageStore } from './cache.js';
import { diskFullError } from './disk.js';
import type { RunJobOptions, StageJob } from './job.js';
import { envName } from './pipeline.js';
import { ProgressFile } from './progress-file.js';

const CONTRACT_VARS = /^FACECOMB_(OUT|PARAMS|INPUTS|IN_.*|STAGE|PIPELINE_DIR|RESUME|STAGE_CACHE|BACKEND|FRAMES)$/;

/** How a stage process ended, and the `::engine` / `::summary` lines it printed. */
export interface ProcessEnd {
  exit: number | null;
  signal?: string;
  engine: Record<string, unknown> | null;
  summary: Record<string, unknown> | null;
}

/** The stage's environment: the caller's, less any contract variable, plus the contract (docs/STAGES.md). */
function contractEnv(job: StageJob, o: RunJobOptions, dirs: { out: string; resume: string; stageCache: string; inputs: Record<string, string> }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(o.env ?? process.env)) if (!CONTRACT_VARS.test(k)) env[k] = v;
  Object.assign(env, {
    FACECOMB_OUT: dirs.out,
    FACECOMB_PARAMS: JSON.stringify(job.params),
    FACECOMB_INPUTS: JSON.stringify(dirs.inputs),
    FACECOMB_STAGE: job.stage,
    FACECOMB_PIPELINE_DIR: job.pipeline.dir,
    FACECOMB_RESUME: dirs.resume,
    FACECOMB_STAGE_CACHE: dirs.stageCache,
  });
  if (job.frames) env.FACECOMB_FRAMES = `${job.frames[0]}-${job.frames[1]}`;
  if (o.backend) env.FACECOMB_BACKEND = o.backend;
  for (const [n, dir] of Object.entries(dirs.inputs)) env[`FACECOMB_IN_${envName(n)}`] = dir;
  if (job.kind.kind === 'shell' && job.params.env && typeof job.params.env === 'object') {
    for (const [k, v] of Object.entries(job.params.env as Record<string, unknown>)) env[k] = String(v);
  }
  return env;
}

/**
 * Runs the stage's process (its CLI, or `sh -c` for shell) in its own process group with the contract
 * environment; every line goes to the log, stdout's report lines to the hooks and the live progress file.
 */
export async function runStageProcess(job: StageJob, cache: StageStore, o: RunJobOptions, at: { tmp: string; out: string; resume: string; log: WriteStream; startMs: number }): Promise<ProcessEnd> {
  const { tmp, log, startMs } = at;
  mkdirSync(at.resume, { recursive: true });
  const stageCache = cache.stageCache(job.kind.kind);
  mkdirSync(stageCache, { recursive: true });
  const inputs: Record<string, string> = {};
  for (const [n, k] of Object.entries(job.upstream)) inputs[n] = cache.artifacts(k);
  const env = contractEnv(job, o, { out: at.out, resume: at.resume, stageCache, inputs });
  const [file, args] = o.cli ? [process.execPath, [o.cli, job.kind.kind]] : ['/bin/sh', ['-c', String(job.params.cmd)]];
  log.write(`# ${o.cli ? `node ${o.cli} ${job.kind.kind}` : `sh -c ${JSON.stringify(job.params.cmd)}`}  (cwd ${job.pipeline.dir})\n`);
  const child = execa(file, args, { cwd: job.pipeline.dir, env, extendEnv: false, stdin: 'ignore', buffer: false, reject: false, detached: true, cleanup: false });
  try {
    if (child.pid) writeFileSync(join(tmp, 'stage.pid'), String(child.pid));
  } catch (e) {
    // (a full disk) the stage must not run on unseen, holding space in a folder about to be removed
    if (child.pid) killTree(child.pid, 'SIGKILL');
    throw diskFullError(e, join(tmp, 'stage.pid'));
  }
  const live = new ProgressFile(tmp, { pipeline: job.pipeline.name, stage: job.stage, kind: job.kind.kind, key: job.key, startMs, pid: process.pid });
  o.hooks?.started?.(child.pid, startMs);
  if (o.aborted() && child.pid) killTree(child.pid, 'SIGTERM');
  const end: ProcessEnd = { exit: 0, engine: null, summary: null };
  const pump = (stream: NodeJS.ReadableStream | null, parse: boolean) =>
    new Promise<void>((res) => {
      if (!stream) return res();
      const rl = createInterface({ input: stream, crlfDelay: Infinity });
      rl.on('line', (line) => {
        log.write(`${line}\n`);
        if (!parse) return;
        const r = parseReportLine(line);
        if (!r) return;
        if (r.type === 'progress' && typeof r.value.done === 'number') {
          o.hooks?.progress?.(r.value as never);
          live.update(r.value as never);
        } else if (r.type === 'summary') end.summary = r.value;
        else if (r.type === 'engine') end.engine = r.value;
      });
      rl.on('close', () => res());
    });
  const [result] = await Promise.all([child, pump(child.stdout, true), pump(child.stderr, false)]);
  live.close();
  // the process group may still hold children (`sh -c 'sleep 100 &'`): end them with the stage
  if (child.pid) killTree(child.pid, 'SIGKILL');
  end.exit = result.exitCode ?? null;
  end.signal = result.signal ?? undefined;
  return end;
}

/** Signals a stage's whole process group (stages run as group leaders). */
export function killTree(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* the group is gone */
  }
}
