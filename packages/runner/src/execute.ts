import type { Cache } from './cache.js';
import { chunkKey, chunkRanges, upstreamFrames, type ChunkRef } from './chunks.js';
import { stageJob, type JobOutcome, type StageJob } from './job.js';
import { LocalLauncher, type LaunchHooks, type Launcher } from './launcher.js';
import type { Pipeline } from './pipeline.js';
import { indexRecord, type StagePlan } from './plan.js';
import type { Reporter, StageState } from './progress.js';

export { RUNNER_VERSION, killTree } from './job.js';

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
  /** Where jobs run (default: child processes here). */
  launcher?: Launcher;
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Executes the stale stages of a planned pipeline in dependency order: a failed stage skips its dependents,
 * a chunked stage becomes one job per frame chunk plus an assembly. Where each job runs is the launcher's
 * business (local child processes by default, a farm with packages/farm).
 */
export class Executor {
  private outcomes = new Map<string, StageOutcome>();
  private aborting = false;
  private wake: (() => void) | undefined;
  readonly launcher: Launcher;

  constructor(
    private readonly p: Pipeline,
    private readonly cache: Cache,
    private readonly plans: Map<string, StagePlan>,
    private readonly opts: RunOptions,
    private readonly reporter: Reporter,
  ) {
    this.launcher = opts.launcher ?? new LocalLauncher(cache, opts);
  }

  /** Stops cleanly: kills running stage process trees (SIGTERM, then SIGKILL after `graceMs`), starts nothing new. */
  abort(graceMs = 3000): void {
    this.aborting = true;
    this.launcher.abort(graceMs);
    this.wake?.();
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
          // a chunked stage reserves room per chunk job
          const release = sp.def.chunk ? () => {} : this.launcher.reserve(sp.def.resources);
          if (!release) continue;
          pending.delete(name);
          const t: Promise<void> = (sp.def.chunk ? this.runChunked(sp, sp.def.chunk) : this.runOne(sp, stageJob(this.p, sp)))
            .then(
              (o) => void this.outcomes.set(name, o),
              (e) => void this.outcomes.set(name, { state: 'failed', key: sp.key, error: (e as Error).message }),
            )
            .finally(() => {
              release();
              tasks.delete(t);
              let o = this.outcomes.get(name)!;
              if (o.state === 'done' || o.state === 'cached') {
                try {
                  this.cache.writeIndex(this.p.name, name, indexRecord(this.p, sp));
                } catch (e) {
                  // the entry is committed; only the record of this run is missing: say why and fail the run
                  o = { ...o, state: 'failed', error: (e as Error).message };
                  this.outcomes.set(name, o);
                  this.reporter.message(`\nstage '${name}': ${o.error}\n`);
                }
              }
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
    await this.launcher.close?.();
    const states = [...this.outcomes.values()].map((o) => o.state);
    return { outcomes: this.outcomes, interrupted: this.aborting, ok: !this.aborting && states.every((s) => s === 'done' || s === 'cached') };
  }

  /** Job events on the stage's status line; a chunked stage's line shows chunks done instead. */
  private hooks(name: string, chunked: boolean): LaunchHooks {
    if (chunked) return { waiting: () => {}, running: () => {}, progress: () => {} };
    return {
      waiting: (note) => this.reporter.update(name, { state: 'waiting', note }),
      running: (startMs, note) => this.reporter.update(name, { state: 'running', startMs, note }),
      progress: (p) => this.reporter.progress(name, p),
    };
  }

  /** One job through the launcher; a failure prints the tail of its log. */
  private async runOne(sp: StagePlan, job: StageJob, chunked = false): Promise<StageOutcome> {
    let o: JobOutcome;
    try {
      o = await this.launcher.launch(job, sp.def.kind.cli, this.hooks(sp.name, chunked));
    } catch (e) {
      o = { state: 'failed', key: job.key, error: (e as Error).message };
    }
    if (o.state === 'failed') {
      const part = job.frames ? ` (frames ${job.frames[0]}-${job.frames[1]})` : job.chunks ? ' (assembling its chunks)' : '';
      const where = o.host ? ` on ${o.host}` : '';
      const tail = o.tail ?? [];
      this.reporter.message(
        `\nstage '${sp.name}'${part} failed${where} (${o.error})${tail.length ? `; last ${tail.length} lines of its log:\n${tail.map((l) => `  | ${l}`).join('\n')}` : ''}${o.log ? `\nfull log: ${o.log}` : ''}\n`,
      );
    }
    return { state: o.state, key: sp.key, error: o.error, log: o.log };
  }

  /** Chunk jobs (each cached under its own key), then the assembly job that commits the stage's key. */
  private async runChunked(sp: StagePlan, size: number): Promise<StageOutcome> {
    const frames = upstreamFrames(this.cache, sp.name, sp.def.needs.map((n) => [n, this.plans.get(n)!.key]));
    const chunks: ChunkRef[] = chunkRanges(frames, size).map((f) => ({ key: chunkKey(sp.key, f), frames: f }));
    const forced = sp.reasons.includes('forced');
    let done = 0;
    const progress = () => this.reporter.progress(sp.name, { done, total: chunks.length, unit: 'chunks' });
    this.reporter.update(sp.name, { state: 'running', startMs: Date.now() });
    progress();
    const results = await Promise.all(
      chunks.map(async (c) => {
        if (this.cache.has(c.key) && !forced) {
          done++;
          progress();
          return { state: 'cached' as StageState, key: c.key };
        }
        let release: (() => void) | null = null;
        while (!(release = this.launcher.reserve(sp.def.resources))) {
          if (this.aborting) return { state: 'interrupted' as StageState, key: c.key };
          await sleep(50);
        }
        try {
          const o = await this.runOne(sp, stageJob(this.p, sp, { key: c.key, frames: c.frames, chunkOf: sp.key }), true);
          if (o.state === 'done' || o.state === 'cached') {
            done++;
            progress();
          }
          return o;
        } finally {
          release();
        }
      }),
    );
    const bad = results.find((r) => r.state === 'failed') ?? results.find((r) => r.state !== 'done' && r.state !== 'cached');
    if (bad) return { ...bad, key: sp.key };
    return this.runOne(sp, stageJob(this.p, sp, { chunks }), true);
  }
}
