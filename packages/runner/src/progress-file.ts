import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StageProgress } from './progress.js';

/**
 * `<tmp>/progress.json` of a running stage: who runs (pipeline, stage, key, pid, start) and its last
 * `::progress`. The review page (`runner serve`) watches these files to show runs live; rewritten atomically
 * at most every `intervalMs`, and removed with the temp folder (or before it is committed into the cache).
 */
export class ProgressFile {
  static readonly NAME = 'progress.json';
  private last = 0;
  private timer: NodeJS.Timeout | undefined;
  private progress: StageProgress | null = null;

  constructor(
    private readonly tmp: string,
    private readonly run: { pipeline: string; stage: string; kind: string; key: string; startMs: number; pid: number },
    private readonly intervalMs = 250,
  ) {
    this.flush();
  }

  update(p: StageProgress): void {
    this.progress = p;
    const wait = this.last + this.intervalMs - Date.now();
    if (wait <= 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = undefined;
    this.last = Date.now();
    const file = join(this.tmp, ProgressFile.NAME);
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify({ ...this.run, progress: this.progress, updatedMs: this.last }));
      renameSync(`${file}.tmp`, file);
    } catch {
      /* the temp folder is gone: the stage ended */
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
