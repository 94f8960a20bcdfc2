import type { Cache } from './cache.js';
import { killTree, runStageJob, type JobOutcome, type StageJob } from './job.js';
import type { StageProgress } from './progress.js';

/** What a launcher tells the scheduler about one job while it runs. */
export interface LaunchHooks {
  /** Waiting before it can start (another runner holds the key, queued on a farm). */
  waiting(note: string): void;
  /** Started (on `host` when not this machine). */
  running(startMs: number, note?: string): void;
  progress(p: StageProgress): void;
}

/**
 * Where jobs run. The scheduler (Executor) walks the DAG, splits chunked stages and reports; a launcher runs
 * single jobs: LocalLauncher as child processes of this runner, the farm's as queue jobs that workers on other
 * machines take (packages/farm). Another engine (Temporal, OpenCue, Deadline, Kubernetes Jobs) is one more
 * implementation of this interface whose worker side calls runStageJob.
 */
export interface Launcher {
  /** Room for a job needing `resources`: a release function, or null while it must wait (jobs, slots). */
  reserve(resources: Record<string, number>): (() => void) | null;
  /** Runs a job to its end. `cli` is this machine's path of the kind's entry (a remote worker resolves its own). */
  launch(job: StageJob, cli: string | null, hooks: LaunchHooks): Promise<JobOutcome>;
  /** Stops running jobs (SIGTERM, then SIGKILL after `graceMs`; at once when called again). */
  abort(graceMs: number): void;
  /** Frees connections once the run has ended. */
  close?(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs jobs as child processes here, up to `jobs` at once within resource slots, one runner per key. */
export class LocalLauncher implements Launcher {
  private used: Record<string, number> = {};
  private active = 0;
  private aborting = false;
  private pids = new Map<string, { pid?: number; timer?: NodeJS.Timeout }>();

  constructor(
    private readonly cache: Cache,
    private readonly opts: { jobs: number; slots: Record<string, number>; backend?: string; env?: NodeJS.ProcessEnv; tailLines?: number },
  ) {}

  reserve(resources: Record<string, number>): (() => void) | null {
    const req: Record<string, number> = {};
    for (const [r, n] of Object.entries(resources)) {
      const total = this.opts.slots[r];
      if (total !== undefined && n > 0) req[r] = Math.min(n, total);
    }
    if (this.active >= this.opts.jobs) return null;
    if (!Object.entries(req).every(([r, n]) => (this.used[r] ?? 0) + n <= this.opts.slots[r])) return null;
    this.active++;
    for (const [r, n] of Object.entries(req)) this.used[r] = (this.used[r] ?? 0) + n;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      for (const [r, n] of Object.entries(req)) this.used[r] -= n;
    };
  }

  async launch(job: StageJob, cli: string | null, hooks: LaunchHooks): Promise<JobOutcome> {
    const { key } = job;
    let waited = false;
    while (!this.cache.tryLock(key)) {
      if (this.aborting) return { state: 'interrupted', key };
      if (!waited) {
        const twin = this.pids.has(key);
        hooks.waiting(twin ? `same key as another stage of this run` : 'another runner is working on this key');
      }
      waited = true;
      await sleep(300);
    }
    const mine = { pid: undefined as number | undefined, timer: undefined as NodeJS.Timeout | undefined };
    this.pids.set(key, mine);
    try {
      const o = await runStageJob(job, this.cache, {
        cli,
        backend: this.opts.backend,
        env: this.opts.env,
        tailLines: this.opts.tailLines,
        aborted: () => this.aborting,
        hooks: {
          started: (pid, startMs) => {
            mine.pid = pid;
            hooks.running(startMs);
          },
          progress: (p) => hooks.progress(p),
        },
      });
      // a local failure report names no machine (as before the farm)
      return { ...o, host: undefined };
    } finally {
      if (mine.timer) clearTimeout(mine.timer);
      this.pids.delete(key);
      this.cache.unlock(key);
    }
  }

  abort(graceMs: number): void {
    const again = this.aborting;
    this.aborting = true;
    for (const r of this.pids.values()) {
      if (!r.pid) continue;
      killTree(r.pid, again ? 'SIGKILL' : 'SIGTERM');
      if (!again && !r.timer) {
        r.timer = setTimeout(() => r.pid && killTree(r.pid, 'SIGKILL'), graceMs);
        r.timer.unref();
      }
    }
  }
}
