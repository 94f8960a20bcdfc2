import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { diskFullError } from './disk.js';
import { HOST_TAG, LeaseLock, leaseMsFrom, pidAlive } from './lease.js';
import { readJsonOrNull, writeFileAtomic } from '@facecomb/stage';

export { HOST_TAG };

/** Where the cache of a pipeline lives: `--cache DIR`, FACECOMB_CACHE, else `.facecomb/` in the project folder. */
export function cacheRootFor(pipelineFile: string | null, opts: { cache?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): string {
  const env = opts.env ?? process.env;
  if (opts.cache) return resolve(opts.cache);
  if (env.FACECOMB_CACHE) return resolve(env.FACECOMB_CACHE);
  const start = pipelineFile ? dirname(resolve(pipelineFile)) : resolve(opts.cwd ?? process.cwd());
  let d = start;
  for (;;) {
    if (existsSync(join(d, 'package.json')) || existsSync(join(d, '.git'))) return join(d, '.facecomb');
    const up = dirname(d);
    if (up === d) return join(start, '.facecomb');
    d = up;
  }
}

export interface OutputFile {
  path: string;
  size: number;
  sha256: string;
}

/** manifest.json of a cache entry. */
export interface Manifest {
  key: string;
  stage: string;
  kind: string;
  version: string;
  pipeline: { name: string; file: string };
  params: Record<string, unknown>;
  inputs: { param: string; path: string; size: number; sha256: string }[];
  upstream: Record<string, string>;
  resources: Record<string, number>;
  /** Kept by `runner gc` even when unreferenced, unless --all (train models). */
  keep: boolean;
  outputs: OutputFile[];
  /** Absolute artifact folder (`<entry>/out`). */
  artifacts: string;
  start: string;
  end: string;
  startMs: number;
  endMs: number;
  durationMs: number;
  engine: Record<string, unknown> | null;
  summary: Record<string, unknown> | null;
  log: string;
  runner: string;
  host: string;
  pid: number;
}

/** What the last successful (or cached) run of a stage of a pipeline was: lets `status` say why a stage is stale. */
export interface IndexRecord {
  key: string;
  kind: string;
  version: string;
  params: Record<string, unknown>;
  inputs: Record<string, string>;
  upstream: Record<string, string>;
  pipelineFile: string;
  time: string;
}

/** Writes a whole file or leaves the old one: a full disk leaves no `.tmp` behind and says so plainly. */
function writeAtomic(file: string, text: string): void {
  try {
    writeFileAtomic(file, text);
  } catch (e) {
    throw diskFullError(e, file, Buffer.byteLength(text));
  }
}

/**
 * A runner killed with SIGKILL cannot stop its stages: their process groups live on, writing into the temp
 * folder. The temp folder records the stage's pid; end that group if the process still has this folder as its
 * FACECOMB_OUT (checked through /proc, so a reused pid is never hit).
 */
function killOrphanStage(tmp: string): void {
  let pid = 0;
  try {
    pid = Number(readFileSync(join(tmp, 'stage.pid'), 'utf8'));
  } catch {
    return;
  }
  if (!pidAlive(pid)) return;
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    if (!environ.includes(`FACECOMB_OUT=${join(tmp, 'out')}`)) return;
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* not Linux, or gone */
  }
}

/**
 * What running a stage job needs of a cache (runStageJob, chunk assembly, farm workers): entries by key, a
 * temp area on the same store and an atomic commit, resume folders, logs of failures. `Cache` is the shared
 * folder; an S3-compatible store would implement this with a local staging folder and a manifest-last upload.
 */
export type StageStore = Pick<Cache, 'root' | 'cacheDir' | 'entry' | 'artifacts' | 'work' | 'stageCache' | 'has' | 'manifest' | 'makeTemp' | 'commit' | 'cleanStaleTemps' | 'failedLog' | 'tryLock' | 'unlock'>;

/**
 * The cache folder:
 *   cache/<key>/{manifest.json, log.txt, out/}   finished stage runs (immutable)
 *   tmp/<key>.<pid>.<rand>/                      runs in progress (renamed into cache/ on success)
 *   work/<key>/                                  FACECOMB_RESUME folders, kept until the stage succeeds
 *   stage-cache/<kind>/                          FACECOMB_STAGE_CACHE folders: a kind's own content-addressed data, shared by its keys
 *   locks/<key>/<generation>                     lease lock: one runner per key (LeaseLock)
 *   index/<pipeline>/<stage>.json                last run of each stage (for status reasons)
 *   logs/<pipeline>/<stage>-<time>.log           logs of failed runs
 *   hashes.json                                  input-file hash index (size + mtime + inode)
 */
export class Cache {
  private held = new Map<string, { lock: LeaseLock; timer: NodeJS.Timeout }>();

  constructor(
    readonly root: string,
    readonly leaseMs = leaseMsFrom(),
  ) {}

  get cacheDir() {
    return join(this.root, 'cache');
  }
  entry(key: string) {
    return join(this.root, 'cache', key);
  }
  artifacts(key: string) {
    return join(this.entry(key), 'out');
  }
  work(key: string) {
    return join(this.root, 'work', key);
  }
  /** Data a stage kind keeps across cache keys (e.g. score's readings of unchanged crops), content-addressed by the stage. */
  stageCache(kind: string) {
    return join(this.root, 'stage-cache', kind);
  }
  get hashIndexFile() {
    return join(this.root, 'hashes.json');
  }
  /** Whether `key` has a whole entry: a manifest that parses and names it (an empty one, after a power loss, does not). */
  has(key: string): boolean {
    return this.manifest(key) !== null;
  }
  manifest(key: string): Manifest | null {
    const m = readJsonOrNull<Manifest>(join(this.entry(key), 'manifest.json'));
    return m && m.key === key && Array.isArray(m.outputs) && typeof m.artifacts === 'string' ? m : null;
  }
  /** An entry folder is there but its manifest is missing, empty or invalid: it is run again and replaced. */
  damaged(key: string): boolean {
    return existsSync(this.entry(key)) && !this.has(key);
  }
  keys(): string[] {
    try {
      return readdirSync(this.cacheDir).filter((k) => /^[0-9a-f]{64}$/.test(k));
    } catch {
      return [];
    }
  }

  /**
   * A fresh temp folder for a run of `key`, inside the cache root (same filesystem as cache/, so the final rename
   * is atomic, also on a folder shared by many machines). Named `<key>.<host>.<pid>.<rand>`.
   */
  makeTemp(key: string): string {
    const dir = join(this.root, 'tmp', `${key}.${HOST_TAG}.${process.pid}.${Math.random().toString(36).slice(2, 8)}`);
    try {
      mkdirSync(join(dir, 'out'), { recursive: true });
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw diskFullError(e, dir);
    }
    return dir;
  }

  /**
   * Moves a finished temp folder into the cache. With `replace` (a forced rerun) an older entry of the same key
   * is replaced; otherwise, when another process (maybe on another machine) committed the key first, this one
   * lost the race: its temp folder is removed and the result is 'exists' (a cache hit: same key, same work).
   */
  commit(tmp: string, key: string, replace = true): 'committed' | 'exists' {
    mkdirSync(this.cacheDir, { recursive: true });
    const dest = this.entry(key);
    if (existsSync(dest) && (replace || !this.has(key))) {
      const trash = `${tmp}.old`;
      renameSync(dest, trash);
      renameSync(tmp, dest);
      rmSync(trash, { recursive: true, force: true });
      return 'committed';
    }
    try {
      renameSync(tmp, dest);
      return 'committed';
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      rmSync(tmp, { recursive: true, force: true });
      return 'exists';
    }
  }

  /** Removes temp folders left by runners that are no longer alive; returns how many. */
  cleanStaleTemps(): number {
    const dir = join(this.root, 'tmp');
    let n = 0;
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return 0;
    }
    for (const name of names) {
      // `<key>.<host>.<pid>.<rand>` (older runners: `<key>.<pid>.<rand>`); another machine's pids mean nothing here
      const m = /^[0-9a-f]{64}\.(?:([A-Za-z0-9-]+)\.)?(\d+)\./.exec(name);
      if (m && m[1] !== undefined && m[1] !== HOST_TAG) continue;
      const pid = m ? Number(m[2]) : 0;
      if (m && pid !== process.pid && pidAlive(pid)) continue;
      if (m && pid === process.pid) continue;
      killOrphanStage(join(dir, name));
      rmSync(join(dir, name), { recursive: true, force: true });
      n++;
    }
    return n;
  }

  /**
   * Takes the lease lock of `key` (locks/<key>/, see LeaseLock); false while another live process, here or on
   * another machine sharing the cache, holds it. The lease is renewed in the background until `unlock`.
   */
  tryLock(key: string): boolean {
    if (this.held.has(key)) return false;
    const lock = new LeaseLock(join(this.root, 'locks', key), this.leaseMs);
    if (!lock.tryAcquire()) return false;
    const timer = setInterval(() => lock.renew(), Math.max(50, Math.floor(this.leaseMs / 3)));
    timer.unref();
    this.held.set(key, { lock, timer });
    return true;
  }

  unlock(key: string): void {
    const h = this.held.get(key);
    if (!h) return;
    clearInterval(h.timer);
    h.lock.release();
    this.held.delete(key);
  }

  indexFile(pipeline: string, stage: string) {
    return join(this.root, 'index', pipeline, `${stage}.json`);
  }
  readIndex(pipeline: string, stage: string): IndexRecord | null {
    return readJsonOrNull<IndexRecord>(this.indexFile(pipeline, stage));
  }
  writeIndex(pipeline: string, stage: string, rec: IndexRecord): void {
    writeAtomic(this.indexFile(pipeline, stage), `${JSON.stringify(rec, null, 2)}\n`);
  }
  /** Every index record: [pipeline, stage, record]. */
  allIndex(): [string, string, IndexRecord][] {
    const out: [string, string, IndexRecord][] = [];
    const dir = join(this.root, 'index');
    let pipes: string[] = [];
    try {
      pipes = readdirSync(dir);
    } catch {
      return out;
    }
    for (const p of pipes) {
      let files: string[] = [];
      try {
        files = readdirSync(join(dir, p));
      } catch {
        continue;
      }
      for (const f of files) {
        if (!f.endsWith('.json')) continue;
        const rec = readJsonOrNull<IndexRecord>(join(dir, p, f));
        if (rec) out.push([p, f.slice(0, -5), rec]); // a torn record is ignored
      }
    }
    return out;
  }

  failedLog(pipeline: string, stage: string): string {
    const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
    const file = join(this.root, 'logs', pipeline, `${stage}-${t}.log`);
    try {
      mkdirSync(dirname(file), { recursive: true });
    } catch (e) {
      throw diskFullError(e, file);
    }
    return file;
  }

  writeText(file: string, text: string): void {
    writeAtomic(file, text);
  }
}
