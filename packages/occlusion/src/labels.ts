import { readFile } from 'node:fs/promises';

/**
 * The occlusion labels file: polygons drawn on chosen aligned crops.
 *
 *   {"version": 1, "frames": {"000012": [{"mode": "include", "points": [[0.2, 0.3], ...]}, ...]}}
 *
 * Frame names are align's crop names without ".png" (six digits). Points are in the aligned crop's space,
 * normalised to [0, 1] (x right, y down). `include` polygons mark visible face, `exclude` polygons mark what
 * covers it (a hand, a microphone, hair); the mask of a frame is the union of its includes minus its excludes.
 */
export const LABEL_MODES = ['include', 'exclude'] as const;
export type LabelMode = (typeof LABEL_MODES)[number];

export interface LabelPolygon {
  mode: LabelMode;
  points: [number, number][];
}

export interface Labels {
  version: 1;
  frames: Record<string, LabelPolygon[]>;
}

const FRAME_NAME = /^\d{6}$/;

/** 1-based line and column of a character offset in `text`. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return `line ${lines.length}, column ${lines[lines.length - 1].length + 1}`;
}

function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    // V8 names the offset ("at position 12") but not the line; an unexpected end has neither.
    const pos = /position (\d+)/.exec(msg);
    const where = lineColumn(text, pos ? Number(pos[1]) : text.length);
    throw new Error(`${file}: not valid JSON at ${where} (${msg}); fix the file or delete it to start the labels again`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function unknownKeys(obj: Record<string, unknown>, allowed: string[]): string[] {
  return Object.keys(obj).filter((k) => !allowed.includes(k));
}

function parsePoint(p: unknown, where: string, i: number): [number, number] {
  if (!Array.isArray(p) || p.length !== 2 || !p.every((c) => typeof c === 'number' && Number.isFinite(c))) {
    throw new Error(`${where}: point ${i} must be [x, y] with two numbers, got ${JSON.stringify(p)}`);
  }
  const [x, y] = p as [number, number];
  if (x < 0 || x > 1 || y < 0 || y > 1) {
    throw new Error(`${where}: point ${i} [${x}, ${y}] is outside the crop; coordinates are normalised to [0, 1]`);
  }
  return [x, y];
}

function parsePolygon(v: unknown, where: string): LabelPolygon {
  if (!isObject(v)) throw new Error(`${where}: must be an object {"mode": "include"|"exclude", "points": [[x, y], ...]}`);
  const extra = unknownKeys(v, ['mode', 'points']);
  if (extra.length) throw new Error(`${where}: unknown key '${extra[0]}' (a polygon has only "mode" and "points")`);
  if (!LABEL_MODES.includes(v.mode as LabelMode)) {
    throw new Error(`${where}: unknown mode ${JSON.stringify(v.mode)}; use "include" (visible face) or "exclude" (covers the face)`);
  }
  if (!Array.isArray(v.points)) throw new Error(`${where}: "points" must be a list of [x, y] pairs`);
  if (v.points.length < 3) throw new Error(`${where}: has ${v.points.length} point(s); a polygon needs at least 3 (add points or delete it)`);
  return { mode: v.mode as LabelMode, points: v.points.map((p, i) => parsePoint(p, where, i)) };
}

/**
 * Parses and validates a labels file's text. `file` names it in errors; `frameNames` (crop names, with or without
 * ".png"), when given, are the frames the shot has: a label naming another frame is an error.
 */
export function parseLabels(text: string, file: string, frameNames?: Iterable<string>): Labels {
  const doc = parseJsonText(text, file);
  if (!isObject(doc)) throw new Error(`${file}: must be a JSON object {"version": 1, "frames": {...}}`);
  const extra = unknownKeys(doc, ['version', 'frames']);
  if (extra.length) throw new Error(`${file}: unknown key '${extra[0]}' (a labels file has only "version" and "frames")`);
  if (doc.version !== 1) throw new Error(`${file}: "version" must be 1, got ${JSON.stringify(doc.version)}`);
  if (!isObject(doc.frames)) throw new Error(`${file}: "frames" must be an object of frame name -> list of polygons`);
  const known = frameNames ? new Set([...frameNames].map((n) => n.replace(/\.png$/, ''))) : undefined;
  const frames: Record<string, LabelPolygon[]> = {};
  for (const [name, list] of Object.entries(doc.frames)) {
    if (!FRAME_NAME.test(name)) throw new Error(`${file}: frame '${name}' is not a frame name; use align's six-digit crop name (e.g. "000012")`);
    if (known && !known.has(name)) throw new Error(`${file}: frame ${name} is not a frame of this shot (align has no crop ${name}.png); delete its labels`);
    if (!Array.isArray(list)) throw new Error(`${file}: frame ${name} must be a list of polygons`);
    frames[name] = list.map((p, i) => parsePolygon(p, `${file}: frame ${name} polygon ${i}`));
  }
  return { version: 1, frames };
}

/** Reads and validates a labels file (see parseLabels). */
export async function readLabels(file: string, frameNames?: Iterable<string>): Promise<Labels> {
  return parseLabels(await readFile(file, 'utf8'), file, frameNames);
}

/** The file text for `labels`: frames sorted, one polygon a line, so edits diff cleanly. */
export function formatLabels(labels: Labels): string {
  const names = Object.keys(labels.frames).sort();
  const frame = (n: string): string => {
    const polys = labels.frames[n].map((p) => `      ${JSON.stringify({ mode: p.mode, points: p.points })}`);
    return `    ${JSON.stringify(n)}: [${polys.length ? `\n${polys.join(',\n')}\n    ` : ''}]`;
  };
  return `{\n  "version": 1,\n  "frames": {${names.length ? `\n${names.map(frame).join(',\n')}\n  ` : ''}}\n}\n`;
}

/** Sets to `value` the pixels of `mask` (size x size) whose centres lie inside `points` (even-odd rule). */
function fillPolygon(mask: Uint8Array, size: number, points: [number, number][], value: number): void {
  const px = points.map(([x, y]) => [x * size, y * size] as const);
  for (let row = 0; row < size; row++) {
    const cy = row + 0.5;
    const xs: number[] = [];
    for (let i = 0, j = px.length - 1; i < px.length; j = i++) {
      const [x0, y0] = px[j];
      const [x1, y1] = px[i];
      // Half-open in y so a vertex shared by two edges is counted once.
      if ((y0 <= cy && cy < y1) || (y1 <= cy && cy < y0)) xs.push(x0 + ((cy - y0) / (y1 - y0)) * (x1 - x0));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const from = Math.max(0, Math.ceil(xs[k] - 0.5));
      const to = Math.min(size - 1, Math.ceil(xs[k + 1] - 0.5) - 1);
      for (let col = from; col <= to; col++) mask[row * size + col] = value;
    }
  }
}

/** The union of the include polygons minus the exclude polygons, as a size x size mask of 0 / 255. */
export function rasteriseLabels(polygons: LabelPolygon[], size: number): Uint8Array {
  const mask = new Uint8Array(size * size);
  for (const p of polygons) if (p.mode === 'include') fillPolygon(mask, size, p.points, 255);
  for (const p of polygons) if (p.mode === 'exclude') fillPolygon(mask, size, p.points, 0);
  return mask;
}
