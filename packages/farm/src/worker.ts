import { existsSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { Cache, cacheRootFor, jobKeyProblem, killTree, loadRegistry, runStageJob, type JobOutcome, type StageJob } from '@facecomb/runner';
import { CANCEL_CHANNEL, PREFIX, WORKER_KEY, jobName, type FarmFailure, type FarmJobData, type FarmProgress, type QueueName } from './queues.js';
import { farmSecret, signatureProblem } from './sign.js';
import { FarmError, checkRedis, parseFarmUrl, redisOptions, safeUrl } from './url.js';

export interface WorkerOptions {
  url: string;
  /** Jobs run at once per resource class; gpu > 0 makes this a GPU worker. */
  slots?: { cpu?: number; gpu?: number };
  backend?: string;
  cache?: string;
  env?: NodeJS.ProcessEnv;
  out?: NodeJS.WritableStream;
  /** Lease of a job: renewed every half of it while the worker lives; after it a dead worker's job is taken elsewhere. */
  lockMs?: number;
}

/** What `farm status` reads about a live worker (refreshed every few seconds, expires when the worker is gone). */
export interface WorkerRecord {
  id: string;
  host: string;
  pid: number;
  slots: { cpu: number; gpu: number };
  backend: string | null;
  cache: string;
  started: string;
  heartbeat: string;
  current: { key: string; name: string; queue: QueueName; since: string }[];
}

interface RunningJob {
  key: string;
  name: string;
  queue: QueueName;
  since: number;
  pid?: number;
  cancelled: boolean;
}

const HEARTBEAT_MS = 3000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Parses `--slots cpu=N,gpu=N`. */
export function parseSlots(text: string | undefined): { cpu: number; gpu: number } {
  const slots = { cpu: availableParallelism(), gpu: 0 };
  if (!text) return slots;
  for (const part of text.split(',')) {
    const m = /^(cpu|gpu)=(\d+)$/.exec(part.trim());
    if (!m) throw new FarmError(`--slots ${text}: expected cpu=N,gpu=N (e.g. --slots cpu=4,gpu=1), got '${part}'`);
    slots[m[1] as 'cpu' | 'gpu'] = Number(m[2]);
  }
  if (slots.cpu + slots.gpu === 0) throw new FarmError(`--slots ${text}: a worker needs at least one slot`);
  return slots;
}

/**
 * `runner worker --farm URL`: takes stage jobs from the queues its slots serve and runs them with runStageJob,
 * exactly as a local run does, into the shared cache. Runs until SIGINT/SIGTERM (its running jobs go back to
 * the queue for another worker) and returns the exit code.
 */
export async function runWorker(o: WorkerOptions): Promise<number> {
  parseFarmUrl(o.url);
  const out = o.out ?? process.stdout;
  const say = (s: string) => out.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
  const slots = { cpu: o.slots?.cpu ?? availableParallelism(), gpu: o.slots?.gpu ?? 0 };
  const cache = new Cache(cacheRootFor(null, { cache: o.cache, env: o.env }));
  const registry = loadRegistry(o.env);
  const id = `${hostname()}:${process.pid}`;
  const url = safeUrl(o.url);
  const lockMs = o.lockMs ?? 30_000;
  const secret = farmSecret(cache.root, o.env);

  let stopping = false;
  let wakeStop: () => void = () => {};
  const stopped = new Promise<void>((r) => (wakeStop = r));
  const running = new Map<string, RunningJob>();
  const onSignal = (sig: string) => {
    if (stopping) {
      for (const r of running.values()) if (r.pid) killTree(r.pid, 'SIGKILL');
      return;
    }
    stopping = true;
    say(`${sig}: stopping; ${running.size} running job(s) go back to the queue`);
    for (const r of running.values()) if (r.pid) killTree(r.pid, 'SIGTERM');
    wakeStop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    // Redis may come up after the worker: wait for it, saying why
    for (let said = false; !stopping; ) {
      try {
        await checkRedis(o.url, 3000);
        break;
      } catch (e) {
        if (!said) say(`${(e as Error).message}; retrying every 2s (Ctrl-C to stop)`);
        said = true;
        await Promise.race([sleep(2000), stopped]);
      }
    }
    if (stopping) return 130;

    const connection = redisOptions(o.url);
    const redis = new Redis(connection);
    const sub = new Redis(connection);
    let down = false;
    const onError = (e: Error) => {
      if (!down) say(`lost Redis at ${url} (${e.message}); reconnecting`);
      down = true;
    };
    redis.on('error', onError);
    sub.on('error', onError);
    redis.on('ready', () => {
      if (down) say(`reconnected to Redis at ${url}`);
      down = false;
    });
    await sub.subscribe(CANCEL_CHANNEL);
    sub.on('message', (_ch: string, key: string) => {
      const r = running.get(key);
      if (!r) return;
      r.cancelled = true;
      say(`cancel ${r.name}: asked by its submitter`);
      if (!r.pid) return;
      killTree(r.pid, 'SIGTERM');
      setTimeout(() => r.pid && killTree(r.pid, 'SIGKILL'), 3000).unref();
    });

    const record = (): WorkerRecord => ({
      id,
      host: hostname(),
      pid: process.pid,
      slots,
      backend: o.backend ?? null,
      cache: cache.root,
      started,
      heartbeat: new Date().toISOString(),
      current: [...running.values()].map((r) => ({ key: r.key, name: r.name, queue: r.queue, since: new Date(r.since).toISOString() })),
    });
    const started = new Date().toISOString();
    const beat = () => redis.set(WORKER_KEY(id), JSON.stringify(record()), 'PX', HEARTBEAT_MS * 4).catch(() => {});
    await beat();
    const heart = setInterval(beat, HEARTBEAT_MS);

    const process1 = (queue: QueueName) => async (bjob: Job<FarmJobData>, token?: string): Promise<JobOutcome> => {
      // only what a holder of the farm secret sent runs here, and only under the key its content gives
      const forged = signatureProblem(bjob.data, secret) ?? jobKeyProblem(bjob.data.job);
      if (forged) {
        say(`refuse job ${bjob.id} (${bjob.name}) on ${queue}: ${forged}`);
        throw new UnrecoverableError(failure({ error: `refused by worker ${id}: ${forged}` }));
      }
      const job: StageJob = bjob.data.job;
      const name = jobName(job);
      const kind = job.kind.kind === 'shell' ? null : registry.kinds.get(job.kind.kind);
      if (kind === undefined) throw new UnrecoverableError(failure({ error: `stage kind '${job.kind.kind}' (${job.kind.pkg}) is not installed on worker ${id}` }));
      if (kind && kind.version !== job.kind.version) {
        throw new UnrecoverableError(failure({ error: `worker ${id} has ${job.kind.kind} v${kind.version}, the job needs v${job.kind.version}: install the same facecomb version on every machine` }));
      }
      // the same folders must be visible here as on the submitter (a shared mount at the same paths)
      const missing = Object.entries(job.upstream).find(([, k]) => !cache.has(k));
      if (missing) throw new UnrecoverableError(failure({ error: `worker ${id}: entry ${missing[1].slice(0, 12)} of needed stage '${missing[0]}' is not in its cache ${cache.root}: every worker and the submitter must share one cache folder (--cache)` }));
      if (!existsSync(job.pipeline.dir)) throw new UnrecoverableError(failure({ error: `worker ${id}: the pipeline folder ${job.pipeline.dir} does not exist here: mount the project at the same path on every machine` }));
      const r: RunningJob = { key: job.key, name, queue, since: Date.now(), cancelled: false };
      running.set(job.key, r);
      void beat();
      say(`take ${name} ${job.key.slice(0, 12)} (${queue}${bjob.attemptsStarted > 1 || bjob.stalledCounter ? `, again after a lost worker` : ''})`);
      let lastProgress = 0;
      let locked = false;
      try {
        // the key's lease lock in the shared cache: a second copy of the job (resubmitted after a Redis restart,
        // or a local runner) waits for the first and then takes its entry
        for (let said = false; !(locked = cache.tryLock(job.key)); said = true) {
          if (stopping || r.cancelled || (cache.has(job.key) && !job.forced)) break;
          if (!said) say(`wait ${name} ${job.key.slice(0, 12)}: another process holds its lock`);
          await sleep(250);
        }
        if (!locked && r.cancelled) throw new UnrecoverableError(failure({ error: 'cancelled by its submitter', interrupted: true }));
        if (!locked && stopping) {
          await bjob.moveToWait(token);
          throw new WaitingError();
        }
        // temp folders of this machine's dead runners/workers (and their orphaned stage processes)
        cache.cleanStaleTemps();
        const res = await runStageJob(job, cache, {
          cli: kind?.cli ?? null,
          backend: bjob.data.backend ?? o.backend,
          env: o.env,
          aborted: () => stopping || r.cancelled,
          hooks: {
            started: (pid, startMs) => {
              r.pid = pid;
              void bjob.updateProgress({ host: hostname(), worker: id, startMs } satisfies FarmProgress).catch(() => {});
            },
            progress: (p) => {
              const now = Date.now();
              if (now - lastProgress < 500 && p.done !== p.total) return;
              lastProgress = now;
              void bjob.updateProgress({ done: p.done, total: p.total, unit: p.unit, msg: p.msg } satisfies FarmProgress).catch(() => {});
            },
          },
        });
        say(`${res.state} ${name} in ${((Date.now() - r.since) / 1000).toFixed(1)}s${res.error ? ` (${res.error})` : ''}`);
        if (res.state === 'interrupted') {
          if (r.cancelled) throw new UnrecoverableError(failure({ error: 'cancelled by its submitter', interrupted: true }));
          // this worker is stopping: hand the job back for another worker
          await bjob.moveToWait(token);
          throw new WaitingError();
        }
        if (res.state === 'failed') throw new UnrecoverableError(failure({ error: res.error ?? 'failed', log: res.log, tail: res.tail, host: res.host }));
        return res;
      } finally {
        if (locked) cache.unlock(job.key);
        running.delete(job.key);
        void beat();
      }
    };

    const workers: Worker[] = [];
    for (const [queue, n] of [['cpu', slots.cpu], ['gpu', slots.gpu]] as [QueueName, number][]) {
      if (n <= 0) continue;
      const w = new Worker<FarmJobData, JobOutcome>(queue, process1(queue), {
        connection,
        prefix: PREFIX,
        concurrency: n,
        lockDuration: lockMs,
        stalledInterval: Math.max(1000, Math.round(lockMs / 2)),
        maxStalledCount: 3,
      });
      w.on('error', () => {});
      workers.push(w);
    }
    say(`worker ${id} on ${url}: slots cpu=${slots.cpu} gpu=${slots.gpu}, cache ${cache.root}`);
    await stopped;
    clearInterval(heart);
    await Promise.allSettled(workers.map((w) => w.close()));
    await redis.del(WORKER_KEY(id)).catch(() => {});
    redis.disconnect();
    sub.disconnect();
    return 130;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function failure(f: FarmFailure): string {
  return JSON.stringify(f);
}
