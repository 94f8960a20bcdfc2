import { hostname } from 'node:os';
import type { StageJob } from '@facecomb/runner';

/** Redis key prefix of every queue and record of the farm. */
export const PREFIX = 'facecomb';
/** One queue per resource class: a worker listens to `gpu` only if it has GPU slots. */
export const QUEUES = ['cpu', 'gpu'] as const;
export type QueueName = (typeof QUEUES)[number];
/** Workers publish on this channel's key list; a submitter's Ctrl-C asks them to stop a job. */
export const CANCEL_CHANNEL = `${PREFIX}:cancel`;
export const WORKER_KEY = (id: string) => `${PREFIX}:worker:${id}`;

/** What a farm job carries: the runner's self-contained job, plus who asked. */
export interface FarmJobData {
  job: StageJob;
  backend?: string;
  submitter: { host: string; pid: number };
  /** HMAC-SHA256 of the rest with the farm secret (sign.ts): workers run only signed jobs. */
  sig: string;
}

/** What a worker reports through job progress: its first report names the machine, later ones the stage's. */
export interface FarmProgress {
  host?: string;
  worker?: string;
  startMs?: number;
  done?: number;
  total?: number;
  unit?: string;
  msg?: string;
}

/** A stage failure, as the failed job's reason (JSON) so the submitter prints the same report as a local run. */
export interface FarmFailure {
  error: string;
  log?: string;
  tail?: string[];
  host?: string;
  interrupted?: boolean;
}

export function queueFor(job: StageJob): QueueName {
  return (job.resources.gpu ?? 0) > 0 ? 'gpu' : 'cpu';
}

export function jobName(job: StageJob): string {
  return `${job.pipeline.name}/${job.stage}${job.frames ? `[${job.frames[0]}-${job.frames[1]}]` : job.chunks ? '[assemble]' : ''}`;
}

export function submitter(): FarmJobData['submitter'] {
  return { host: hostname(), pid: process.pid };
}

export function parseFailure(reason: string | undefined): FarmFailure {
  try {
    const f = JSON.parse(reason ?? '') as FarmFailure;
    if (typeof f.error === 'string') return f;
  } catch {
    /* a plain message (stalled too often, a worker error) */
  }
  return { error: reason || 'failed on the farm' };
}
