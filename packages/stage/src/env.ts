import { isAbsolute, resolve } from 'node:path';

/** What the runner hands a stage process (see docs/STAGES.md). */
export interface StageEnv {
  /** The stage kind (first CLI argument), e.g. "ingest". */
  kind: string;
  /** This stage's name in the pipeline. */
  stage: string;
  /** Output folder: every artifact goes here. */
  out: string;
  /** The stage's `with` map. */
  params: Record<string, unknown>;
  /** Needed stage name -> its artifact folder. */
  inputs: Record<string, string>;
  /** Folder of the pipeline file; relative input paths resolve from it. */
  pipelineDir: string;
  /** Folder kept across interrupted runs of the same cache key, if the runner gave one. */
  resume?: string;
  /**
   * Folder shared by every run of this stage kind (FACECOMB_STAGE_CACHE), if the runner gave one: data the stage
   * may reuse across cache keys, stored under names derived from its content (a hash), never part of the output.
   */
  stageCache?: string;
  /** Requested tensor engine ("auto" when unset). */
  backend: string;
  /**
   * A frame chunk (FACECOMB_FRAMES=first-last, inclusive frame numbers): a per-frame stage computes and writes
   * only these frames (its meta.json lists only them); unset: every frame.
   */
  frames?: { first: number; last: number };
}

export class StageEnvError extends Error {}

function parseJson(name: string, text: string | undefined, fallback: unknown): unknown {
  if (text === undefined || text === '') return fallback;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new StageEnvError(`${name} is not valid JSON: ${(e as Error).message}`);
  }
}

/** The tensor engines a stage may be given in FACECOMB_BACKEND (`runner run --backend`). */
export const BACKENDS: readonly string[] = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

/** Reads the stage environment; throws a StageEnvError naming the variable when one is missing or malformed. */
export function readStageEnv(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): StageEnv {
  const out = env.FACECOMB_OUT;
  if (!out) throw new StageEnvError('FACECOMB_OUT is not set: stages are run by the runner (`runner run pipeline.yaml`), or set FACECOMB_OUT and FACECOMB_PARAMS yourself');
  const params = parseJson('FACECOMB_PARAMS', env.FACECOMB_PARAMS, {});
  if (typeof params !== 'object' || params === null || Array.isArray(params)) throw new StageEnvError('FACECOMB_PARAMS must be a JSON object');
  const inputs = parseJson('FACECOMB_INPUTS', env.FACECOMB_INPUTS, {}) as Record<string, string>;
  const pipelineDir = env.FACECOMB_PIPELINE_DIR ?? process.cwd();
  return {
    kind: argv[0] ?? '',
    stage: env.FACECOMB_STAGE ?? argv[0] ?? '',
    out: resolve(out),
    params: params as Record<string, unknown>,
    inputs,
    pipelineDir,
    resume: env.FACECOMB_RESUME || undefined,
    stageCache: env.FACECOMB_STAGE_CACHE || undefined,
    backend: env.FACECOMB_BACKEND || 'auto',
    frames: parseFrames(env.FACECOMB_FRAMES),
  };
}

function parseFrames(text: string | undefined): StageEnv['frames'] {
  if (!text) return undefined;
  const m = /^(-?\d+)-(-?\d+)$/.exec(text.trim());
  if (!m || Number(m[1]) > Number(m[2])) throw new StageEnvError(`FACECOMB_FRAMES must be FIRST-LAST frame numbers (e.g. 1001-1050), got '${text}'`);
  return { first: Number(m[1]), last: Number(m[2]) };
}

/** The frame numbers of `frames` inside the stage's chunk (all of them when it has none). */
export function chunkFrames(env: Pick<StageEnv, 'frames'>, frames: number[]): number[] {
  const r = env.frames;
  return r ? frames.filter((f) => f >= r.first && f <= r.last) : frames;
}

/** Resolves a path param against the pipeline folder. */
export function resolveInput(env: Pick<StageEnv, 'pipelineDir'>, p: string): string {
  return isAbsolute(p) ? p : resolve(env.pipelineDir, p);
}

/** The artifact folder of a needed stage; a clear error when the pipeline did not wire it. */
export function needInput(env: Pick<StageEnv, 'inputs' | 'stage'>, name: string): string {
  const dir = env.inputs[name];
  if (!dir) {
    const have = Object.keys(env.inputs);
    throw new StageEnvError(`stage '${env.stage}' needs an input from stage '${name}', but its needs are [${have.join(', ')}]`);
  }
  return dir;
}
