import { relative } from 'node:path';
import { LineCounter, isMap, isScalar, isSeq, isPair, type Document, type Node } from 'yaml';

export type PathSeg = string | number;

/** One problem found in a pipeline file, at a YAML position. */
export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  /** Dotted field path, e.g. `stages.align.needs[0]`. */
  field: string;
  message: string;
}

export function formatPath(path: PathSeg[]): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number' || /^\d+$/.test(p)) s += `[${p}]`;
    else s += s === '' ? p : `.${p}`;
  }
  return s;
}

export function formatDiagnostic(d: Diagnostic, cwd = process.cwd()): string {
  const rel = relative(cwd, d.file);
  const file = rel && !rel.startsWith('..') ? rel : d.file;
  return `${file}:${d.line}:${d.col}: ${d.field ? `${d.field}: ` : ''}${d.message}`;
}

/** Errors in a pipeline, found before anything runs. */
export class PipelineError extends Error {
  constructor(public readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => formatDiagnostic(d)).join('\n'));
    this.name = 'PipelineError';
  }
}

/** Maps data paths of a parsed YAML document to line:column positions. */
export class SourceMap {
  constructor(
    readonly file: string,
    readonly doc: Document.Parsed,
    readonly lines: LineCounter,
  ) {}

  private at(offset: number): { line: number; col: number } {
    const p = this.lines.linePos(offset);
    return { line: p.line, col: p.col };
  }

  /** Position of the value at `path` (or of its key when `key`); the deepest existing ancestor when missing. */
  pos(path: PathSeg[], key = false): { line: number; col: number } {
    let node: unknown = this.doc.contents;
    let last = (node as Node | null)?.range?.[0] ?? 0;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      if (isMap(node)) {
        const pair = node.items.find((it) => isPair(it) && String(isScalar(it.key) ? it.key.value : it.key) === String(seg));
        if (!pair) break;
        const keyNode = pair.key as Node | null;
        const keyStart = keyNode?.range?.[0] ?? last;
        if ((i === path.length - 1 && key) || pair.value === null || pair.value === undefined) {
          if (i === path.length - 1 || pair.value == null) return this.at(keyStart);
        }
        node = pair.value;
        last = (node as Node).range?.[0] ?? keyStart;
        // An empty value (`with:`) has a range at the end of the key line; point at the key instead.
        if (isScalar(node) && node.value === null) last = keyStart;
      } else if (isSeq(node)) {
        const item = node.items[Number(seg)];
        if (item === undefined) break;
        node = item;
        last = (item as Node).range?.[0] ?? last;
      } else break;
    }
    return this.at(last);
  }

  diag(path: PathSeg[], message: string, key = false): Diagnostic {
    const { line, col } = this.pos(path, key);
    return { file: this.file, line, col, field: formatPath(path), message };
  }
}
