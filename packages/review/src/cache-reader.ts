import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Pictures, verdictOf, type Verdict } from './overview.js';
import type { PipelineStatus, RunningRecord, StageStatus, StageView } from './types.js';
import { readJson } from './json.js';

/** The parts of a manifest.json the page shows (entries are immutable: read once per key). */
interface ManifestLite {
  engine: string | null;
  durationMs: number | null;
  startMs: number | null;
  summary: Record<string, unknown> | null;
  params: Record<string, unknown>;
  upstream: Record<string, string>;
  stage: string | null;
  pipeline: string | null;
}

/** Read-only access to the runner's cache folder (layout in packages/runner/README.md). */
export class CacheReader {
  private manifests = new Map<string, ManifestLite>();
  private pictures: Pictures;

  constructor(readonly root: string) {
    this.pictures = new Pictures(root);
  }

  manifest(key: string): ManifestLite | null {
    const hit = this.manifests.get(key);
    if (hit) return hit;
    const m = readJson<Record<string, unknown>>(join(this.root, 'cache', key, 'manifest.json'));
    if (!m) return null;
    const eng = m.engine as { name?: unknown } | null;
    const lite: ManifestLite = {
      engine: eng && typeof eng.name === 'string' ? eng.name : null,
      durationMs: typeof m.durationMs === 'number' ? m.durationMs : null,
      startMs: typeof m.startMs === 'number' ? m.startMs : null,
      summary: (m.summary as Record<string, unknown>) ?? null,
      params: (m.params as Record<string, unknown>) ?? {},
      upstream: (m.upstream as Record<string, string>) ?? {},
      stage: typeof m.stage === 'string' ? m.stage : null,
      pipeline: typeof (m.pipeline as { name?: unknown } | undefined)?.name === 'string' ? (m.pipeline as { name: string }).name : null,
    };
    this.manifests.set(key, lite);
    return lite;
  }

  /** Every cached run of a pipeline's stage (any settings), newest first: the keys an A/B compare picks from. */
  history(pipeline: string, stage: string): { key: string; startMs: number | null; params: Record<string, unknown> }[] {
    let keys: string[] = [];
    try {
      keys = readdirSync(join(this.root, 'cache'));
    } catch {
      return [];
    }
    const out: { key: string; startMs: number | null; params: Record<string, unknown> }[] = [];
    for (const key of keys) {
      const m = this.manifest(key);
      if (m && m.pipeline === pipeline && m.stage === stage) out.push({ key, startMs: m.startMs, params: m.params });
    }
    return out.sort((a, b) => (b.startMs ?? 0) - (a.startMs ?? 0));
  }

  /** Runs in progress: `tmp/<key>.<host>.<pid>.<rand>/progress.json`, by tmp folder name. */
  running(): Map<string, RunningRecord & { tmp: string }> {
    const out = new Map<string, RunningRecord & { tmp: string }>();
    let names: string[] = [];
    try {
      names = readdirSync(join(this.root, 'tmp'));
    } catch {
      return out;
    }
    for (const n of names) {
      const r = readJson<RunningRecord>(join(this.root, 'tmp', n, 'progress.json'));
      if (r && typeof r.key === 'string') out.set(n, { ...r, tmp: n });
    }
    return out;
  }

  /** Newest failure log of each stage of a pipeline: `logs/<pipeline>/<stage>-<time>.log`. */
  failures(pipeline: string): Map<string, { file: string; mtimeMs: number }> {
    const out = new Map<string, { file: string; mtimeMs: number }>();
    const dir = join(this.root, 'logs', pipeline);
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return out;
    }
    for (const n of names.sort()) {
      const m = /^(.+)-\d{8}-\d{6}\.log$/.exec(n);
      if (!m) continue;
      try {
        out.set(m[1], { file: `logs/${pipeline}/${n}`, mtimeMs: statSync(join(dir, n)).mtimeMs });
      } catch {
        /* removed meanwhile */
      }
    }
    return out;
  }

  /** When the stage's last successful (or cached) run was recorded. */
  indexTime(pipeline: string, stage: string): number {
    const rec = readJson<{ time?: string }>(join(this.root, 'index', pipeline, `${stage}.json`));
    return rec?.time ? Date.parse(rec.time) : 0;
  }

  /** Every pipeline file the cache has seen (index records), for `serve` without files. */
  seenPipelineFiles(): string[] {
    const files = new Set<string>();
    let pipes: string[] = [];
    try {
      pipes = readdirSync(join(this.root, 'index'));
    } catch {
      return [];
    }
    for (const p of pipes) {
      let stages: string[] = [];
      try {
        stages = readdirSync(join(this.root, 'index', p));
      } catch {
        continue;
      }
      const rec = stages.find((s) => s.endsWith('.json'));
      const f = rec && readJson<{ pipelineFile?: string }>(join(this.root, 'index', p, rec))?.pipelineFile;
      if (f) files.add(f);
    }
    return [...files].sort();
  }

  /** The page's view of every stage: the plan's state, overlaid with running runs, failures and manifests. */
  views(pipes: PipelineStatus[]): { name: string; file: string; error?: string; stages: StageView[]; verdict: Verdict | null }[] {
    const running = [...this.running().values()];
    return pipes.map((p) => {
      const fails = this.failures(p.name);
      const stages = p.stages.map((s) => this.view(p.name, s, running, fails));
      for (const v of stages) v.thumb = this.pictures.of(v);
      const verdict = verdictOf(this.root, stages, (n) => p.stages.find((s) => s.name === n)?.params);
      return { name: p.name, file: p.file, error: p.error, stages, verdict };
    });
  }

  private view(pipeline: string, s: StageStatus, running: (RunningRecord & { tmp: string })[], fails: Map<string, { file: string; mtimeMs: number }>): StageView {
    const { params: _planned, ...status } = s; // the planned params stay on the server (paths in them)
    const base: StageView = { ...status, display: s.state, dir: null, log: null, engine: null, durationMs: null, startMs: null, summary: null, progress: null };
    const run = s.state === 'stale' ? running.find((r) => r.key === s.key && r.pipeline === pipeline && r.stage === s.name) ?? running.find((r) => r.key === s.key) : undefined;
    if (run) {
      return { ...base, display: 'running', dir: `tmp/${run.tmp}/out`, log: `tmp/${run.tmp}/log.txt`, startMs: run.startMs, progress: run.progress };
    }
    const shownKey = s.state === 'cached' ? s.key : s.lastKey;
    const m = shownKey ? this.manifest(shownKey) : null;
    const v: StageView = m
      ? { ...base, dir: `cache/${shownKey}/out`, log: `cache/${shownKey}/log.txt`, engine: m.engine, durationMs: m.durationMs, startMs: m.startMs, summary: m.summary }
      : base;
    const fail = s.state === 'stale' ? fails.get(s.name) : undefined;
    if (fail && fail.mtimeMs > this.indexTime(pipeline, s.name)) {
      return { ...v, display: 'failed', log: fail.file, failedAt: new Date(fail.mtimeMs).toISOString() };
    }
    return v;
  }
}
