import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import { makeAjv, type ValidateFunction } from './ajv.js';
import { readJsonOrNull } from '@facecomb/stage';

/** The packages whose `stages.json` registers stage kinds (docs/STAGES.md). */
export const STAGE_PACKAGES = ['@facecomb/ingest', '@facecomb/align', '@facecomb/train', '@facecomb/blend', '@facecomb/score', '@facecomb/occlusion'];

/** A stage kind: what `uses:` names. */
export interface KindSpec {
  kind: string;
  description?: string;
  /** Package that registered it (`builtin` for shell). */
  pkg: string;
  /** Absolute path of the stage entry (`node <cli> <kind>`); null for shell. */
  cli: string | null;
  /** Implementation version, part of the cache key. */
  version: string;
  /** Names of `with` params that are input file paths or globs. */
  inputs: string[];
  /** Default resources, e.g. `{gpu: 1}`. */
  resources: Record<string, number>;
  schema: Record<string, unknown>;
  validate: ValidateFunction;
  /** `runner gc` keeps unreferenced entries of this kind unless --all (expensive models: train). */
  keep: boolean;
  /** `runner run` prints this kind's summary at the end (stages.json `"show": "summary"`: figures a user reads every run). */
  showSummary: boolean;
  /**
   * Per-frame kinds that accept a frame range (FACECOMB_FRAMES) and so may be split into chunks (`chunk: N`):
   * how chunk meta.json files merge (fields summed; arrays of frame numbers are concatenated). null: no chunks.
   */
  chunk: ChunkSpec | null;
  /** Cross-stage names (stages.json `provides`, `collects`, `refers`), checked before anything runs (src/checks.ts). */
  names: NameSpec;
  /**
   * stages.json `check`: absolute path of a module exporting `check(params, ctx)`, the kind's own cheap checks
   * (a probe of an input's length) run before anything runs; null when the kind has none.
   */
  check: string | null;
}

/**
 * Names that stages hand down the DAG, by name space (e.g. `identity`): a dataset `provides` the identity named
 * by its `name` param; a train `collects` the identities its needs provide (its `identities` param must list
 * exactly those); a swap `refers` to one by its `source` param (it must be among those visible upstream).
 */
export interface NameSpec {
  /** name space -> param holding the name this stage provides. */
  provides: Record<string, string>;
  /** name space -> param (optional) listing the names collected from the needs. */
  collects: Record<string, string>;
  /** param -> name space: the param must name one visible upstream. */
  refers: Record<string, string>;
  /** param -> values of a `refers` param that name nothing but a mode (swap's `source: all`): not checked. */
  keywords: Record<string, string[]>;
}

/** stages.json `"chunk": {"sum": ["count"]}` (or `true`). */
export interface ChunkSpec {
  /** meta.json fields whose per-chunk numbers add up (counts). */
  sum: string[];
}

export interface Registry {
  kinds: Map<string, KindSpec>;
  /** Stage packages looked for but not installed. */
  missing: string[];
}

export class RegistryError extends Error {}

/** Schema of `uses: shell`. */
export const SHELL_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['cmd'],
  properties: {
    cmd: { type: 'string', minLength: 1, description: 'command line, run by /bin/sh -c in the pipeline folder' },
    inputs: { type: ['string', 'array'], items: { type: 'string' }, description: 'input files, folders or globs hashed into the key' },
    env: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] }, description: 'extra environment variables' },
    version: { type: ['string', 'number'], description: 'bump to force a rerun when the script changed outside the pipeline' },
  },
};

function loadStagesJson(pkg: string, pkgDir: string, ajv: ReturnType<typeof makeAjv>, into: Map<string, KindSpec>): void {
  const file = join(pkgDir, 'stages.json');
  if (!existsSync(file)) return;
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new RegistryError(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new RegistryError(`${file}: must be an object mapping stage kinds to their specs`);
  for (const [kind, raw] of Object.entries(data as Record<string, unknown>)) {
    const spec = raw as Record<string, unknown>;
    const where = `${file}: kind '${kind}'`;
    if (typeof spec !== 'object' || spec === null) throw new RegistryError(`${where} must be an object`);
    if (typeof spec.cli !== 'string') throw new RegistryError(`${where}: 'cli' (path of the compiled entry, e.g. "dist/cli.js") is required`);
    if (into.has(kind)) throw new RegistryError(`${where}: already registered by ${into.get(kind)!.pkg}; stage kinds must be unique`);
    const schema = (spec.schema ?? { type: 'object' }) as Record<string, unknown>;
    // compiled on first use: a run compiles only the kinds its pipeline uses
    let compiled: ValidateFunction | undefined;
    const validate = ((data: unknown) => {
      if (!compiled) {
        try {
          compiled = ajv.compile(schema);
        } catch (e) {
          throw new RegistryError(`${where}: invalid 'schema': ${(e as Error).message}`);
        }
      }
      const ok = compiled(data);
      validate.errors = compiled.errors;
      return ok;
    }) as ValidateFunction;
    into.set(kind, {
      kind,
      description: typeof spec.description === 'string' ? spec.description : undefined,
      pkg,
      cli: resolve(pkgDir, spec.cli),
      version: String(spec.version ?? '1'),
      inputs: Array.isArray(spec.inputs) ? spec.inputs.map(String) : [],
      resources: (spec.resources ?? {}) as Record<string, number>,
      schema,
      validate,
      keep: spec.keep === true || kind === 'train',
      chunk: chunkSpec(spec.chunk, where),
      showSummary: spec.show === 'summary',
      names: { provides: stringMap(spec.provides, `${where}: 'provides'`), collects: stringMap(spec.collects, `${where}: 'collects'`), refers: stringMap(spec.refers, `${where}: 'refers'`), keywords: listMap(spec.keywords, `${where}: 'keywords'`) },
      check: typeof spec.check === 'string' ? resolve(pkgDir, spec.check) : null,
    });
  }
}

function listMap(raw: unknown, where: string): Record<string, string[]> {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !Object.values(raw).every((v) => Array.isArray(v) && v.every((x) => typeof x === 'string'))) {
    throw new RegistryError(`${where} must map param names to lists of strings`);
  }
  return raw as Record<string, string[]>;
}

function stringMap(raw: unknown, where: string): Record<string, string> {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !Object.values(raw).every((v) => typeof v === 'string')) {
    throw new RegistryError(`${where} must map names to strings`);
  }
  return raw as Record<string, string>;
}

function chunkSpec(raw: unknown, where: string): ChunkSpec | null {
  if (raw === undefined || raw === false) return null;
  if (raw === true) return { sum: [] };
  const sum = (raw as { sum?: unknown })?.sum ?? [];
  if (typeof raw !== 'object' || !Array.isArray(sum) || !sum.every((x) => typeof x === 'string')) {
    throw new RegistryError(`${where}: 'chunk' must be true or {"sum": [meta.json field names]}`);
  }
  return { sum: sum as string[] };
}

/**
 * The stage kinds: `shell`, those of the installed stage packages, and those of the package folders listed in
 * FACECOMB_STAGE_PATHS (extra, out-of-tree stage packages).
 */
export function loadRegistry(env: NodeJS.ProcessEnv = process.env): Registry {
  const ajv = makeAjv();
  const kinds = new Map<string, KindSpec>();
  kinds.set('shell', {
    kind: 'shell',
    description: 'a shell command',
    pkg: 'builtin',
    cli: null,
    version: '1',
    inputs: ['inputs'],
    resources: {},
    schema: SHELL_SCHEMA,
    validate: ajv.compile(SHELL_SCHEMA),
    keep: false,
    chunk: { sum: [] },
    showSummary: false,
    names: { provides: {}, collects: {}, refers: {}, keywords: {} },
    check: null,
  });
  const require = createRequire(import.meta.url);
  const missing: string[] = [];
  for (const pkg of STAGE_PACKAGES) {
    let pj: string;
    try {
      pj = require.resolve(`${pkg}/package.json`);
    } catch {
      missing.push(pkg);
      continue;
    }
    loadStagesJson(pkg, dirname(pj), ajv, kinds);
  }
  for (const dir of (env.FACECOMB_STAGE_PATHS ?? '').split(delimiter).filter(Boolean)) {
    const abs = resolve(dir);
    // a folder with only stages.json is fine: named by its path
    const name = readJsonOrNull<{ name?: string }>(join(abs, 'package.json'))?.name ?? abs;
    loadStagesJson(name, abs, ajv, kinds);
  }
  return { kinds, missing };
}
