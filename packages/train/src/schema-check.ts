/**
 * A checker for the small JSON-schema subset the train params use (type, enum, const, bounds, oneOf,
 * properties, additionalProperties, items, minItems, uniqueItems), so the stage validates its
 * params with the very schema the runner checks at plan time, without a validator dependency.
 */

export interface JsonSchema {
  type?: 'integer' | 'number' | 'boolean' | 'string' | 'object' | 'array';
  enum?: readonly unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  uniqueItems?: boolean;
  default?: unknown;
  description?: string;
}

/** A value that breaks the schema: its dotted path, and what it must be. */
export interface SchemaProblem {
  path: string;
  value: unknown;
  must: string;
  /** An object key the schema does not declare. */
  unknown?: boolean;
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function typeOk(type: NonNullable<JsonSchema['type']>, v: unknown): boolean {
  switch (type) {
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'object':
      return isObject(v);
    case 'array':
      return Array.isArray(v);
    default:
      return typeof v === type;
  }
}

function range(s: JsonSchema): string {
  const lo = s.minimum ?? s.exclusiveMinimum;
  const hi = s.maximum ?? s.exclusiveMaximum;
  if (lo !== undefined && hi !== undefined) {
    return `in ${s.minimum !== undefined ? '[' : '('}${lo}, ${hi}${s.maximum !== undefined ? ']' : ')'}`;
  }
  if (lo !== undefined) return `${s.minimum !== undefined ? '>=' : '>'} ${lo}`;
  if (hi !== undefined) return `${s.maximum !== undefined ? '<=' : '<'} ${hi}`;
  return '';
}

/** What a value of the schema must be, in words ("an integer >= 1", "one of none, encoder"). */
export function describe(s: JsonSchema): string {
  if (s.oneOf) return s.oneOf.map(describe).join(' or ');
  if ('const' in s) return JSON.stringify(s.const);
  if (s.enum) return `one of ${s.enum.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`;
  const r = range(s);
  switch (s.type) {
    case 'integer':
      return `an integer${r ? ` ${r}` : ''}`;
    case 'number':
      return r.startsWith('in') ? r : `a number${r ? ` ${r}` : ''}`;
    case 'object':
      return s.properties ? `an object {${Object.keys(s.properties).join(', ')}}` : 'a map';
    case 'array':
      return `an array${s.items ? ` of ${describe(s.items).replace(/^an? /, '')}s` : ''}`;
    default:
      return s.type ? `a ${s.type}` : 'a value';
  }
}

function scalarOk(s: JsonSchema, v: unknown): boolean {
  if (s.type && !typeOk(s.type, v)) return false;
  if ('const' in s && v !== s.const) return false;
  if (s.enum && !s.enum.includes(v)) return false;
  if (typeof v === 'number') {
    if (s.minimum !== undefined && v < s.minimum) return false;
    if (s.maximum !== undefined && v > s.maximum) return false;
    if (s.exclusiveMinimum !== undefined && v <= s.exclusiveMinimum) return false;
    if (s.exclusiveMaximum !== undefined && v >= s.exclusiveMaximum) return false;
  }
  if (Array.isArray(v) && s.minItems !== undefined && v.length < s.minItems) return false;
  if (Array.isArray(v) && s.uniqueItems && new Set(v).size !== v.length) return false;
  return true;
}

function members(s: JsonSchema, v: unknown, path: string): SchemaProblem[] {
  const out: SchemaProblem[] = [];
  if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      const sub = s.properties?.[k] ?? (isObject(s.additionalProperties) ? s.additionalProperties : undefined);
      if (sub) out.push(...check(sub, x, join(path, k)));
      else if (s.additionalProperties === false) {
        out.push({ path: join(path, k), value: x, must: `one of the known fields (${Object.keys(s.properties ?? {}).join(', ')})`, unknown: true });
      }
    }
  }
  if (Array.isArray(v) && s.items) v.forEach((x, i) => out.push(...check(s.items!, x, `${path}[${i}]`)));
  return out;
}

/** Every problem of `v` against the schema (empty when valid); a failed oneOf reports the branch whose type fits. */
export function check(s: JsonSchema, v: unknown, path = ''): SchemaProblem[] {
  if (s.oneOf) {
    const results = s.oneOf.map((b) => check(b, v, path));
    if (results.some((r) => r.length === 0)) return [];
    const fitting = s.oneOf.findIndex((b) => b.type !== undefined && typeOk(b.type, v) && (b.type === 'object' || b.type === 'array'));
    return fitting >= 0 ? results[fitting] : [{ path, value: v, must: describe(s) }];
  }
  if (!scalarOk(s, v)) return [{ path, value: v, must: describe(s) }];
  return members(s, v, path);
}
