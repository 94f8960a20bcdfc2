import { pathToFileURL } from 'node:url';
import type { Diagnostic, PathSeg } from './diagnostics.js';
import { didYouMean } from './hint.js';
import type { Pipeline, StageDef } from './pipeline.js';
import { RegistryError } from './registry.js';

/** What a kind's `check(params, ctx)` (stages.json `check`) gets besides its params. */
export interface CheckContext {
  /** The pipeline file's folder: relative input paths resolve from it. */
  dir: string;
  /** The stage's name in the pipeline. */
  stage: string;
}

/** One problem a kind's check found: `path` is inside the stage's `with` (e.g. `['range', 1]`). */
export interface CheckProblem {
  path: PathSeg[];
  message: string;
}

export type KindCheck = (params: Record<string, unknown>, ctx: CheckContext) => Promise<CheckProblem[]> | CheckProblem[];

/** A name visible at a stage, with the stage that provides it. */
type Visible = Map<string, string>;

/**
 * Cross-stage name checks (stages.json `provides` / `collects` / `refers`): a collecting stage's list param
 * names exactly what its needs provide, and a referring param names something visible upstream.
 */
export function checkNames(p: Pipeline): Diagnostic[] {
  const diags: Diagnostic[] = [];
  const memo = new Map<string, Visible>();
  const at = (s: StageDef, path: PathSeg[], message: string) => diags.push(p.source.diag(['stages', s.name, 'with', ...path], message));

  /** The names of `space` a stage hands to its dependents. */
  const visible = (name: string, space: string): Visible => {
    const id = `${space}\0${name}`;
    const hit = memo.get(id);
    if (hit) return hit;
    const s = p.stages.get(name)!;
    let out: Visible = new Map();
    const own = s.kind.names.provides[space];
    if (s.kind.names.collects[space] !== undefined) out = collected(s, space, false);
    else if (own !== undefined && typeof s.params[own] === 'string') out.set(s.params[own] as string, name);
    else for (const n of s.needs) for (const [v, from] of visible(n, space)) out.set(v, from);
    memo.set(id, out);
    return out;
  };

  /** What a collecting stage's needs provide, narrowed to its list param when it has a valid one. */
  const collected = (s: StageDef, space: string, report: boolean): Visible => {
    const all: Visible = new Map();
    for (const n of s.needs) {
      for (const [v, from] of visible(n, space)) {
        if (all.has(v) && all.get(v) !== from && report) at(s, [], `${space} '${v}' is provided by both '${all.get(v)}' and '${from}' in needs: give each its own name`);
        all.set(v, from);
      }
    }
    const param = s.kind.names.collects[space];
    const list = s.params[param];
    if (!Array.isArray(list)) return all;
    const picked: Visible = new Map();
    list.forEach((v, i) => {
      if (typeof v !== 'string') return;
      if (all.has(v)) picked.set(v, all.get(v)!);
      else if (report) at(s, [param, i], `no stage in needs provides ${space} '${v}'${didYouMean(v, all.keys())}; needs provide: ${[...all.keys()].join(', ') || 'none'}`);
    });
    if (report) {
      for (const [v, from] of all) {
        if (!list.includes(v)) at(s, [param], `stage '${from}' (${space} '${v}') is in needs but not in ${param}: add '${v}' to ${param}, or remove '${from}' from needs`);
      }
    }
    return picked;
  };

  for (const name of p.order) {
    const s = p.stages.get(name)!;
    for (const space of Object.keys(s.kind.names.collects)) collected(s, space, true);
    for (const [param, space] of Object.entries(s.kind.names.refers)) {
      const v = s.params[param];
      if (typeof v !== 'string' || s.kind.names.keywords[param]?.includes(v)) continue;
      const seen: Visible = new Map();
      for (const n of s.needs) for (const [x, from] of visible(n, space)) seen.set(x, from);
      if (seen.size === 0 || seen.has(v)) continue;
      const names = [...seen.keys()];
      at(s, [param], `unknown ${space} '${v}'${didYouMean(v, names)}; ${space} names upstream of '${name}': ${names.join(', ')}`);
    }
  }
  return diags;
}

const loaded = new Map<string, Promise<KindCheck>>();

function loadCheck(file: string, kind: string): Promise<KindCheck> {
  let hit = loaded.get(file);
  if (!hit) {
    hit = import(pathToFileURL(file).href).then((m: { check?: unknown }) => {
      if (typeof m.check !== 'function') throw new RegistryError(`stage kind '${kind}': its 'check' module ${file} exports no check(params, ctx) function`);
      return m.check as KindCheck;
    });
    loaded.set(file, hit);
  }
  return hit;
}

/** Runs the kinds' own checks (stages.json `check`) of the stages named, in parallel. */
export async function checkKinds(p: Pipeline, stages: string[]): Promise<Diagnostic[]> {
  const jobs = stages.map(async (name) => {
    const s = p.stages.get(name)!;
    if (!s.kind.check) return [];
    const check = await loadCheck(s.kind.check, s.kind.kind);
    const problems = await check(s.params, { dir: p.dir, stage: name });
    return problems.map((x) => p.source.diag(['stages', name, 'with', ...x.path], x.message));
  });
  return (await Promise.all(jobs)).flat();
}
