import type { ErrorObject } from './ajv.js';
import type { Diagnostic, PathSeg, SourceMap } from './diagnostics.js';
import { didYouMean } from './hint.js';

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
