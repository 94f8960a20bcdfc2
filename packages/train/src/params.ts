/**
 * The one schema of the train stage's params. Each param is a JSON-schema fragment (with its `default`), the
 * group of the nested config it resolves into, and where needed the wording of its error. stages.json's train
 * schema is generated from this table (scripts/stages-json.ts; test/config-schema.test.ts fails when stale),
 * and resolveConfig (config.ts) validates params against the same table, so the runner's plan-time check and
 * the stage agree. Adding a param: one entry here plus its field in the group's interface in config.ts.
 */
import type { JsonSchema } from './schema-check.js';

/** Groups of the nested config; `model` is a checkpoint's identity. */
export type Group = 'model' | 'schedule' | 'optim' | 'loss' | 'augment' | 'run';

export interface ParamSpec {
  group: Group;
  schema: JsonSchema;
  /** Error wording after "must be" where the generated one says too little. */
  must?: string;
  /**
   * A map resolution -> integer (or one integer for all): resolved over the trained levels ('levels') or over
   * 4 .. resolution ('all'), each missing resolution from `perLevel`.
   */
  perResolution?: { over: 'levels' | 'all'; perLevel: (r: number) => number | undefined };
  /** The default where it depends on the target resolution (the schema's `default` otherwise). */
  defaultFor?: (resolution: number) => unknown;
}

export const RESOLUTIONS = [8, 16, 32, 64, 128, 256, 512, 1024];
/** SSIM window sizes: odd, 3..31. */
const ODD_WINDOWS = Array.from({ length: 15 }, (_, i) => 3 + 2 * i);
const int = (minimum: number, extra: Partial<JsonSchema> = {}): JsonSchema => ({ type: 'integer', minimum, ...extra });
const weight = (extra: Partial<JsonSchema> = {}): JsonSchema => ({ type: 'number', minimum: 0, ...extra });
const intOrMap = (minimum: number): JsonSchema => ({ oneOf: [int(minimum), { type: 'object', additionalProperties: int(minimum) }] });

/** Channels of the reference comb model (bench/reference, after the paper's architecture). */
export const DEFAULT_CHANNELS: Record<string, number> = {
  '4': 512, '8': 512, '16': 512, '32': 512, '64': 256, '128': 128, '256': 64, '512': 32, '1024': 16,
};

/** Default batch per resolution (the reference benchmark's sizes). */
export const DEFAULT_BATCH: Record<string, number> = {
  '8': 8, '16': 8, '32': 8, '64': 8, '128': 8, '256': 8, '512': 4, '1024': 2,
};

const regionWeight = (name: string) => weight({ default: 0, description: `extra weight of the ${name}` });

/** The train params, in stages.json order. */
export const TRAIN_PARAMS: Record<string, ParamSpec> = {
  resolution: {
    group: 'model',
    schema: { enum: RESOLUTIONS, default: 256, description: 'target resolution (64..1024 for real use)' },
    must: 'a power of 2 from 8 (tests) or 64 up to 1024',
  },
  startResolution: {
    group: 'model',
    schema: { enum: RESOLUTIONS, description: 'first level trained (default: 16, or resolution when lower)' },
    defaultFor: (resolution) => Math.min(16, resolution),
  },
  stepsPerFade: { group: 'schedule', schema: int(1, { default: 10000 }) },
  stepsPerStable: { group: 'schedule', schema: { ...intOrMap(0), default: 20000 }, perResolution: { over: 'levels', perLevel: () => 20000 } },
  batch: {
    group: 'schedule',
    schema: { ...intOrMap(1), description: 'default {<=256: 8, 512: 4, 1024: 2}, lowered on wasm to fit its heap' },
    perResolution: { over: 'levels', perLevel: (r) => DEFAULT_BATCH[String(r)] ?? 8 },
  },
  lr: { group: 'optim', schema: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 1e-4 }, must: 'a learning rate in (0, 1)' },
  beta1: { group: 'optim', schema: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.9 } },
  beta2: { group: 'optim', schema: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.999 } },
  epsilon: { group: 'optim', schema: { type: 'number', exclusiveMinimum: 0, default: 1e-8 } },
  loss: {
    group: 'loss',
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        ssim: weight({ default: 1 }),
        l1: weight({ default: 1 }),
        msssim: {
          oneOf: [{ type: 'boolean' }, { enum: [16, 32, 64, 128, 256, 512, 1024] }],
          default: true,
          description: 'MS-SSIM instead of SSIM: true from 128 px, or from this resolution',
        },
        // an enum, not `not: {multipleOf: 2}`: the runner's plan-time message then lists the allowed sizes
        window: { enum: ODD_WINDOWS, default: 7, description: 'SSIM window size in pixels, odd' },
        detail: weight({ default: 0, description: 'weight of the detail term: masked L1 of image gradients (0 = off)' }),
      },
    },
  },
  regionWeights: {
    group: 'loss',
    schema: {
      type: 'object',
      additionalProperties: false,
      description: "extra loss weight of regions placed from the crops' landmarks: weight = mask * (1 + eyes*E + brows*B + mouth*M)",
      properties: { eyes: regionWeight('eyes'), brows: regionWeight('brows'), mouth: regionWeight('mouth') },
    },
  },
  balance: {
    group: 'schedule',
    schema: int(0, { maximum: 256, default: 0, description: 'rare-expression balancing: expression clusters per identity, each drawn equally often (0 = uniform sampling)' }),
    must: 'an integer number of expression clusters in 0..256 (0 = uniform sampling)',
  },
  batchNorm: { group: 'model', schema: { enum: ['none', 'encoder', 'decoder', 'both'], default: 'none' } },
  channels: {
    group: 'model',
    schema: { type: 'object', additionalProperties: int(1), description: 'map resolution -> channels (4 .. resolution); default: the reference channels' },
    perResolution: { over: 'all', perLevel: (r) => DEFAULT_CHANNELS[String(r)] },
  },
  latent: { group: 'model', schema: int(1, { default: 512 }) },
  activation: { group: 'model', schema: { enum: ['leaky_relu', 'relu', 'elu'], default: 'leaky_relu' } },
  leak: { group: 'model', schema: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.2 } },
  upsample: {
    group: 'model',
    schema: { enum: ['nearest', 'bilinear'], default: 'nearest', description: "the decoders' 2x upsampling: nearest (the paper's) or bilinear (no block edges along the upsampling grid)" },
  },
  augment: {
    group: 'augment',
    schema: {
      oneOf: [
        { const: false },
        {
          type: 'object',
          additionalProperties: false,
          properties: {
            rotate: weight({ maximum: 45, default: 3, description: 'max rotation, degrees' }),
            scale: weight({ exclusiveMaximum: 0.5, default: 0.04, description: 'max relative scale change' }),
            shift: weight({ exclusiveMaximum: 0.5, default: 0.03, description: 'max shift, fraction of the crop' }),
            flip: { type: 'boolean', default: true },
            colour: weight({ exclusiveMaximum: 1, default: 0.05, description: 'colour jitter strength' }),
          },
        },
      ],
      description: 'similarity, flip and colour jitter; false: none',
    },
  },
  checkpointEvery: { group: 'run', schema: int(1, { default: 1000 }) },
  previewEvery: { group: 'run', schema: int(1, { default: 1000 }) },
  heldoutEvery: {
    group: 'run',
    schema: int(0, { default: 100, description: "steps between measurements of the loss on the datasets' held-out frames (metrics.jsonl heldoutLoss); 0: never" }),
  },
  keepCheckpoints: {
    group: 'run',
    schema: int(0, { default: 5, description: "snapshots of every checkpointEvery steps kept in checkpoints/ (oldest pruned) for swap's 'step'; 0: none" }),
  },
  lossEvery: {
    group: 'run',
    schema: int(1, { default: 10, description: 'GPU engines: steps between reads of the losses (one GPU->CPU transfer per run); CPU engines read every step' }),
  },
  precision: {
    group: 'run',
    schema: {
      enum: ['f32', 'f16'],
      default: 'f32',
      description: 'conv arithmetic: f16 on webgpu with shader-f16 (f32 master weights, dynamic loss scaling), f32 elsewhere (f16 falls back with a logged reason)',
    },
    must: '"f32" or "f16" (f16: webgpu with shader-f16 only, f32 elsewhere)',
  },
  seed: { group: 'run', schema: int(0, { default: 1, description: 'seeds init, batches and augmentation' }) },
  identities: {
    group: 'model',
    schema: { type: 'array', items: { type: 'string' }, minItems: 2, uniqueItems: true, description: 'decoder order, by dataset name (default: input order)' },
    must: 'an array of dataset names',
  },
};

/** The JSON schema of the train params, as stages.json declares it. */
export function trainParamsSchema(): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [key, spec] of Object.entries(TRAIN_PARAMS)) properties[key] = spec.schema;
  return { type: 'object', additionalProperties: false, properties };
}
