import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { PREFIX, QUEUES, WORKER_KEY, parseFailure, type FarmJobData } from './queues.js';
import { checkRedis, redisOptions, safeUrl } from './url.js';
import type { WorkerRecord } from './worker.js';

export interface FarmStatus {
  url: string;
  workers: WorkerRecord[];
  /** pipeline -> counts of its jobs by state. */
  pipelines: Record<string, { queued: number; running: number; failed: number }>;
  failed: { pipeline: string; job: string; key: string; reason: string; log?: string; at: string }[];
  running: { pipeline: string; job: string; key: string; since: string }[];
}

const STATES = { queued: ['waiting', 'prioritized', 'delayed'], running: ['active'], failed: ['failed'] } as const;

/** Reads the workers' heartbeat records and the jobs of every queue, per pipeline. */
export async function readFarmStatus(url: string): Promise<FarmStatus> {
  await checkRedis(url);
  const redis = new Redis(redisOptions(url));
  redis.on('error', () => {});
  const res: FarmStatus = { url: safeUrl(url), workers: [], pipelines: {}, failed: [], running: [] };
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', WORKER_KEY('*'), 'COUNT', 200);
      cursor = next;
      for (const k of keys) {
        const text = await redis.get(k);
        if (text) res.workers.push(JSON.parse(text) as WorkerRecord);
      }
    } while (cursor !== '0');
    res.workers.sort((a, b) => a.id.localeCompare(b.id));
    for (const qn of QUEUES) {
      // The queues share this one client: closing a queue then leaves the connection alone, so no command of a
      // queue's start-up can fail with "Connection is closed" after its listeners are gone (that crashed status).
      const q = new Queue<FarmJobData>(qn, { connection: redis, prefix: PREFIX });
      q.on('error', () => {});
      try {
        await q.waitUntilReady();
        for (const [bucket, states] of Object.entries(STATES) as [keyof typeof STATES, readonly string[]][]) {
          const jobs = await q.getJobs([...states] as never, 0, -1, true);
          for (const j of jobs) {
            if (!j?.data?.job) continue;
            const p = j.data.job.pipeline.name;
            const c = (res.pipelines[p] ??= { queued: 0, running: 0, failed: 0 });
            c[bucket]++;
            if (bucket === 'failed') {
              const f = parseFailure(j.failedReason);
              res.failed.push({ pipeline: p, job: j.name, key: j.id ?? '', reason: f.error, log: f.log, at: new Date(j.finishedOn ?? j.timestamp).toISOString() });
            }
            if (bucket === 'running') res.running.push({ pipeline: p, job: j.name, key: j.id ?? '', since: new Date(j.processedOn ?? j.timestamp).toISOString() });
          }
        }
      } finally {
        await q.close();
      }
    }
  } finally {
    redis.disconnect();
  }
  return res;
}

function ago(iso: string, now: number): string {
  const s = Math.max(0, (now - Date.parse(iso)) / 1000);
  return s < 60 ? `${s.toFixed(1)}s ago` : s < 3600 ? `${Math.floor(s / 60)}m ago` : `${Math.floor(s / 3600)}h ago`;
}

/** `runner farm status --farm URL [--json]`. */
export async function farmStatus(url: string, o: { json?: boolean; out?: NodeJS.WritableStream } = {}): Promise<FarmStatus> {
  const out = o.out ?? process.stdout;
  const st = await readFarmStatus(url);
  if (o.json) {
    out.write(`${JSON.stringify(st, null, 2)}\n`);
    return st;
  }
  const now = Date.now();
  const lines = [`farm ${st.url}: ${st.workers.length} worker(s)`];
  for (const w of st.workers) {
    const cur = w.current.length ? w.current.map((c) => `${c.name} (${ago(c.since, now).replace(' ago', '')})`).join(', ') : 'idle';
    lines.push(`  ${w.id.padEnd(24)}  cpu=${w.slots.cpu} gpu=${w.slots.gpu}  heartbeat ${ago(w.heartbeat, now)}  ${cur}`);
  }
  const pipes = Object.entries(st.pipelines).sort(([a], [b]) => a.localeCompare(b));
  lines.push(pipes.length ? 'jobs per pipeline:' : 'no queued, running or failed jobs');
  for (const [p, c] of pipes) lines.push(`  ${p.padEnd(24)}  ${c.queued} queued  ${c.running} running  ${c.failed} failed`);
  for (const f of st.failed.slice(-20)) lines.push(`  failed ${f.job} ${f.key.slice(0, 12)} at ${f.at.slice(0, 19)}: ${f.reason}${f.log ? ` (log ${f.log})` : ''}`);
  out.write(`${lines.join('\n')}\n`);
  return st;
}
