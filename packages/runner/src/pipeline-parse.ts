import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { makeAjv } from './ajv.js';
import { PipelineError, SourceMap, type Diagnostic } from './diagnostics.js';
import { ajvDiagnostics } from './schema-errors.js';

const NAME = '^[A-Za-z][A-Za-z0-9_-]*$';

/** JSON Schema of a pipeline file. */
export const PIPELINE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'name', 'stages'],
  properties: {
    version: { const: 1 },
    name: { type: 'string', pattern: NAME },
    description: { type: 'string' },
    vars: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
    stages: { type: 'object', minProperties: 1, propertyNames: { pattern: NAME }, additionalProperties: { $ref: '#/$defs/stage' } },
  },
  $defs: {
    stage: {
      type: 'object',
      additionalProperties: false,
      required: ['uses'],
      properties: {
        uses: { type: 'string' },
        with: { type: ['object', 'null'] },
        needs: { type: 'array', items: { type: 'string' }, uniqueItems: true },
        resources: { type: 'object', additionalProperties: { type: 'number', minimum: 0 } },
        chunk: { type: 'integer', minimum: 1 },
        publish: { type: 'string', minLength: 1 },
        description: { type: 'string' },
      },
    },
  },
};

let pipelineValidator: ReturnType<ReturnType<typeof makeAjv>['compile']> | undefined;

/** A pipeline file read and parsed: its top-level map and the schema's problems (to report with the rest). */
export interface ParsedPipeline {
  abs: string;
  src: SourceMap;
  root: Record<string, unknown>;
  diags: Diagnostic[];
}

/** Reads and parses a pipeline file, checks it against PIPELINE_SCHEMA; throws when it is not a YAML map at all. */
export function parsePipeline(file: string): ParsedPipeline {
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new PipelineError([{ file: abs, line: 1, col: 1, field: '', message: `cannot read pipeline file: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}` }]);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, keepSourceTokens: true, prettyErrors: false });
  const src = new SourceMap(abs, doc, lines);
  if (doc.errors.length) {
    throw new PipelineError(
      doc.errors.map((e) => {
        const p = lines.linePos(e.pos[0]);
        return { file: abs, line: p.line, col: p.col, field: '', message: `YAML: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (e) {
    // an alias bomb (billion laughs) stops here: yaml refuses excessive alias expansion
    throw new PipelineError([{ file: abs, line: 1, col: 1, field: '', message: `YAML: ${(e as Error).message.split('\n')[0]}; use fewer aliases (*name)` }]);
  }
  const diags: Diagnostic[] = [];
  pipelineValidator ??= makeAjv().compile(PIPELINE_SCHEMA);
  if (!pipelineValidator(data)) diags.push(...ajvDiagnostics(pipelineValidator.errors ?? [], src, []));
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    if (!diags.length) diags.push(src.diag([], 'a pipeline must be a map with version, name and stages'));
    throw new PipelineError(diags);
  }
  return { abs, src, root: data as Record<string, unknown>, diags };
}

/** The value at `key` when it is a map, else an empty one (the schema has already reported it). */
export function mapAt(o: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = o[key];
  return (v && typeof v === 'object' && !Array.isArray(v) ? v : {}) as Record<string, unknown>;
}
