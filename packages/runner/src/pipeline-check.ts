import { isAbsolute, resolve } from 'node:path';
import type { Diagnostic, PathSeg, SourceMap } from './diagnostics.js';
import { FileNameError, expandInput, isGlob } from './files.js';
import { closest, didYouMean } from './hint.js';
import { mapAt } from './pipeline-parse.js';
import type { InputFile, StageDef } from './pipeline.js';
import type { KindSpec, Registry } from './registry.js';
import { ajvDiagnostics } from './schema-errors.js';

/** What checking one stage needs: the whole file's stages, the registry, and where problems go. */
export interface CheckScope {
  rawStages: Record<string, unknown>;
  registry: Registry;
  src: SourceMap;
  dir: string;
  diags: Diagnostic[];
  subst: (v: unknown, path: PathSeg[]) => unknown;
  skipInputs: boolean;
}

/** Checks one stage entry and resolves it; undefined when its kind is unknown (reported) or it is not a map. */
export function checkStage(name: string, raw: unknown, scope: CheckScope): StageDef | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const { src, diags, dir } = scope;
  const s = raw as Record<string, unknown>;
  const base: PathSeg[] = ['stages', name];
  const kind = typeof s.uses === 'string' ? kindOf(s.uses, [...base, 'uses'], scope) : undefined;
  const params = scope.subst(mapAt(s, 'with'), [...base, 'with']) as Record<string, unknown>;
  const needs = checkNeeds(name, s.needs, scope);
  const resources: Record<string, number> = { ...(kind?.resources ?? {}) };
  if (s.resources && typeof s.resources === 'object') for (const [k, v] of Object.entries(s.resources)) if (typeof v === 'number') resources[k] = v;
  const inputFiles: InputFile[] = [];
  if (kind) {
    if (!kind.validate(params)) diags.push(...ajvDiagnostics(kind.validate.errors ?? [], src, [...base, 'with']));
    if (!scope.skipInputs) inputFiles.push(...inputsOf(kind, params, base, scope));
  }
  const chunk = typeof s.chunk === 'number' ? s.chunk : undefined;
  if (kind && chunk !== undefined && !kind.chunk) {
    const able = [...scope.registry.kinds.values()].filter((k) => k.chunk).map((k) => k.kind);
    diags.push(src.diag([...base, 'chunk'], `stage kind '${kind.kind}' cannot be split into frame chunks; kinds that can: ${able.join(', ')}`));
  }
  if (!kind) return undefined;
  const description = typeof s.description === 'string' ? s.description : undefined;
  const publish = typeof s.publish === 'string' ? resolve(dir, s.publish) : undefined;
  return { name, uses: kind.kind, kind, params, needs, resources, chunk, description, publish, inputFiles: dedupe(inputFiles) };
}

function kindOf(uses: string, path: PathSeg[], { registry, src, diags }: CheckScope): KindSpec | undefined {
  const kind = registry.kinds.get(uses);
  if (!kind) {
    const known = [...registry.kinds.keys()];
    const hint = closest(uses, known);
    const notInstalled = registry.missing.length ? `; not installed: ${registry.missing.join(', ')}` : '';
    diags.push(src.diag(path, `unknown stage kind '${uses}'${hint ? ` (did you mean '${hint}'?)` : ''}; known kinds: ${known.join(', ')}${notInstalled}`));
  }
  return kind;
}

/** The stage's `needs` that are names; each naming no stage of the file is reported. */
function checkNeeds(name: string, raw: unknown, { rawStages, src, diags }: CheckScope): string[] {
  const list = Array.isArray(raw) ? raw : [];
  const stageNames = Object.keys(rawStages);
  list.forEach((n, i) => {
    if (typeof n !== 'string') return;
    if (!(n in rawStages)) diags.push(src.diag(['stages', name, 'needs', i], `unknown stage '${n}'${didYouMean(n, stageNames.filter((x) => x !== name))}; stages: ${stageNames.join(', ')}`));
  });
  return list.filter((n): n is string => typeof n === 'string');
}

/** The files named by the kind's input params (globs and folders expanded); a missing one is reported. */
function inputsOf(kind: KindSpec, params: Record<string, unknown>, base: PathSeg[], { src, diags, dir }: CheckScope): InputFile[] {
  const out: InputFile[] = [];
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
      } else for (const f of files) out.push({ param, abs: f });
    }
  }
  return out;
}

function dedupe(files: InputFile[]): InputFile[] {
  const seen = new Set<string>();
  return files.filter((f) => (seen.has(f.abs) ? false : (seen.add(f.abs), true))).sort((a, b) => (a.abs < b.abs ? -1 : a.abs > b.abs ? 1 : 0));
}
