/** Stage status lines: redrawn in place on a terminal, one line per change (throttled) otherwise. */

export type StageState = 'pending' | 'waiting' | 'running' | 'done' | 'cached' | 'failed' | 'skipped' | 'interrupted' | 'would run';

export interface StageProgress {
  done: number;
  total?: number;
  unit?: string;
  msg?: string;
}

interface Row {
  state: StageState;
  startMs?: number;
  endMs?: number;
  progress?: StageProgress;
  note?: string;
  lastPrint: number;
  dirty: boolean;
}

export function formatElapsed(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function formatProgress(p: StageProgress): string {
  const unit = p.unit ? `${p.unit} ` : '';
  let s = p.total ? `${unit}${p.done}/${p.total} (${Math.floor((100 * p.done) / p.total)}%)` : `${unit}${p.done}`;
  if (p.msg) s += ` ${p.msg}`;
  return s;
}

export class Reporter {
  private rows = new Map<string, Row>();
  private width: number;
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  readonly tty: boolean;

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    names: string[],
    private readonly intervalMs = Number(process.env.FACECOMB_PROGRESS_INTERVAL ?? 5000),
  ) {
    this.tty = !!out.isTTY && process.env.TERM !== 'dumb';
    this.width = Math.max(8, ...names.map((n) => n.length));
    for (const n of names) this.rows.set(n, { state: 'pending', lastPrint: 0, dirty: false });
    if (this.tty) {
      this.timer = setInterval(() => this.draw(), 250);
      this.timer.unref();
    } else {
      this.timer = setInterval(() => this.flushRunning(), Math.max(250, Math.min(this.intervalMs, 1000)));
      this.timer.unref();
    }
  }

  line(name: string, now = Date.now()): string {
    const r = this.rows.get(name)!;
    const elapsed = r.startMs !== undefined ? formatElapsed((r.endMs ?? now) - r.startMs) : '';
    const parts = [name.padEnd(this.width), r.state.padEnd(11), elapsed.padStart(7)];
    if (r.state === 'running' && r.progress) parts.push(formatProgress(r.progress));
    if (r.note) parts.push(r.note);
    return parts.join('  ').trimEnd();
  }

  update(name: string, patch: Partial<Omit<Row, 'lastPrint' | 'dirty'>>): void {
    const r = this.rows.get(name);
    if (!r) return;
    const changed = patch.state !== undefined && patch.state !== r.state;
    // a new note in the same state (a farm job nobody can take) is news too
    const noted = patch.note !== undefined && patch.note !== r.note && r.state === patch.state;
    Object.assign(r, patch);
    if (changed && patch.state === 'running' && r.startMs === undefined) r.startMs = Date.now();
    if (changed && ['done', 'failed', 'interrupted'].includes(r.state) && r.startMs !== undefined) r.endMs ??= Date.now();
    if (this.tty) {
      if (changed || noted) this.draw();
      return;
    }
    if (changed || noted) this.print(name, r);
    else r.dirty = true;
  }

  progress(name: string, p: StageProgress): void {
    this.update(name, { progress: p });
  }

  private print(name: string, r: Row): void {
    r.lastPrint = Date.now();
    r.dirty = false;
    this.out.write(`${this.line(name)}\n`);
  }

  private flushRunning(): void {
    const now = Date.now();
    for (const [name, r] of this.rows) if (r.state === 'running' && r.dirty && now - r.lastPrint >= this.intervalMs) this.print(name, r);
  }

  private draw(): void {
    if (!this.tty) return;
    const cols = this.out.columns || 120;
    let s = this.drawn ? `\x1b[${this.drawn}A` : '';
    const now = Date.now();
    for (const name of this.rows.keys()) s += `\x1b[2K${this.line(name, now).slice(0, cols - 1)}\n`;
    this.drawn = this.rows.size;
    this.out.write(s);
  }

  /** Prints text (an error tail) above the status block. */
  message(text: string): void {
    if (this.tty && this.drawn) {
      this.out.write(`\x1b[${this.drawn}A\x1b[J`);
      this.drawn = 0;
    }
    this.out.write(text.endsWith('\n') ? text : `${text}\n`);
    if (this.tty) this.draw();
  }

  finish(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.tty) this.draw();
  }
}
