import type { Diagnostic, PathSeg, SourceMap } from './diagnostics.js';
import { didYouMean } from './hint.js';

type Lookup = (name: string) => { value: unknown } | { error: string };

const VAR_RE = /\$\$\{|\$\{([^}]*)\}/g;
const BUILTINS = ['pipeline_dir', 'name'];

/** Resolves `${name}` and `${env:NAME}` in a string; an exact `${name}` keeps the variable's type. */
function substitute(s: string, lookup: Lookup): { value: unknown; errors: string[] } {
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

/** What `${...}` may refer to: the file's `vars`, `${env:NAME}` and the builtins `pipeline_dir` and `name`. */
export interface VarScope {
  rawVars: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  dir: string;
  name: unknown;
}

/** Resolved variables and a substitution over any value; problems go to `diags` at the value's YAML position. */
export interface Substitution {
  vars: Record<string, unknown>;
  subst: (v: unknown, path: PathSeg[]) => unknown;
}

/**
 * Resolves every variable (in file order; a variable may use another, a cycle is reported) and returns the
 * substitution applied to stages' `with`.
 */
export function resolveVars(scope: VarScope, src: SourceMap, diags: Diagnostic[]): Substitution {
  const { rawVars, env } = scope;
  const vars: Record<string, unknown> = {};
  const resolving = new Set<string>();
  const lookup: Lookup = (name) => {
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
    if (name === 'pipeline_dir') return { value: scope.dir };
    if (name === 'name') return { value: scope.name };
    return { error: `unknown variable '\${${name}}'${didYouMean(name, [...Object.keys(rawVars), ...BUILTINS], (s) => `'\${${s}}'`)}` };
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
  return { vars, subst };
}
