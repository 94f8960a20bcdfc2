import { dirname } from 'node:path';
import { PipelineError, type SourceMap } from './diagnostics.js';
import { checkStage } from './pipeline-check.js';
import { findCycles, topoOrder } from './pipeline-graph.js';
import { mapAt, parsePipeline } from './pipeline-parse.js';
import { resolveVars } from './pipeline-substitute.js';
import type { KindSpec, Registry } from './registry.js';

// Loading a pipeline is four steps, one file each: parse (YAML + schema), substitute (`${vars}`), check (each
// stage against its kind), graph (cycles, order). Every problem is collected and reported together.
export { PIPELINE_SCHEMA } from './pipeline-parse.js';
export { dependents } from './pipeline-graph.js';

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

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Skip checking that input files exist (and do not expand them). */
  skipInputs?: boolean;
}

/** Reads, validates and resolves a pipeline file. Throws PipelineError listing every problem found. */
export function loadPipeline(file: string, registry: Registry, opts: LoadOptions = {}): Pipeline {
  const { abs, src, root, diags } = parsePipeline(file);
  const rawStages = mapAt(root, 'stages');
  const stageNames = Object.keys(rawStages);
  const dir = dirname(abs);
  const { vars, subst } = resolveVars({ rawVars: mapAt(root, 'vars'), env: opts.env ?? process.env, dir, name: root.name }, src, diags);
  const stages = new Map<string, StageDef>();
  const scope = { rawStages, registry, src, dir, diags, subst, skipInputs: !!opts.skipInputs };
  for (const name of stageNames) {
    const def = checkStage(name, rawStages[name], scope);
    if (def) stages.set(name, def);
  }
  const needsOf = (n: string): unknown[] => {
    const needs = mapAt(rawStages, n).needs;
    return Array.isArray(needs) ? needs : [];
  };
  diags.push(...findCycles(stageNames, needsOf, src));
  if (diags.length) {
    diags.sort((a, b) => a.line - b.line || a.col - b.col);
    throw new PipelineError(diags);
  }
  const order = topoOrder(stageNames, (n) => stages.get(n)!.needs);
  return { file: abs, dir, name: String(root.name), vars, stages, order, source: src };
}

/** The environment-variable form of a stage name: upper-case, '-' as '_'. */
export function envName(stage: string): string {
  return stage.toUpperCase().replace(/-/g, '_');
}
