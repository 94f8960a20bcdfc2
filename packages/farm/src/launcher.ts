import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { Cache, JobOutcome, LaunchHooks, Launcher, StageJob } from '@facecomb/runner';
import { CANCEL_CHANNEL, PREFIX, QUEUES, WORKER_KEY, jobName, parseFailure, queueFor, submitter, type FarmProgress, type QueueName } from './queues.js';
import { randomUUID } from 'node:crypto';
import { farmSecret, signJob } from './sign.js';
import { checkRedis, redisOptions } from './url.js';
import type { WorkerRecord } from './worker.js';

interface Waiter {
  job: StageJob;
  hooks: LaunchHooks;
  resolve(o: JobOutcome): void;
  returned?: JobOutcome;
  running: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How long a job waits before the submitter checks that some live worker serves its queue (tests shorten it). */
const NO_WORKER_MS = () => Number(process.env.FACECOMB_FARM_NO_WORKER_MS) || 10_000;

const notShared = (root: string, host?: string) =>
  `the job ended${host ? ` on ${host}` : ''} but its entry is not in the cache ${root}: the workers and this runner must use one shared cache folder (runner worker --cache DIR)`;

/**
 * Submits jobs to the farm's queues (job id = cache key, so equal work submitted twice runs once) and follows
 * them to their end: queue events give start and progress, a poll of each job's state gives the end even when
 * an event was missed or the job was removed.
 */
export class FarmLauncher implements Launcher {
  private queues = new Map<QueueName, Queue>();
  private events: QueueEvents[] = [];
  private waiters = new Map<string, Waiter>();
  private pub: Redis;
  private aborting = false;
  private cancelling: Promise<void> | undefined;
  private inflight = new Map<string, Promise<JobOutcome>>();
  /** Marks this submission's jobs: an entry whose manifest carries it ran for this run, even if reported as a hit. */
  private readonly run = randomUUID();
  private readonly secret: string;

  private constructor(
    private readonly url: string,
    private readonly cache: Cache,
    private readonly opts: { backend?: string; pollMs?: number },
  ) {
    this.secret = farmSecret(cache.root);
    const connection = redisOptions(url);
    for (const q of QUEUES) {
      this.queues.set(q, new Queue(q, { connection, prefix: PREFIX }));
      const ev = new QueueEvents(q, { connection, prefix: PREFIX });
      ev.on('progress', ({ jobId, data }) => this.onProgress(jobId, data as FarmProgress));
      ev.on('completed', ({ jobId, returnvalue }) => {
        const w = this.waiters.get(jobId);
        if (w) w.returned = returnvalue as unknown as JobOutcome;
      });
      ev.on('error', () => {});
      this.events.push(ev);
    }
    for (const q of this.queues.values()) q.on('error', () => {});
    this.pub = new Redis(connection);
    this.pub.on('error', () => {});
  }

  /** Connects (a clear error naming the URL when Redis cannot be reached) and listens to the queues' events. */
  static async open(url: string, cache: Cache, opts: { backend?: string; pollMs?: number } = {}): Promise<FarmLauncher> {
    await checkRedis(url);
    const l = new FarmLauncher(url, cache, opts);
    // queues too: closing one whose start-up commands are still pending (a run with every stage cached ends at
    // once) made ioredis reject a command with no listener ('Connection is closed')
    await Promise.all([...l.events.map((e) => e.waitUntilReady()), ...[...l.queues.values()].map((q) => q.waitUntilReady())]);
    return l;
  }

  reserve(): () => void {
    return () => {};
  }

  private onProgress(jobId: string, p: FarmProgress): void {
    const w = this.waiters.get(jobId);
    if (!w) return;
    if (p.host) {
      w.running = true;
      w.hooks.running(p.startMs ?? Date.now(), `on ${p.worker ?? p.host}`);
    }
    if (typeof p.done === 'number') w.hooks.progress({ done: p.done, total: p.total, unit: p.unit, msg: p.msg });
  }

  async launch(job: StageJob, _cli: string | null, hooks: LaunchHooks): Promise<JobOutcome> {
    const queue = this.queues.get(queueFor(job))!;
    const { key } = job;
    const twin = this.inflight.get(key);
    if (twin) {
      hooks.waiting('same key as another stage of this run');
      const o = await twin;
      return o.state === 'done' ? { ...o, state: 'cached' } : o;
    }
    const p = new Promise<JobOutcome>((resolve) => {
      const w: Waiter = { job, hooks, resolve, running: false };
      this.waiters.set(key, w);
      this.follow(queue, w).then(
        (o) => {
          this.waiters.delete(key);
          resolve(this.ownRun(o));
        },
        (e: Error) => {
          this.waiters.delete(key);
          resolve({ state: 'failed', key, error: `farm: ${e.message}` });
        },
      );
    });
    this.inflight.set(key, p);
    try {
      return await p;
    } finally {
      this.inflight.delete(key);
    }
  }

  /**
   * A job of this run reported as a hit (its first copy ran on, unseen, while Redis restarted, and a resubmitted
   * copy then found the entry) still ran for this run: the manifest's run id says so, and the count stays true.
   */
  private ownRun(o: JobOutcome): JobOutcome {
    if (o.state !== 'cached') return o;
    const m = this.cache.manifest(o.key) as { run?: string } | null;
    return m?.run === this.run ? { ...o, state: 'done' } : o;
  }

  private async submit(queue: Queue, job: StageJob): Promise<void> {
    const prev = await queue.getJob(job.key);
    // a failed job of the same key stays listed for `farm status`; submitting again is a new attempt
    if (prev && (await prev.isFailed())) await prev.remove().catch(() => {});
    const data = signJob({ job: { ...job, run: this.run }, backend: this.opts.backend, submitter: submitter() }, this.secret);
    await queue.add(jobName(job), data, {
      jobId: job.key,
      removeOnComplete: true,
      removeOnFail: { age: 7 * 24 * 3600, count: 1000 },
      // training first: it is long and should start early
      priority: job.kind.kind === 'train' ? 1 : 10,
    });
  }

  private async follow(queue: Queue, w: Waiter): Promise<JobOutcome> {
    const { key } = w.job;
    await this.submit(queue, w.job);
    w.hooks.waiting(`queued on the farm (${queue.name})`);
    let gone = 0;
    let resubmitted = 0;
    const queuedAt = Date.now();
    let checkedWorkers = false;
    for (;;) {
      if (this.aborting) return { state: 'interrupted', key };
      await sleep(this.opts.pollMs ?? 300);
      if (this.aborting) return { state: 'interrupted', key };
      // a job nobody can take waits silently forever: say so once, and keep waiting for a worker to start
      if (!checkedWorkers && !w.running && Date.now() - queuedAt > NO_WORKER_MS()) {
        checkedWorkers = true;
        if (!(await this.liveWorkers(queue.name as QueueName))) {
          w.hooks.waiting(`queued on the farm (${queue.name}); no live worker takes ${queue.name} jobs: start one (runner worker --farm URL --slots ${queue.name}=N); waiting`);
        }
      }
      const state = await queue.getJobState(key);
      if (state === 'failed') {
        const j = await queue.getJob(key);
        const f = parseFailure(j?.failedReason);
        if (f.interrupted) return { state: 'interrupted', key };
        return { state: 'failed', key, error: f.error, log: f.log, tail: f.tail, host: f.host };
      }
      if (state === 'completed' || state === 'unknown') {
        if (w.returned || this.cache.has(key)) {
          if (!this.cache.has(key)) return { state: 'failed', key, error: notShared(this.cache.root, w.returned?.host) };
          if (w.returned) return { ...w.returned, key };
          // finished, its event not seen yet: wait a moment for it (done vs cached), then take the entry
          if (++gone < 4) continue;
          const m = this.cache.manifest(key) as { host?: string; run?: string } | null;
          return { state: m?.run === this.run ? 'done' : 'cached', key, host: m?.host };
        }
        // removed without a result (another submitter's Ctrl-C took its waiting job away): submit again
        if (state === 'unknown') {
          if (++resubmitted > 3) return { state: 'failed', key, error: notShared(this.cache.root) };
          await this.submit(queue, w.job);
        }
      }
    }
  }

  /** How many live workers (heartbeat records) serve `queue`. */
  private async liveWorkers(queue: QueueName): Promise<number> {
    let n = 0;
    let cursor = '0';
    do {
      const [next, keys] = await this.pub.scan(cursor, 'MATCH', WORKER_KEY('*'), 'COUNT', 200);
      cursor = next;
      for (const k of keys) {
        const rec = JSON.parse((await this.pub.get(k)) ?? 'null') as WorkerRecord | null;
        if (rec && rec.slots[queue] > 0) n++;
      }
    } while (cursor !== '0');
    return n;
  }

  abort(): void {
    if (this.aborting) return;
    this.aborting = true;
    const keys = [...this.waiters.keys()];
    this.cancelling = (async () => {
      for (const key of keys) {
        const w = this.waiters.get(key);
        if (!w) continue;
        const q = this.queues.get(queueFor(w.job))!;
        const j = await q.getJob(key).catch(() => undefined);
        // a waiting job is taken off the queue; a running one is stopped by its worker
        const removed = j ? await j.remove().then(() => true, () => false) : false;
        if (!removed) await this.pub.publish(CANCEL_CHANNEL, key).catch(() => {});
      }
    })();
  }

  async close(): Promise<void> {
    await this.cancelling;
    await Promise.allSettled([...[...this.queues.values()].map((q) => q.close()), ...this.events.map((e) => e.close())]);
    this.pub.disconnect();
  }
}
