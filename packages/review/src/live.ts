import { existsSync, readdirSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';

/**
 * Watches the few cache folders that change when a run makes progress (no polling of the cache):
 *   tmp/           a run starts or ends (its folder appears, or is renamed into cache/ or deleted)
 *   tmp/<run>/     the runner rewrites progress.json there (atomic rename)
 *   cache/         an entry was committed
 *   logs/, logs/<pipeline>/   a stage failed
 *   index/, index/<pipeline>/ a stage's last run was recorded
 * `onChange(planAgain)` is called, debounced; planAgain is false when only progress moved.
 * Folders that do not exist yet (a fresh cache) are looked for again every second (one stat each).
 */
export class CacheWatcher {
  private watchers = new Map<string, FSWatcher>();
  private timer: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout;
  private pendingPlan = false;
  private closed = false;

  constructor(
    private readonly root: string,
    private readonly onChange: (planAgain: boolean) => void,
    private readonly debounceMs = 100,
  ) {
    this.attachAll();
    this.retry = setInterval(() => this.attachAll(), 1000);
    this.retry.unref();
  }

  private attach(dir: string, planAgain: boolean, children?: (name: string) => void): void {
    if (this.closed || this.watchers.has(dir)) return;
    try {
      const w = watch(dir, (_ev, name) => {
        if (children && name) children(String(name));
        this.changed(planAgain);
      });
      w.on('error', () => {
        w.close();
        this.watchers.delete(dir);
      });
      this.watchers.set(dir, w);
    } catch {
      /* not there yet */
    }
  }

  private attachAll(): void {
    this.attach(this.root, true, () => this.attachAll());
    this.attach(join(this.root, 'tmp'), true, (n) => this.attach(join(this.root, 'tmp', n), false));
    this.attach(join(this.root, 'cache'), true);
    for (const top of ['logs', 'index']) {
      this.attach(join(this.root, top), true, (n) => this.attach(join(this.root, top, n), true));
    }
    // folders of runs and pipelines that existed before we started
    this.attachChildren('tmp', false);
    this.attachChildren('logs', true);
    this.attachChildren('index', true);
    // watchers of removed folders
    for (const [dir, w] of this.watchers) {
      if (dir.startsWith(join(this.root, 'tmp') + '/') && !existsSync(dir)) {
        w.close();
        this.watchers.delete(dir);
      }
    }
  }

  private attachChildren(top: string, planAgain: boolean): void {
    for (const n of list(join(this.root, top))) this.attach(join(this.root, top, n), planAgain);
  }

  private changed(planAgain: boolean): void {
    this.pendingPlan ||= planAgain;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const plan = this.pendingPlan;
      this.pendingPlan = false;
      if (!this.closed) this.onChange(plan);
    }, this.debounceMs);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.retry);
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}
