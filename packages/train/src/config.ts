/** The training config: the flat stage params resolved by their schema (params.ts) into groups; a checkpoint's identity. */
import { createHash } from 'node:crypto';
import { DEFAULT_BATCH, DEFAULT_CHANNELS, RESOLUTIONS, TRAIN_PARAMS, trainParamsSchema, type Group, type ParamSpec } from './params.js';
import { check, type JsonSchema, type SchemaProblem } from './schema-check.js';

export type BatchNormPlacement = 'none' | 'encoder' | 'decoder' | 'both';
export type Activation = 'leaky_relu' | 'relu' | 'elu';

export interface LossWeights {
  /** Weight of (1 - SSIM) / 2 (or MS-SSIM when `msssim` applies). */
  ssim: number;
  /** Weight of the masked L1 difference. */
  l1: number;
  /** Use MS-SSIM instead of SSIM: true = from 128 px up, a number = from that resolution up, false = never. */
  msssim: boolean | number;
  /** SSIM window (box filter) size in pixels. */
  window: number;
  /** Weight of the detail term: masked L1 of the horizontal and vertical image gradients (0 = off). */
  detail: number;
}

/** Extra weight of face regions in the reconstruction loss: a pixel's weight is mask * (1 + eyes*E + brows*B + mouth*M). */
export interface RegionWeights {
  eyes: number;
  brows: number;
  mouth: number;
}

export interface Augment {
  /** Max rotation, degrees. */
  rotate: number;
  /** Max relative scale change. */
  scale: number;
  /** Max shift as a fraction of the crop size. */
  shift: number;
  /** Random horizontal flips. */
  flip: boolean;
  /** Colour jitter strength (per-channel gain, brightness, contrast). */
  colour: number;
}

/** The architecture and its levels: what a checkpoint's weights are, and so its identity (checkpoint.ts). */
export interface ModelConfig {
  /** Decoder order: one identity (dataset name) per decoder. */
  identities: string[];
  /** Target resolution (power of 2, 64..1024; tests may go lower). */
  resolution: number;
  /** First level: the model's levels are startResolution .. resolution. */
  startResolution: number;
  /** Channels at each resolution 4..resolution (key: resolution). */
  channels: Record<string, number>;
  latent: number;
  activation: Activation;
  /** Negative slope of the leaky ReLU. */
  leak: number;
  batchNorm: BatchNormPlacement;
  /** The decoders' 2x upsampling. */
  upsample: 'nearest' | 'bilinear';
}

/** What is trained when: steps per phase, batches and which frames are drawn. */
export interface ScheduleConfig {
  /** Steps of each fade-in phase (alpha 0 -> 1). */
  stepsPerFade: number;
  /** Steps of the stable phase at each resolution (key: resolution). */
  stepsPerStable: Record<string, number>;
  /** Batch size at each resolution (key: resolution): the engine's run-time decision (wasm lowers it to fit its heap). */
  batch: Record<string, number>;
  /** Rare-expression balancing: k-means clusters of expression per identity, sampled equally (0 = uniform sampling). */
  balance: number;
}

/** Adam. */
export interface OptimConfig {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export interface LossConfig extends LossWeights {
  /** Region weights from the crops' landmarks (all 0 = plain mask). */
  regionWeights: RegionWeights;
}

/** How the run is carried out: seeding, what is written and how often; none of it changes the model. */
export interface RunConfig {
  /** Seeds init, batches and augmentation. */
  seed: number;
  checkpointEvery: number;
  previewEvery: number;
  /** Snapshots of every checkpointEvery steps kept in the artifact's checkpoints/ (oldest pruned); 0: none. */
  keepCheckpoints: number;
  /** Steps between measurements of the loss on the datasets' held-out frames (metrics.jsonl heldoutLoss); 0: never. */
  heldoutEvery: number;
  /** GPU engines (webgpu, tensorflow): steps between reads of the losses, one transfer per run; CPU engines read every step. */
  lossEvery: number;
  /**
   * Conv arithmetic: 'f16' (webgpu with shader-f16: f16 operands, f32 accumulation, f32 master weights and
   * dynamic loss scaling) or 'f32'; elsewhere 'f16' falls back to f32 with a logged line.
   */
  precision: 'f32' | 'f16';
}

/** The resolved training config: the flat stage params (params.ts) in their groups. */
export interface TrainConfig {
  model: ModelConfig;
  schedule: ScheduleConfig;
  optim: OptimConfig;
  loss: LossConfig;
  augment: Augment | null;
  run: RunConfig;
}

export { DEFAULT_BATCH, DEFAULT_CHANNELS };

export const DEFAULT_REGION_WEIGHTS: RegionWeights = { eyes: 0, brows: 0, mouth: 0 };

export const DEFAULT_AUGMENT: Augment = defaults(augmentObject()) as unknown as Augment;

export class ConfigError extends Error {}

/** The resolutions trained, from startResolution to resolution. */
export function levels(cfg: Pick<TrainConfig, 'model'>): number[] {
  const out: number[] = [];
  for (let r = cfg.model.startResolution; r <= cfg.model.resolution; r *= 2) out.push(r);
  return out;
}

function augmentObject(): JsonSchema {
  return TRAIN_PARAMS.augment.schema.oneOf!.find((b) => b.type === 'object')!;
}

/** An object's declared fields at their schema defaults, overridden by the given ones. */
function defaults(s: JsonSchema, given: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(s.properties ?? {})) out[k] = given[k] ?? p.default;
  return out;
}

function problemError(problems: SchemaProblem[]): ConfigError {
  const lines = problems.map((p) => {
    if (p.unknown) return `train param '${p.path}': unknown field; must be ${p.must}`;
    const spec = TRAIN_PARAMS[p.path];
    return `train param '${p.path}' = ${JSON.stringify(p.value)}: must be ${spec?.must ?? p.must}`;
  });
  return new ConfigError(lines.join('\n'));
}

/** A per-resolution param over the resolutions `res`: one number for all, or a map with defaults for the rest. */
function perResolution(key: string, v: unknown, res: number[], perLevel: (r: number) => number | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of res) {
    const n = typeof v === 'number' ? v : ((v as Record<string, number> | undefined)?.[String(r)] ?? perLevel(r));
    if (n === undefined) throw new ConfigError(`train param '${key}' has no value for resolution ${r}: add "${r}" to it`);
    out[String(r)] = n;
  }
  return out;
}

/** One param's resolved value: given or default, per-resolution maps filled, objects filled with their defaults. */
function resolveParam(key: string, spec: ParamSpec, v: unknown, resolution: number, trained: number[]): unknown {
  if (spec.perResolution) {
    const over = spec.perResolution.over === 'levels' ? trained : [4, ...RESOLUTIONS.filter((r) => r <= resolution)];
    return perResolution(key, v, over, spec.perResolution.perLevel);
  }
  if (v === undefined && spec.defaultFor) return spec.defaultFor(resolution);
  if (v === false && spec.schema.oneOf?.some((b) => b.const === false)) return null;
  const obj = spec.schema.type === 'object' ? spec.schema : spec.schema.oneOf?.find((b) => b.type === 'object');
  if (obj?.properties) return defaults(obj, v as Record<string, unknown> | undefined);
  return v ?? spec.schema.default;
}

/** The checks that span params (the schema checks each alone). */
function crossCheck(cfg: TrainConfig, datasets: string[]): void {
  const { resolution } = cfg.model;
  const start = cfg.model.startResolution;
  if (start > resolution) throw new ConfigError(`train param 'startResolution' = ${start}: must be a power of 2 from 8 to resolution (${resolution})`);
  const order = cfg.model.identities;
  for (const n of order) {
    if (!datasets.includes(n)) throw new ConfigError(`train param 'identities' names '${n}', but the needed datasets are [${datasets.join(', ')}]`);
  }
  if (order.length < 2) throw new ConfigError(`train needs at least 2 identities (dataset stages); got ${order.length}: [${order.join(', ')}]`);
  if (new Set(order).size !== order.length) throw new ConfigError(`train identities must be distinct; got [${order.join(', ')}] (give each dataset its own name)`);
  if (cfg.loss.ssim === 0 && cfg.loss.l1 === 0) throw new ConfigError(`train param 'loss': ssim and l1 weights are both 0`);
}

/**
 * Builds the full training config from the flat stage params (params.ts; docs in README.md): each param is
 * checked by the schema, defaulted, and placed in its group. `identities` are the dataset names found among
 * the inputs, in input order, unless params.identities gives an order.
 */
export function resolveConfig(params: Record<string, unknown>, identities: string[]): TrainConfig {
  const problems = check(trainParamsSchema(), params);
  if (problems.length) throw problemError(problems);
  const resolution = (params.resolution ?? TRAIN_PARAMS.resolution.schema.default) as number;
  const start = (params.startResolution ?? TRAIN_PARAMS.startResolution.defaultFor!(resolution)) as number;
  const trained = RESOLUTIONS.filter((r) => r >= start && r <= resolution);
  const groups: Record<Group, Record<string, unknown> | null> = { model: {}, schedule: {}, optim: {}, loss: {}, augment: {}, run: {} };
  for (const [key, spec] of Object.entries(TRAIN_PARAMS)) {
    const v = key === 'identities' ? (params.identities ?? identities) : resolveParam(key, spec, params[key], resolution, trained);
    // a param named like its group (loss, augment) is the group itself: its fields spread into it
    if (key === spec.group) groups[spec.group] = v === null ? null : { ...groups[spec.group], ...(v as object) };
    else groups[spec.group]![key] = v;
  }
  const cfg = groups as unknown as TrainConfig;
  crossCheck(cfg, identities);
  return cfg;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) out[k] = canonical((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/** The model fields of a config stored before the config had groups (flat, like the stage params). */
function flatModel(stored: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, spec] of Object.entries(TRAIN_PARAMS)) if (spec.group === 'model') out[k] = stored[k];
  return out;
}

/** A checkpoint's identity: its model part, canonical (sorted keys). */
export function modelIdentity(cfg: Pick<TrainConfig, 'model'>): Record<string, unknown> {
  return canonical(withoutLaterDefaults(cfg.model as unknown as Record<string, unknown>)) as Record<string, unknown>;
}

/**
 * Model fields added after checkpoints were written, with the value every earlier model had: left out of the
 * identity at that value, so an older checkpoint (which lacks the field) still matches and its hash is unchanged.
 */
const LATER_MODEL_FIELDS: Record<string, unknown> = { upsample: 'nearest' };

function withoutLaterDefaults(m: Record<string, unknown>): Record<string, unknown> {
  const out = { ...m };
  for (const [k, v] of Object.entries(LATER_MODEL_FIELDS)) if (out[k] === undefined || out[k] === v) delete out[k];
  return out;
}

/** The model part of a config read from a checkpoint (state.json, card.json), grouped or flat (older checkpoints). */
export function storedModel(stored: Record<string, unknown>): Record<string, unknown> {
  const m = stored.model;
  return canonical(withoutLaterDefaults(m && typeof m === 'object' ? (m as Record<string, unknown>) : flatModel(stored))) as Record<string, unknown>;
}

/** A config read from a model card: grouped as written now, or flat as written before (resolved again from it). */
export function storedConfig(stored: Record<string, unknown>): TrainConfig {
  if (stored.model && typeof stored.model === 'object') return stored as unknown as TrainConfig;
  const params: Record<string, unknown> = {};
  for (const k of Object.keys(TRAIN_PARAMS)) if (stored[k] !== undefined) params[k] = k === 'augment' && stored[k] === null ? false : stored[k];
  return resolveConfig(params, stored.identities as string[]);
}

export function configHash(cfg: TrainConfig): string {
  return createHash('sha256').update(JSON.stringify(modelIdentity(cfg))).digest('hex').slice(0, 16);
}

/** The first field (dotted path) where two configs differ, with both values; null when equal. */
export function configDiff(a: unknown, b: unknown, path = ''): { field: string; a: unknown; b: unknown } | null {
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      const d = configDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
    return null;
  }
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b)) ? null : { field: path, a, b };
}

/** Channels at a resolution. */
export function ch(cfg: Pick<ModelConfig, 'channels'>, r: number): number {
  const c = cfg.channels[String(r)];
  if (!c) throw new ConfigError(`no channel count for resolution ${r} in 'channels'`);
  return c;
}
