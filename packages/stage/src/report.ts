/** Lines the runner parses from a stage's stdout (docs/STAGES.md). */

export interface Progress {
  done: number;
  total?: number;
  unit?: string;
  msg?: string;
}

let lastProgress = 0;

/** Prints a progress line; throttled to ~4/s unless `force` (the last one of a loop should force). */
export function progress(p: Progress, force = false): void {
  const now = Date.now();
  if (!force && now - lastProgress < 250 && p.done !== p.total) return;
  lastProgress = now;
  process.stdout.write(`::progress ${JSON.stringify(p)}\n`);
}

/** Prints the stage's result summary (stored in the manifest). */
export function summary(s: Record<string, unknown>): void {
  process.stdout.write(`::summary ${JSON.stringify(s)}\n`);
}

/** Prints which tensor engine ran the stage and why. */
export function engine(name: string, why: string): void {
  process.stdout.write(`::engine ${JSON.stringify({ name, why })}\n`);
}

/** Parses one stdout line; returns null when it is not a protocol line. */
export function parseReportLine(line: string): { type: 'progress' | 'summary' | 'engine'; value: Record<string, unknown> } | null {
  const m = /^::(progress|summary|engine) (.*)$/.exec(line.trim());
  if (!m) return null;
  try {
    const value = JSON.parse(m[2]);
    if (typeof value !== 'object' || value === null) return null;
    return { type: m[1] as 'progress' | 'summary' | 'engine', value };
  } catch {
    return null;
  }
}
