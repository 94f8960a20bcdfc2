/** What the caller (the runner's `serve`) knows about a pipeline: its stages, keys and staleness. */
export interface StageStatus {
  name: string;
  kind: string;
  needs: string[];
  state: 'cached' | 'stale';
  /** Why it is stale (empty when cached). */
  reasons: string[];
  key: string;
  /** Key of the stage's last recorded run (index/), when it differs from `key` and is still cached. */
  lastKey?: string;
  /** The stage's params as planned now (shown for a stage that has no cached run, e.g. a failed gate's thresholds). */
  params?: Record<string, unknown>;
}

export interface PipelineStatus {
  name: string;
  file: string;
  stages: StageStatus[];
  /** The pipeline file could not be loaded: this message, and `stages` is empty. */
  error?: string;
}

/** Plans the served pipelines again (called at start and after each change seen in the cache). */
export type StatusSource = () => Promise<PipelineStatus[]>;

/** `<tmp>/progress.json` of a running stage, written by the runner (packages/runner/src/job.ts). */
export interface RunningRecord {
  pipeline: string;
  stage: string;
  kind: string;
  key: string;
  startMs: number;
  pid: number;
  progress: { done: number; total?: number; unit?: string; msg?: string } | null;
  updatedMs: number;
}

/** One stage as the page shows it. */
export interface StageView extends StageStatus {
  /** cached / stale / running / failed. */
  display: 'cached' | 'stale' | 'running' | 'failed';
  /** Artifact folder relative to the cache root (`cache/<key>/out`, or `tmp/<run>/out` while running). */
  dir: string | null;
  /** The stage's log relative to the cache root (whole log; the failure log when failed). */
  log: string | null;
  engine: string | null;
  durationMs: number | null;
  startMs: number | null;
  summary: Record<string, unknown> | null;
  progress: RunningRecord['progress'];
  /** Failure log time (ISO) when the last run failed. */
  failedAt?: string;
  /** A picture of what the stage made, relative to the cache root (the overview's thumbnail). */
  thumb?: string | null;
}
