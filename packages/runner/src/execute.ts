import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { parseReportLine } from '@facecomb/stage';
import type { Cache, Manifest } from './cache.js';
import { hashTree } from './files.js';
import { envName, type Pipeline } from './pipeline.js';
import { indexRecord, type StagePlan } from './plan.js';
import { formatElapsed, type Reporter, type StageState } from './progress.js';
import { ProgressFile } from './progress-file.js';

export const RUNNER_VERSION = '0.1.0';

export interface RunOptions {
  /** Most stages running at once. */
  jobs: number;
  /** Resource totals; a stage asking for a resource listed here waits for a free slot (default `{gpu: 1}`). */
  slots: Record<string, number>;
  /** Tensor engine handed to stages as FACECOMB_BACKEND. */
  backend?: string;
  /** Lines of a failed stage's log to print. */
  tailLines?: number;
  env?: NodeJS.ProcessEnv;
}

export interface StageOutcome {
  state: StageState;
  key: string;
  /** Failure / skip explanation. */
  error?: string;
  log?: string;
}

export interface RunResult {
  outcomes: Map<string, StageOutcome>;
  interrupted: boolean;
  ok: boolean;
}

const CONTRACT_VARS = /^FACECOMB_(OUT|PARAMS|INPUTS|IN_.*|STAGE|PIPELINE_DIR|RESUME|BACKEND)$/;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Running {
  pid?: number;
  killTimer?: NodeJS.Timeout;
}

/** Executes the stale stages of a planned pipeline, in parallel within jobs and resource slots. */
export class Executor {
  private outcomes = new Map<string, StageOutcome>();
  private running = new Map<string, Running>();
  private used: Record<string, number> = {};
  private aborting = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly p: Pipeline,
    private readonly cache: Cache,
    private readonly plans: Map<string, StagePlan>,
    private readonly opts: RunOptions,
    private readonly reporter: Reporter,
  ) {}

  /** Stops cleanly: kills running stage process trees (SIGTERM, then SIGKILL after `graceMs`), starts nothing new. */
  abort(graceMs = 3000): void {
    const again = this.aborting;
    this.aborting = true;
    for (const r of this.running.values()) {
      if (!r.pid) continue;
      killTree(r.pid, again ? 'SIGKILL' : 'SIGTERM');
      if (!again && !r.killTimer) {
        r.killTimer = setTimeout(() => r.pid && killTree(r.pid, 'SIGKILL'), graceMs);
        r.killTimer.unref();
      }
    }
    this.wake?.();
  }

  private need(name: string): Record<string, number> {
    const req: Record<string, number> = {};
    for (const [r, n] of Object.entries(this.plans.get(name)!.def.resources)) {
      const total = this.opts.slots[r];
      if (total !== undefined && n > 0) req[r] = Math.min(n, total);
    }
    return req;
  }

  private fits(req: Record<string, number>): boolean {
    return Object.entries(req).every(([r, n]) => (this.used[r] ?? 0) + n <= this.opts.slots[r]);
  }

  async run(): Promise<RunResult> {
    const pending = new Set<string>();
    for (const name of this.p.order) {
      const sp = this.plans.get(name)!;
      if (sp.state === 'cached') {
        this.outcomes.set(name, { state: 'cached', key: sp.key });
        this.reporter.update(name, { state: 'cached', note: sp.key.slice(0, 12) });
        this.cache.writeIndex(this.p.name, name, indexRecord(this.p, sp));
      } else pending.add(name);
    }
    const tasks = new Set<Promise<void>>();
    for (;;) {
      if (!this.aborting) {
        for (const name of [...pending]) {
          const sp = this.plans.get(name)!;
          const bad = sp.def.needs.find((n) => ['failed', 'skipped', 'interrupted'].includes(this.outcomes.get(n)?.state ?? ''));
          if (bad) {
            pending.delete(name);
            const why = `upstream '${bad}' ${this.outcomes.get(bad)!.state}`;
            this.outcomes.set(name, { state: 'skipped', key: sp.key, error: why });
            this.reporter.update(name, { state: 'skipped', note: why });
            continue;
          }
          if (!sp.def.needs.every((n) => ['done', 'cached'].includes(this.outcomes.get(n)?.state ?? ''))) continue;
          if (this.running.size >= this.opts.jobs) break;
          const req = this.need(name);
          if (!this.fits(req)) continue;
          pending.delete(name);
          for (const [r, n] of Object.entries(req)) this.used[r] = (this.used[r] ?? 0) + n;
          this.running.set(name, {});
          const t: Promise<void> = this.runStage(sp)
            .then(
              (o) => void this.outcomes.set(name, o),
              (e) => void this.outcomes.set(name, { state: 'failed', key: sp.key, error: (e as Error).message }),
            )
            .finally(() => {
              for (const [r, n] of Object.entries(req)) this.used[r] -= n;
              this.running.delete(name);
              tasks.delete(t);
              const o = this.outcomes.get(name)!;
              this.reporter.update(name, { state: o.state, note: o.state === 'done' || o.state === 'cached' ? sp.key.slice(0, 12) : o.state === 'failed' ? o.error : undefined });
            });
          tasks.add(t);
        }
      }
      if (!tasks.size) break;
      await new Promise<void>((res) => {
        this.wake = res;
        Promise.race(tasks).then(res, res);
      });
      this.wake = undefined;
    }
    for (const name of pending) {
      this.outcomes.set(name, { state: 'interrupted', key: this.plans.get(name)!.key });
    }
    const states = [...this.outcomes.values()].map((o) => o.state);
    return { outcomes: this.outcomes, interrupted: this.aborting, ok: !this.aborting && states.every((s) => s === 'done' || s === 'cached') };
  }

  private async runStage(sp: StagePlan): Promise<StageOutcome> {
    const { name, key, def } = sp;
    // one runner per key
    let waited = false;
    while (!this.cache.tryLock(key)) {
      if (this.aborting) return { state: 'interrupted', key };
      if (!waited) {
        const twin = [...this.running.keys()].find((n) => n !== name && this.plans.get(n)!.key === key);
        this.reporter.update(name, { state: 'waiting', note: twin ? `same key as stage '${twin}'` : 'another runner is working on this key' });
      }
      waited = true;
      await sleep(300);
    }
    let tmp: string | undefined;
    try {
      if (this.aborting) return { state: 'interrupted', key };
      if (this.cache.has(key) && !sp.reasons.includes('forced')) {
        this.cache.writeIndex(this.p.name, name, indexRecord(this.p, sp));
        this.reporter.update(name, { note: 'made meanwhile under the same key' });
        return { state: 'cached', key };
      }
      if (def.kind.cli && !existsSync(def.kind.cli)) {
        throw new Error(`stage entry ${def.kind.cli} of ${def.kind.pkg} not found: build it first (npx tsc -b)`);
      }
      tmp = this.cache.makeTemp(key);
      const out = join(tmp, 'out');
      const resume = this.cache.work(key);
      mkdirSync(resume, { recursive: true });
      const inputs: Record<string, string> = {};
      for (const n of def.needs) inputs[n] = this.cache.artifacts(this.plans.get(n)!.key);
      const env: NodeJS.ProcessEnv = {};
      for (const [k, v] of Object.entries(this.opts.env ?? process.env)) if (!CONTRACT_VARS.test(k)) env[k] = v;
      Object.assign(env, {
        FACECOMB_OUT: out,
        FACECOMB_PARAMS: JSON.stringify(def.params),
        FACECOMB_INPUTS: JSON.stringify(inputs),
        FACECOMB_STAGE: name,
        FACECOMB_PIPELINE_DIR: this.p.dir,
        FACECOMB_RESUME: resume,
      });
      if (this.opts.backend) env.FACECOMB_BACKEND = this.opts.backend;
      for (const [n, dir] of Object.entries(inputs)) env[`FACECOMB_IN_${envName(n)}`] = dir;
      if (def.kind.kind === 'shell' && def.params.env && typeof def.params.env === 'object') {
        for (const [k, v] of Object.entries(def.params.env as Record<string, unknown>)) env[k] = String(v);
      }
      const [file, args] = def.kind.cli ? [process.execPath, [def.kind.cli, def.kind.kind]] : ['/bin/sh', ['-c', String(def.params.cmd)]];
      const logFile = join(tmp, 'log.txt');
      const log = createWriteStream(logFile);
      log.write(`# stage '${name}' of pipeline '${this.p.name}' (${def.kind.kind} v${def.kind.version}), key ${key}\n`);
      log.write(`# ${def.kind.cli ? `node ${def.kind.cli} ${def.kind.kind}` : `sh -c ${JSON.stringify(def.params.cmd)}`}  (cwd ${this.p.dir})\n`);
      const startMs = Date.now();
      this.reporter.update(name, { state: 'running', startMs, note: undefined });
      const child = execa(file, args, { cwd: this.p.dir, env, extendEnv: false, stdin: 'ignore', buffer: false, reject: false, detached: true, cleanup: false });
      const running = this.running.get(name)!;
      running.pid = child.pid;
      if (child.pid) writeFileSync(join(tmp, 'stage.pid'), String(child.pid));
      const live = new ProgressFile(tmp, { pipeline: this.p.name, stage: name, kind: def.kind.kind, key, startMs, pid: process.pid });
      if (this.aborting && child.pid) killTree(child.pid, 'SIGTERM');
      let engine: Record<string, unknown> | null = null;
      let summary: Record<string, unknown> | null = null;
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
              this.reporter.progress(name, r.value as never);
              live.update(r.value as never);
            } else if (r.type === 'summary') summary = r.value;
            else if (r.type === 'engine') engine = r.value;
          });
          rl.on('close', () => res());
        });
      const [result] = await Promise.all([child, pump(child.stdout, true), pump(child.stderr, false)]);
      live.close();
      if (running.killTimer) clearTimeout(running.killTimer);
      // the process group may still hold children (`sh -c 'sleep 100 &'`): end them with the stage
      if (child.pid) killTree(child.pid, 'SIGKILL');
      const endMs = Date.now();
      const exit = result.exitCode ?? null;
      log.write(`# exit ${exit ?? `signal ${result.signal}`} after ${formatElapsed(endMs - startMs)}\n`);
      await new Promise<void>((res) => log.end(res));
      if (this.aborting) return { state: 'interrupted', key };
      if (exit !== 0) {
        const saved = this.cache.failedLog(this.p.name, name);
        renameSync(logFile, saved);
        const lines = readFileSync(saved, 'utf8').trimEnd().split('\n');
        const tail = lines.slice(-(this.opts.tailLines ?? 20));
        const why = exit === null ? `killed by ${result.signal}` : `exit code ${exit}`;
        this.reporter.message(`\nstage '${name}' failed (${why}); last ${tail.length} lines of its log:\n${tail.map((l) => `  | ${l}`).join('\n')}\nfull log: ${saved}\n`);
        return { state: 'failed', key, error: why, log: saved };
      }
      const entry = this.cache.entry(key);
      const manifest: Manifest = {
        key,
        stage: name,
        kind: def.kind.kind,
        version: def.kind.version,
        pipeline: { name: this.p.name, file: this.p.file },
        params: def.params,
        inputs: sp.inputs.map((i) => ({ param: i.param, path: i.path, size: i.size, sha256: i.sha256 })),
        upstream: sp.upstream,
        resources: def.resources,
        keep: def.kind.keep,
        outputs: await hashTree(out),
        artifacts: join(entry, 'out'),
        start: new Date(startMs).toISOString(),
        end: new Date(endMs).toISOString(),
        startMs,
        endMs,
        durationMs: endMs - startMs,
        engine,
        summary,
        log: join(entry, 'log.txt'),
        runner: RUNNER_VERSION,
        host: hostname(),
        pid: process.pid,
      };
      writeFileSync(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      rmSync(join(tmp, 'stage.pid'), { force: true });
      rmSync(join(tmp, ProgressFile.NAME), { force: true });
      if (this.aborting) return { state: 'interrupted', key };
      this.cache.commit(tmp, key);
      tmp = undefined;
      this.cache.writeIndex(this.p.name, name, indexRecord(this.p, sp));
      rmSync(resume, { recursive: true, force: true });
      return { state: 'done', key };
    } finally {
      if (tmp) rmSync(tmp, { recursive: true, force: true });
      this.cache.unlock(key);
    }
  }
}

/** Signals a stage's whole process group (stages run as group leaders). */
export function killTree(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* the group is gone */
  }
}
