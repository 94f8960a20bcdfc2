import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { isAbsolute, relative, sep } from 'node:path';
import type { Cache, IndexRecord } from './cache.js';
import type { HashIndex } from './files.js';
import type { Pipeline, StageDef } from './pipeline.js';

/** Bumped when the key layout changes, so old entries are not mistaken for new ones. */
export const KEY_FORMAT = 'facecomb-cache-1';

export interface PlannedInput {
  param: string;
  /** Path relative to the pipeline folder, `/`-separated. */
  path: string;
  abs: string;
  size: number;
  sha256: string;
}

export interface StagePlan {
  name: string;
  def: StageDef;
  key: string;
  inputs: PlannedInput[];
  /** Needed stage -> its key. */
  upstream: Record<string, string>;
  state: 'cached' | 'stale';
  /** Why it is stale (empty when cached). */
  reasons: string[];
}

/** JSON with sorted object keys: equal values give equal text. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

export function stageKey(parts: { kind: string; version: string; params: unknown; upstream: Record<string, string>; inputs: Pick<PlannedInput, 'path' | 'sha256'>[] }): string {
  const text = canonicalJson({
    format: KEY_FORMAT,
    kind: parts.kind,
    version: parts.version,
    params: parts.params,
    upstream: parts.upstream,
    inputs: parts.inputs.map((i) => [i.path, i.sha256]),
  });
  return createHash('sha256').update(text).digest('hex');
}

function diffParams(a: unknown, b: unknown, path: string, out: string[]): void {
  const isObj = (x: unknown) => x && typeof x === 'object' && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) {
      const p = `${path}.${k}`;
      if (!(k in ao)) out.push(`param ${p} added`);
      else if (!(k in bo)) out.push(`param ${p} removed`);
      else diffParams(ao[k], bo[k], p, out);
    }
  } else if (canonicalJson(a) !== canonicalJson(b)) out.push(`param ${path} changed`);
}

/** Why the stage's current definition differs from its last recorded run. */
export function staleReasons(cur: { kind: string; version: string; params: unknown; inputs: PlannedInput[]; upstream: Record<string, string>; key: string }, rec: IndexRecord | null, upstreamStale: (n: string) => boolean, cache: Cache): string[] {
  const reasons: string[] = [];
  const ups = Object.keys(cur.upstream);
  const staleUps = ups.filter(upstreamStale);
  if (!rec) {
    reasons.push('never run');
    for (const u of staleUps) reasons.push(`upstream '${u}' is stale`);
    return reasons;
  }
  if (rec.kind !== cur.kind) reasons.push(`uses changed: ${rec.kind} -> ${cur.kind}`);
  else if (rec.version !== cur.version) reasons.push(`stage version ${rec.version} -> ${cur.version}`);
  diffParams(rec.params, cur.params, 'with', reasons);
  const curIn = new Map(cur.inputs.map((i) => [i.path, i.sha256]));
  for (const [p, h] of curIn) {
    if (!(p in rec.inputs)) reasons.push(`input ${p} added`);
    else if (rec.inputs[p] !== h) reasons.push(`input ${p} changed`);
  }
  for (const p of Object.keys(rec.inputs)) if (!curIn.has(p)) reasons.push(`input ${p} removed`);
  for (const u of ups) {
    if (staleUps.includes(u)) reasons.push(`upstream '${u}' is stale`);
    else if (!(u in rec.upstream)) reasons.push(`needs '${u}' added`);
    else if (rec.upstream[u] !== cur.upstream[u]) reasons.push(`upstream '${u}' changed`);
  }
  for (const u of Object.keys(rec.upstream)) if (!(u in cur.upstream)) reasons.push(`needs '${u}' removed`);
  if (!reasons.length) reasons.push(rec.key === cur.key && !cache.has(cur.key) ? `cache entry ${cur.key.slice(0, 12)} is missing (removed by gc?)` : 'cache key changed');
  return reasons;
}

/** Computes every stage's key and whether its cache entry exists, in dependency order. */
export async function planPipeline(p: Pipeline, cache: Cache, hashes: HashIndex, force: Set<string> = new Set()): Promise<Map<string, StagePlan>> {
  const plans = new Map<string, StagePlan>();
  for (const name of p.order) {
    const def = p.stages.get(name)!;
    const inputs: PlannedInput[] = [];
    for (const f of def.inputFiles) {
      const st = statSync(f.abs);
      const rel = relative(p.dir, f.abs);
      // inside the pipeline folder: relative (the project can move); outside: absolute
      const path = rel.startsWith('..') || isAbsolute(rel) ? f.abs : rel.split(sep).join('/');
      inputs.push({ param: f.param, path, abs: f.abs, size: st.size, sha256: await hashes.hash(f.abs, st) });
    }
    const upstream: Record<string, string> = {};
    for (const n of [...def.needs].sort()) upstream[n] = plans.get(n)!.key;
    const key = stageKey({ kind: def.kind.kind, version: def.kind.version, params: def.params, upstream, inputs });
    const cached = cache.has(key) && !force.has(name);
    let reasons: string[] = [];
    if (!cached) {
      reasons = staleReasons({ kind: def.kind.kind, version: def.kind.version, params: def.params, inputs, upstream, key }, cache.readIndex(p.name, name), (n) => plans.get(n)!.state === 'stale', cache);
      if (force.has(name)) reasons = cache.has(key) ? ['forced'] : ['forced', ...reasons];
      if (cache.damaged(key)) reasons = [`cache entry ${key.slice(0, 12)} is damaged (manifest.json empty or invalid, e.g. after a power loss): it runs again`, ...reasons.filter((r) => !r.startsWith('cache entry'))];
    }
    plans.set(name, { name, def, key, inputs, upstream, state: cached ? 'cached' : 'stale', reasons });
  }
  return plans;
}

export function indexRecord(p: Pipeline, sp: StagePlan): IndexRecord {
  return {
    key: sp.key,
    kind: sp.def.kind.kind,
    version: sp.def.kind.version,
    params: sp.def.params,
    inputs: Object.fromEntries(sp.inputs.map((i) => [i.path, i.sha256])),
    upstream: sp.upstream,
    pipelineFile: p.file,
    time: new Date().toISOString(),
  };
}
