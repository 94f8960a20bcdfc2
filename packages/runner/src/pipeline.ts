import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { makeAjv, type ErrorObject } from './ajv.js';
import { PipelineError, SourceMap, type Diagnostic, type PathSeg } from './diagnostics.js';
import { FileNameError, expandInput, isGlob } from './files.js';
import { closest, didYouMean } from './hint.js';
import type { KindSpec, Registry } from './registry.js';

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

/** One resolved input file of a stage. */
export interface InputFile {
  /** The `with` param it came from. */
  param: string;
  /** Absolute path. */
  abs: string;
}

export interface StageDef {
  name: string;
  uses: string;
  kind: KindSpec;
  /** `with` after `${var}` substitution. */
  params: Record<string, unknown>;
  needs: string[];
  resources: Record<string, number>;
  /** Frames per chunk job (per-frame kinds); not part of the key: the merged artifact equals an unchunked run's. */
  chunk?: number;
  description?: string;
  /** Absolute folder the stage's outputs are published into (`publish:`, relative to the pipeline file); not part of the key. */
  publish?: string;
  /** Input files named by the kind's input params (expanded globs and folders), sorted. */
  inputFiles: InputFile[];
}

export interface Pipeline {
  file: string;
  dir: string;
  name: string;
  vars: Record<string, unknown>;
  stages: Map<string, StageDef>;
  /** Stage names, dependencies first (file order among independent stages). */
  order: string[];
  source: SourceMap;
}

let pipelineValidator: ReturnType<ReturnType<typeof makeAjv>['compile']> | undefined;

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function splitPointer(p: string): string[] {
  return p === '' ? [] : p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Turns ajv errors into diagnostics at YAML positions; `prefix` is the data path the validated value sits at. */
export function ajvDiagnostics(allErrors: ErrorObject[], src: SourceMap, prefix: PathSeg[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  const errors = collapseAlternatives(allErrors);
  for (const e of errors) {
    if ((e as { propertyName?: string }).propertyName !== undefined) continue;
    const path = [...prefix, ...splitPointer(e.instancePath)];
    let d: Diagnostic;
    const params = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'additionalProperties': {
        const prop = String(params.additionalProperty);
        const props = Object.keys(((e.parentSchema as Record<string, unknown>)?.properties ?? {}) as object);
        const hint = didYouMean(prop, props);
        d = src.diag([...path, prop], `unknown field '${prop}'${hint || (props.length ? ` (allowed: ${props.join(', ')})` : '')}`, true);
        break;
      }
      case 'required':
        d = src.diag(path, `missing required field '${String(params.missingProperty)}'`, false);
        d.field = d.field ? `${d.field}.${String(params.missingProperty)}` : String(params.missingProperty);
        break;
      case 'type':
        d = src.diag(path, `must be ${String(params.type).replace(',', ' or ')}, got ${typeOf(e.data)}`);
        if (path.length === 3 && path[0] === 'stages' && path[2] === 'needs' && typeof e.data === 'string') d.message += ` (write needs: [${e.data}])`;
        break;
      case 'const':
        d = src.diag(path, `must be ${JSON.stringify(params.allowedValue)}, got ${JSON.stringify(e.data)}`);
        break;
      case 'enum': {
        const allowed = (params.allowedValues as unknown[]).map(String);
        d = src.diag(path, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(e.data)}${typeof e.data === 'string' ? didYouMean(e.data, allowed) : ''}`);
        break;
      }
      case 'propertyNames': {
        const prop = String(params.propertyName);
        d = src.diag([...path, prop], `invalid name '${prop}': use letters, digits, '-' and '_', starting with a letter`, true);
        break;
      }
      case 'uniqueItems':
        d = src.diag([...path, Number(params.j)], `duplicate item ${JSON.stringify((e.data as unknown[])[Number(params.j)])}`);
        break;
      case 'minProperties':
        d = src.diag(path, `must have at least ${String(params.limit)} entr${params.limit === 1 ? 'y' : 'ies'}`);
        break;
      case 'oneOf':
      case 'anyOf': {
        const forms = (Array.isArray(e.schema) ? e.schema : []).map(describeSchema);
        d = src.diag(path, `must be ${forms.join(' or ')}, got ${typeOf(e.data) === 'string' ? JSON.stringify(e.data) : typeOf(e.data)}`);
        break;
      }
      default:
        d = src.diag(path, e.message ?? `fails '${e.keyword}'`);
    }
    const k = `${d.line}:${d.col}:${d.message}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(d);
    }
  }
  return out;
}

function matchesType(t: unknown, v: unknown): boolean {
  const types = Array.isArray(t) ? t : [t];
  return types.some((x) => (x === 'integer' ? Number.isInteger(v) : x === typeOf(v) || (x === 'number' && typeof v === 'number')));
}

function describeSchema(sch: unknown): string {
  const o = (sch ?? {}) as Record<string, unknown>;
  if ('const' in o) return JSON.stringify(o.const);
  if (Array.isArray(o.enum)) return `one of ${o.enum.map((x) => JSON.stringify(x)).join(', ')}`;
  if (o.type) return Array.isArray(o.type) ? o.type.join(' or ') : String(o.type);
  return 'a value matching its schema';
}

/**
 * For a failed oneOf/anyOf: when exactly one alternative has the value's type, report that alternative's own
 * errors (they say what is wrong); else report the alternatives once, without every branch's noise.
 */
function collapseAlternatives(errors: ErrorObject[]): ErrorObject[] {
  let out = errors;
  for (const alt of errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf')) {
    const branches = Array.isArray(alt.schema) ? (alt.schema as Record<string, unknown>[]) : [];
    const typed = branches.map((b, i) => [b, i] as const).filter(([b]) => b && 'type' in b && matchesType(b.type, alt.data));
    const inside = (e: ErrorObject, i?: number) => e !== alt && e.schemaPath.startsWith(`${alt.schemaPath}/${i ?? ''}`);
    if (typed.length === 1) {
      const keep = typed[0][1];
      out = out.filter((e) => e !== alt && (!inside(e) || inside(e, keep)));
    } else out = out.filter((e) => !inside(e));
  }
  return out;
}

const VAR_RE = /\$\$\{|\$\{([^}]*)\}/g;

/** Resolves `${name}` and `${env:NAME}` in a string; an exact `${name}` keeps the variable's type. */
function substitute(s: string, lookup: (name: string) => { value: unknown } | { error: string }): { value: unknown; errors: string[] } {
  const errors: string[] = [];
  const whole = /^\$\{([^}]*)\}$/.exec(s);
  if (whole) {
    const r = lookup(whole[1].trim());
    if ('error' in r) return { value: s, errors: [r.error] };
    return { value: r.value, errors };
  }
  const value = s.replace(VAR_RE, (m, name: string | undefined) => {
    if (m === '$${') return '${';
    const r = lookup((name ?? '').trim());
    if ('error' in r) {
      errors.push(r.error);
      return m;
    }
    return String(r.value);
  });
  return { value, errors };
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Skip checking that input files exist (and do not expand them). */
  skipInputs?: boolean;
}

/** Reads, validates and resolves a pipeline file. Throws PipelineError listing every problem found. */
export function loadPipeline(file: string, registry: Registry, opts: LoadOptions = {}): Pipeline {
  const env = opts.env ?? process.env;
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
  const root = data as Record<string, unknown>;
  const rawStages = (typeof root.stages === 'object' && root.stages && !Array.isArray(root.stages) ? root.stages : {}) as Record<string, unknown>;
  const stageNames = Object.keys(rawStages);
  const dir = dirname(abs);

  // vars
  const rawVars = (typeof root.vars === 'object' && root.vars && !Array.isArray(root.vars) ? root.vars : {}) as Record<string, unknown>;
  const vars: Record<string, unknown> = {};
  const resolving = new Set<string>();
  const lookup = (name: string): { value: unknown } | { error: string } => {
    if (name.startsWith('env:')) {
      const v = env[name.slice(4)];
      return v === undefined ? { error: `environment variable '${name.slice(4)}' is not set` } : { value: v };
    }
    if (name in vars) return { value: vars[name] };
    if (name in rawVars) {
      if (resolving.has(name)) return { error: `variable '${name}' refers to itself` };
      resolveVar(name);
      return { value: vars[name] };
    }
    const builtins = ['pipeline_dir', 'name'];
    if (name === 'pipeline_dir') return { value: dir };
    if (name === 'name') return { value: root.name };
    return { error: `unknown variable '\${${name}}'${didYouMean(name, [...Object.keys(rawVars), ...builtins], (s) => `'\${${s}}'`)}` };
  };
  const resolveVar = (name: string) => {
    resolving.add(name);
    const raw = rawVars[name];
    if (typeof raw === 'string') {
      const r = substitute(raw, lookup);
      for (const m of r.errors) diags.push(src.diag(['vars', name], m));
      vars[name] = r.value;
    } else vars[name] = raw;
    resolving.delete(name);
  };
  for (const name of Object.keys(rawVars)) if (!(name in vars)) resolveVar(name);

  const subst = (v: unknown, path: PathSeg[]): unknown => {
    if (typeof v === 'string') {
      const r = substitute(v, lookup);
      for (const m of r.errors) diags.push(src.diag(path, m));
      return r.value;
    }
    if (Array.isArray(v)) return v.map((x, i) => subst(x, [...path, i]));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, subst(x, [...path, k])]));
    return v;
  };

  const stages = new Map<string, StageDef>();
  for (const name of stageNames) {
    const raw = rawStages[name];
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) continue;
    const s = raw as Record<string, unknown>;
    const base: PathSeg[] = ['stages', name];
    let kind: KindSpec | undefined;
    if (typeof s.uses === 'string') {
      kind = registry.kinds.get(s.uses);
      if (!kind) {
        const known = [...registry.kinds.keys()];
        const hint = closest(s.uses, known);
        const notInstalled = registry.missing.length ? `; not installed: ${registry.missing.join(', ')}` : '';
        diags.push(src.diag([...base, 'uses'], `unknown stage kind '${s.uses}'${hint ? ` (did you mean '${hint}'?)` : ''}; known kinds: ${known.join(', ')}${notInstalled}`));
      }
    }
    const rawWith = (s.with && typeof s.with === 'object' && !Array.isArray(s.with) ? s.with : {}) as Record<string, unknown>;
    const params = subst(rawWith, [...base, 'with']) as Record<string, unknown>;
    const needs = Array.isArray(s.needs) ? s.needs.filter((n): n is string => typeof n === 'string') : [];
    (Array.isArray(s.needs) ? s.needs : []).forEach((n, i) => {
      if (typeof n !== 'string') return;
      if (!(n in rawStages)) diags.push(src.diag([...base, 'needs', i], `unknown stage '${n}'${didYouMean(n, stageNames.filter((x) => x !== name))}; stages: ${stageNames.join(', ')}`));
    });
    const resources: Record<string, number> = { ...(kind?.resources ?? {}) };
    if (s.resources && typeof s.resources === 'object') for (const [k, v] of Object.entries(s.resources)) if (typeof v === 'number') resources[k] = v;
    const inputFiles: InputFile[] = [];
    if (kind) {
      if (!kind.validate(params)) diags.push(...ajvDiagnostics(kind.validate.errors ?? [], src, [...base, 'with']));
      if (!opts.skipInputs) {
        for (const param of kind.inputs) {
          const v = params[param];
          const list: [string, PathSeg[]][] =
            typeof v === 'string' ? [[v, [...base, 'with', param]]] : Array.isArray(v) ? v.map((x, i) => [x, [...base, 'with', param, i]] as [string, PathSeg[]]).filter(([x]) => typeof x === 'string') : [];
          for (const [p, path] of list) {
            let files: string[] | null;
            try {
              files = expandInput(dir, p);
            } catch (e) {
              if (!(e instanceof FileNameError)) throw e;
              diags.push(src.diag(path, e.message));
              continue;
            }
            if (!files) {
              const where = isAbsolute(p) ? p : resolve(dir, p);
              diags.push(src.diag(path, isGlob(p) ? `input glob '${p}' matches no file (under ${dir})` : `input file '${p}' not found (looked at ${where})`));
            } else for (const f of files) inputFiles.push({ param, abs: f });
          }
        }
      }
    }
    const chunk = typeof s.chunk === 'number' ? s.chunk : undefined;
    if (kind && chunk !== undefined && !kind.chunk) {
      const able = [...registry.kinds.values()].filter((k) => k.chunk).map((k) => k.kind);
      diags.push(src.diag([...base, 'chunk'], `stage kind '${kind.kind}' cannot be split into frame chunks; kinds that can: ${able.join(', ')}`));
    }
    if (kind) stages.set(name, { name, uses: kind.kind, kind, params, needs, resources, chunk, description: typeof s.description === 'string' ? s.description : undefined, publish: typeof s.publish === 'string' ? resolve(dir, s.publish) : undefined, inputFiles: dedupe(inputFiles) });
  }

  // cycles
  const color = new Map<string, 0 | 1 | 2>();
  const stack: string[] = [];
  const reported = new Set<string>();
  const needsOf = (n: string): unknown[] => {
    const s = rawStages[n] as Record<string, unknown> | undefined;
    return s && Array.isArray(s.needs) ? s.needs : [];
  };
  const visit = (n: string) => {
    color.set(n, 1);
    stack.push(n);
    needsOf(n).forEach((m, i) => {
      if (typeof m !== 'string' || !(m in rawStages)) return;
      const c = color.get(m) ?? 0;
      if (c === 1) {
        const cycle = [...stack.slice(stack.indexOf(m)), m];
        const id = [...cycle].slice(0, -1).sort().join(',');
        if (!reported.has(id)) {
          reported.add(id);
          diags.push(src.diag(['stages', n, 'needs', i], `dependency cycle: ${cycle.join(' -> ')}`));
        }
      } else if (c === 0) visit(m);
    });
    stack.pop();
    color.set(n, 2);
  };
  for (const n of stageNames) if (!color.get(n)) visit(n);

  if (diags.length) {
    diags.sort((a, b) => a.line - b.line || a.col - b.col);
    throw new PipelineError(diags);
  }

  // topological order, file order among ready stages
  const order: string[] = [];
  const done = new Set<string>();
  while (order.length < stageNames.length) {
    const next = stageNames.find((n) => !done.has(n) && stages.get(n)!.needs.every((m) => done.has(m)));
    if (!next) break;
    done.add(next);
    order.push(next);
  }
  return { file: abs, dir, name: String(root.name), vars, stages, order, source: src };
}

function dedupe(files: InputFile[]): InputFile[] {
  const seen = new Set<string>();
  return files.filter((f) => (seen.has(f.abs) ? false : (seen.add(f.abs), true))).sort((a, b) => (a.abs < b.abs ? -1 : a.abs > b.abs ? 1 : 0));
}

/** Stage names that (transitively) need `name`. */
export function dependents(p: Pipeline, name: string): string[] {
  const out: string[] = [];
  for (const n of p.order) if (n !== name && p.stages.get(n)!.needs.some((m) => m === name || out.includes(m))) out.push(n);
  return out;
}

/** The environment-variable form of a stage name: upper-case, '-' as '_'. */
export function envName(stage: string): string {
  return stage.toUpperCase().replace(/-/g, '_');
}
