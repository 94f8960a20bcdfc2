/** Training configuration: defaults, validation of stage params, and the compatibility check of checkpoints. */
import { createHash } from 'node:crypto';

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

export interface TrainConfig {
  /** Decoder order: one identity (dataset name) per decoder. */
  identities: string[];
  /** Target resolution (power of 2, 64..1024; tests may go lower). */
  resolution: number;
  /** First trained resolution. */
  startResolution: number;
  /** Steps of each fade-in phase (alpha 0 -> 1). */
  stepsPerFade: number;
  /** Steps of the stable phase at each resolution (key: resolution). */
  stepsPerStable: Record<string, number>;
  /** Batch size at each resolution (key: resolution). */
  batch: Record<string, number>;
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  loss: LossWeights;
  /** Region weights from the crops' landmarks (all 0 = plain mask). */
  regionWeights: RegionWeights;
  /** Rare-expression balancing: k-means clusters of expression per identity, sampled equally (0 = uniform sampling). */
  balance: number;
  batchNorm: BatchNormPlacement;
  /** Channels at each resolution 4..resolution (key: resolution). */
  channels: Record<string, number>;
  latent: number;
  activation: Activation;
  /** Negative slope of the leaky ReLU. */
  leak: number;
  augment: Augment | null;
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

/** Channels of the reference comb model (../shared/bench/comb_reference.py). */
export const DEFAULT_CHANNELS: Record<string, number> = {
  '4': 512, '8': 512, '16': 512, '32': 512, '64': 256, '128': 128, '256': 64, '512': 32, '1024': 16,
};

/** Default batch per resolution (the reference benchmark's sizes). */
export const DEFAULT_BATCH: Record<string, number> = {
  '8': 8, '16': 8, '32': 8, '64': 8, '128': 8, '256': 8, '512': 4, '1024': 2,
};

export const DEFAULT_REGION_WEIGHTS: RegionWeights = { eyes: 0, brows: 0, mouth: 0 };

export const DEFAULT_AUGMENT: Augment = { rotate: 3, scale: 0.04, shift: 0.03, flip: true, colour: 0.05 };

/**
 * Fields that are not part of the model's identity; a checkpoint may differ in these. The batch is the
 * engine's run-time decision (wasm lowers it to fit its heap), so a run resumes on another engine; how often
 * the losses are read back (lossEvery) does not change the arithmetic. The precision changes the numbers within
 * noise, as the engine does (which is no part of the model either): the weights are f32 in both, so a run
 * resumes across precisions.
 */
export const RUNTIME_FIELDS = new Set(['checkpointEvery', 'previewEvery', 'batch', 'lossEvery', 'precision', 'keepCheckpoints', 'heldoutEvery']);

export class ConfigError extends Error {}

const isPow2 = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** The resolutions trained, from startResolution to resolution. */
export function levels(cfg: Pick<TrainConfig, 'startResolution' | 'resolution'>): number[] {
  const out: number[] = [];
  for (let r = cfg.startResolution; r <= cfg.resolution; r *= 2) out.push(r);
  return out;
}

function num(params: Record<string, unknown>, key: string, dflt: number, check: (n: number) => boolean, what: string): number {
  const v = params[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) {
    throw new ConfigError(`train param '${key}' = ${JSON.stringify(v)}: must be ${what}`);
  }
  return v;
}

function precisionParam(v: unknown): 'f32' | 'f16' {
  if (v === undefined) return 'f32';
  if (v !== 'f32' && v !== 'f16') throw new ConfigError(`train param 'precision' = ${JSON.stringify(v)}: must be "f32" or "f16" (f16: webgpu with shader-f16 only, f32 elsewhere)`);
  return v;
}

function perResolution(params: Record<string, unknown>, key: string, res: number[], dflt: (r: number) => number, minimum: number): Record<string, number> {
  const v = params[key];
  const out: Record<string, number> = {};
  for (const r of res) {
    let n: unknown;
    if (v === undefined) n = dflt(r);
    else if (typeof v === 'number') n = v;
    else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const m = v as Record<string, unknown>;
      n = m[String(r)] ?? dflt(r);
    } else throw new ConfigError(`train param '${key}' must be a number or a map resolution -> number`);
    if (typeof n !== 'number' || !Number.isInteger(n) || n < minimum) {
      throw new ConfigError(`train param '${key}' at resolution ${r} = ${JSON.stringify(n)}: must be an integer >= ${minimum}`);
    }
    out[String(r)] = n;
  }
  return out;
}

/**
 * Builds the full training config from stage params (docs in README.md); `identities` are the dataset
 * names found among the inputs, in input order, unless params.identities gives an order.
 */
export function resolveConfig(params: Record<string, unknown>, identities: string[]): TrainConfig {
  const resolution = num(params, 'resolution', 256, isPow2, 'a power of 2 (64..1024)');
  if (resolution < 8 || resolution > 1024) throw new ConfigError(`train param 'resolution' = ${resolution}: must be a power of 2 from 8 (tests) or 64 up to 1024`);
  const startResolution = num(params, 'startResolution', Math.min(16, resolution), (n) => isPow2(n) && n >= 8 && n <= resolution, `a power of 2 from 8 to resolution (${resolution})`);
  const res = levels({ startResolution, resolution });
  const all = [4];
  for (let r = 8; r <= resolution; r *= 2) all.push(r);

  let order = identities;
  if (params.identities !== undefined) {
    const ids = params.identities;
    if (!Array.isArray(ids) || ids.some((s) => typeof s !== 'string')) throw new ConfigError(`train param 'identities' must be an array of dataset names`);
    for (const n of ids as string[]) {
      if (!identities.includes(n)) throw new ConfigError(`train param 'identities' names '${n}', but the needed datasets are [${identities.join(', ')}]`);
    }
    order = ids as string[];
  }
  if (order.length < 2) throw new ConfigError(`train needs at least 2 identities (dataset stages); got ${order.length}: [${order.join(', ')}]`);
  if (new Set(order).size !== order.length) throw new ConfigError(`train identities must be distinct; got [${order.join(', ')}] (give each dataset its own name)`);

  const chParam = params.channels;
  if (chParam !== undefined && (typeof chParam !== 'object' || chParam === null || Array.isArray(chParam))) {
    throw new ConfigError(`train param 'channels' must be a map resolution -> channels, e.g. {"4": 512, "64": 256}`);
  }
  const channels = perResolution(params, 'channels', all, (r) => DEFAULT_CHANNELS[String(r)], 1);

  const loss = (params.loss ?? {}) as Record<string, unknown>;
  if (typeof loss !== 'object' || Array.isArray(loss)) throw new ConfigError(`train param 'loss' must be an object {ssim, l1, msssim}`);
  const lossCfg: LossWeights = {
    ssim: num(loss, 'ssim', 1, (n) => n >= 0, 'a number >= 0'),
    l1: num(loss, 'l1', 1, (n) => n >= 0, 'a number >= 0'),
    msssim: loss.msssim === undefined ? true : typeof loss.msssim === 'number' ? num(loss, 'msssim', 128, (n) => isPow2(n) && n >= 16 && n <= 1024, 'true, false or the resolution (a power of 2 from 16) from which MS-SSIM replaces SSIM') : Boolean(loss.msssim),
    window: num(loss, 'window', 7, (n) => Number.isInteger(n) && n >= 3 && n % 2 === 1, 'an odd integer >= 3'),
    detail: num(loss, 'detail', 0, (n) => n >= 0, 'a number >= 0'),
  };
  if (lossCfg.ssim === 0 && lossCfg.l1 === 0) throw new ConfigError(`train param 'loss': ssim and l1 weights are both 0`);

  const rw = (params.regionWeights ?? {}) as Record<string, unknown>;
  if (typeof rw !== 'object' || rw === null || Array.isArray(rw)) throw new ConfigError(`train param 'regionWeights' must be an object {eyes, brows, mouth} of extra weights >= 0`);
  for (const k of Object.keys(rw)) if (!(k in DEFAULT_REGION_WEIGHTS)) throw new ConfigError(`train param 'regionWeights.${k}': unknown region (known: eyes, brows, mouth)`);
  const regionWeights: RegionWeights = {
    eyes: num(rw, 'eyes', 0, (n) => n >= 0, 'an extra weight >= 0 (regionWeights.eyes)'),
    brows: num(rw, 'brows', 0, (n) => n >= 0, 'an extra weight >= 0 (regionWeights.brows)'),
    mouth: num(rw, 'mouth', 0, (n) => n >= 0, 'an extra weight >= 0 (regionWeights.mouth)'),
  };

  const bn = params.batchNorm ?? 'none';
  if (!['none', 'encoder', 'decoder', 'both'].includes(bn as string)) throw new ConfigError(`train param 'batchNorm' = ${JSON.stringify(bn)}: must be none, encoder, decoder or both`);
  const act = params.activation ?? 'leaky_relu';
  if (!['leaky_relu', 'relu', 'elu'].includes(act as string)) throw new ConfigError(`train param 'activation' = ${JSON.stringify(act)}: must be leaky_relu, relu or elu`);

  let augment: Augment | null = DEFAULT_AUGMENT;
  if (params.augment === false) augment = null;
  else if (params.augment !== undefined) {
    const a = params.augment as Record<string, unknown>;
    if (typeof a !== 'object' || a === null) throw new ConfigError(`train param 'augment' must be false or an object {rotate, scale, shift, flip, colour}`);
    augment = {
      rotate: num(a, 'rotate', DEFAULT_AUGMENT.rotate, (n) => n >= 0 && n <= 45, 'degrees in 0..45'),
      scale: num(a, 'scale', DEFAULT_AUGMENT.scale, (n) => n >= 0 && n < 0.5, 'in 0..0.5'),
      shift: num(a, 'shift', DEFAULT_AUGMENT.shift, (n) => n >= 0 && n < 0.5, 'in 0..0.5'),
      flip: a.flip === undefined ? DEFAULT_AUGMENT.flip : Boolean(a.flip),
      colour: num(a, 'colour', DEFAULT_AUGMENT.colour, (n) => n >= 0 && n < 1, 'in 0..1'),
    };
  }

  return {
    identities: order,
    resolution,
    startResolution,
    stepsPerFade: num(params, 'stepsPerFade', 10000, (n) => Number.isInteger(n) && n >= 1, 'an integer >= 1'),
    stepsPerStable: perResolution(params, 'stepsPerStable', res, () => 20000, 0),
    batch: perResolution(params, 'batch', res, (r) => DEFAULT_BATCH[String(r)] ?? 8, 1),
    lr: num(params, 'lr', 1e-4, (n) => n > 0 && n < 1, 'a learning rate in (0, 1)'),
    beta1: num(params, 'beta1', 0.9, (n) => n >= 0 && n < 1, 'in [0, 1)'),
    beta2: num(params, 'beta2', 0.999, (n) => n >= 0 && n < 1, 'in [0, 1)'),
    epsilon: num(params, 'epsilon', 1e-8, (n) => n > 0, '> 0'),
    loss: lossCfg,
    regionWeights,
    balance: num(params, 'balance', 0, (n) => Number.isInteger(n) && n >= 0 && n <= 256, 'an integer number of expression clusters in 0..256 (0 = uniform sampling)'),
    batchNorm: bn as BatchNormPlacement,
    channels,
    latent: num(params, 'latent', 512, (n) => Number.isInteger(n) && n >= 1, 'an integer >= 1'),
    activation: act as Activation,
    leak: num(params, 'leak', 0.2, (n) => n >= 0 && n < 1, 'in [0, 1)'),
    augment,
    seed: num(params, 'seed', 1, (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0'),
    checkpointEvery: num(params, 'checkpointEvery', 1000, (n) => Number.isInteger(n) && n >= 1, 'an integer >= 1'),
    previewEvery: num(params, 'previewEvery', 1000, (n) => Number.isInteger(n) && n >= 1, 'an integer >= 1'),
    keepCheckpoints: num(params, 'keepCheckpoints', 5, (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0'),
    heldoutEvery: num(params, 'heldoutEvery', 100, (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0'),
    lossEvery: num(params, 'lossEvery', 10, (n) => Number.isInteger(n) && n >= 1, 'an integer >= 1'),
    precision: precisionParam(params.precision),
  };
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

/** The part of the config a checkpoint must agree with. */
export function essentialConfig(cfg: TrainConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cfg)) if (!RUNTIME_FIELDS.has(k)) out[k] = v;
  // the region weights, balancing and detail term at their defaults (off) are left out, so checkpoints made
  // before these fields existed still resume
  if (Object.values(cfg.regionWeights ?? {}).every((w) => w === 0)) delete out.regionWeights;
  if (!cfg.balance) delete out.balance;
  if (!cfg.loss.detail) {
    const { detail: _off, ...loss } = cfg.loss;
    out.loss = loss;
  }
  return canonical(out) as Record<string, unknown>;
}

export function configHash(cfg: TrainConfig): string {
  return createHash('sha256').update(JSON.stringify(essentialConfig(cfg))).digest('hex').slice(0, 16);
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
export function ch(cfg: Pick<TrainConfig, 'channels'>, r: number): number {
  const c = cfg.channels[String(r)];
  if (!c) throw new ConfigError(`no channel count for resolution ${r} in 'channels'`);
  return c;
}
