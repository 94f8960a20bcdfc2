/**
 * The comb model's build plan: its conv layers at a resolution (name, kernel, channels, output side), the
 * variables they need, and which of them a step trains. CombModel builds its variables from it and the
 * memory estimate (memory.ts) counts weights, moments, gradients and activations from the same plan.
 */
import { ch, type TrainConfig } from './config.js';

export type PlanConfig = Pick<TrainConfig, 'model'>;

export interface ConvLayer {
  name: string;
  /** Kernel side. */
  k: number;
  cin: number;
  cout: number;
  bn: boolean;
  /** Side of the output feature map. */
  side: number;
}

export interface VarSpec {
  name: string;
  shape: number[];
  fanIn: number;
  init: 'weight' | 'zeros' | 'ones';
  /** Trainable parameter, or a buffer (batch-norm running statistics). */
  kind: 'param' | 'buffer';
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export function bnEncoder(cfg: PlanConfig): boolean {
  return cfg.model.batchNorm === 'encoder' || cfg.model.batchNorm === 'both';
}

export function bnDecoder(cfg: PlanConfig): boolean {
  return cfg.model.batchNorm === 'decoder' || cfg.model.batchNorm === 'both';
}

/** The conv layers a model at resolution r has (with the r/2 fromRGB/toRGB while r fades in), in build order. */
export function convLayers(cfg: PlanConfig, r: number): ConvLayer[] {
  const c = (s: number) => ch(cfg.model, s);
  const P = cfg.model.identities.length;
  const c4 = c(4);
  const out: ConvLayer[] = [{ name: 'enc.final.conv', k: 3, cin: c4, cout: c4, bn: false, side: 4 }, { name: 'enc.final.dense', k: 4, cin: c4, cout: cfg.model.latent, bn: false, side: 1 }];
  for (let i = 0; i < P; i++) out.push({ name: `dec${i}.base.conv`, k: 3, cin: c4, cout: c4, bn: false, side: 4 });
  const lo = r > cfg.model.startResolution ? r / 2 : r;
  for (const res of [lo, r]) {
    out.push({ name: `enc.fromRGB.${res}`, k: 1, cin: 3, cout: c(res), bn: false, side: res });
    for (let i = 0; i < P; i++) out.push({ name: `dec${i}.toRGB.${res}`, k: 1, cin: c(res), cout: 3, bn: false, side: res });
  }
  for (let s = 8; s <= r; s *= 2) {
    out.push({ name: `enc.${s}.conv1`, k: 3, cin: c(s), cout: c(s), bn: bnEncoder(cfg), side: s });
    out.push({ name: `enc.${s}.conv2`, k: 3, cin: c(s), cout: c(s / 2), bn: bnEncoder(cfg), side: s });
    for (let i = 0; i < P; i++) {
      out.push({ name: `dec${i}.${s}.conv1`, k: 3, cin: c(s / 2), cout: c(s), bn: bnDecoder(cfg), side: s });
      out.push({ name: `dec${i}.${s}.conv2`, k: 3, cin: c(s), cout: c(s), bn: bnDecoder(cfg), side: s });
    }
  }
  return out;
}

function convVars(l: ConvLayer): VarSpec[] {
  const out: VarSpec[] = [
    { name: `${l.name}.w`, shape: [l.k, l.k, l.cin, l.cout], fanIn: l.k * l.k * l.cin, init: 'weight', kind: 'param' },
    { name: `${l.name}.b`, shape: [l.cout], fanIn: 1, init: 'zeros', kind: 'param' },
  ];
  if (l.bn) {
    out.push({ name: `${l.name}.bn.gamma`, shape: [l.cout], fanIn: 1, init: 'ones', kind: 'param' });
    out.push({ name: `${l.name}.bn.beta`, shape: [l.cout], fanIn: 1, init: 'zeros', kind: 'param' });
    out.push({ name: `${l.name}.bn.mean`, shape: [l.cout], fanIn: 1, init: 'zeros', kind: 'buffer' });
    out.push({ name: `${l.name}.bn.var`, shape: [l.cout], fanIn: 1, init: 'ones', kind: 'buffer' });
  }
  return out;
}

/** The variables CombModel.build(r) needs, in its order (existing ones are kept by build). */
export function variablesAt(cfg: PlanConfig, r: number): VarSpec[] {
  const layers = convLayers(cfg, r);
  const byName = new Map(layers.map((l) => [l.name, l]));
  const c4 = ch(cfg.model, 4);
  const latent = cfg.model.latent;
  const out: VarSpec[] = [...convVars(byName.get('enc.final.conv')!), ...convVars(byName.get('enc.final.dense')!)];
  for (let i = 0; i < cfg.model.identities.length; i++) {
    out.push({ name: `dec${i}.dense.w`, shape: [latent, 16 * c4], fanIn: latent, init: 'weight', kind: 'param' });
    out.push({ name: `dec${i}.dense.b`, shape: [16 * c4], fanIn: 1, init: 'zeros', kind: 'param' });
    out.push(...convVars(byName.get(`dec${i}.base.conv`)!));
  }
  for (const l of layers.slice(2 + cfg.model.identities.length)) out.push(...convVars(l));
  return out;
}

/** Every variable a run has built by the time it trains at r (the levels from startResolution up to r). */
export function variablesUpTo(cfg: PlanConfig, r: number): VarSpec[] {
  const seen = new Map<string, VarSpec>();
  for (let s = Math.min(cfg.model.startResolution, r); s <= r; s *= 2) for (const v of variablesAt(cfg, s)) if (!seen.has(v.name)) seen.set(v.name, v);
  return [...seen.values()];
}

/**
 * Whether a step at r trains the variable: the encoder and decoder up to r, the fromRGB/toRGB of r (and of r/2
 * while fading), only decoder `identity`'s when given.
 */
export function trainedAt(name: string, r: number, fading: boolean, identity?: number): boolean {
  const d = /^dec(\d+)\./.exec(name);
  if (identity !== undefined && d && Number(d[1]) !== identity) return false;
  const m = /\.(fromRGB|toRGB)\.(\d+)\./.exec(name);
  if (m) return Number(m[2]) === r || (Number(m[2]) === r / 2 && fading);
  const b = /^(?:enc|dec\d+)\.(\d+)\./.exec(name);
  return !(b && Number(b[1]) > r);
}

export interface ParameterCount {
  /** Values of every parameter built up to r (all decoders). */
  params: number;
  /** Values one step trains (encoder + one decoder). */
  trained: number;
  /** Values of the largest variable. */
  largest: number;
}

export function parameterCount(cfg: PlanConfig, r: number, fading: boolean): ParameterCount {
  const params = variablesUpTo(cfg, r).filter((v) => v.kind === 'param');
  const sum = (vs: VarSpec[]) => vs.reduce((a, v) => a + size(v.shape), 0);
  return { params: sum(params), trained: sum(params.filter((v) => trainedAt(v.name, r, fading, 0))), largest: Math.max(...params.map((v) => size(v.shape))) };
}

/**
 * Values per image of the tensors the model's forward pass (encoder, one decoder, training mode) returns from
 * its ops on the CPU engines (wasm, cpu), from the layers on its path: a fused conv + leaky ReLU makes one
 * tensor, a plain conv (toRGB) one, otherwise conv and activation, and with batch norm its output and the
 * batch's variance; then pools, upsamples, the dense layer, reshapes, sigmoid and the fade-in's mixes.
 */
export function forwardValues(cfg: PlanConfig, r: number, fading: boolean): { total: number; largest: number } {
  const layers = convLayers(cfg, r).filter((l) => trainedAt(`${l.name}.`, r, fading, 0));
  const fused = cfg.model.activation === 'leaky_relu';
  let total = 0;
  let largest = 0;
  const t = (n: number, times = 1) => {
    total += n * times;
    largest = Math.max(largest, n);
  };
  for (const l of layers) {
    const n = l.side * l.side * l.cout;
    if (l.name.includes('toRGB') || (fused && !l.bn)) t(n);
    else if (!l.bn) t(n, 2); // conv, activation
    else {
      t(n, 3); // conv, batch norm, activation
      t(l.cout); // the batch's variance
    }
  }
  const c = (s: number) => ch(cfg.model, s);
  for (let s = r; s >= 8; s /= 2) t((s / 2) * (s / 2) * c(s / 2)); // encoder average pools
  t(cfg.model.latent); // the latent's reshape
  t(16 * c(4), 4); // decoder dense: matMul, bias, reshape, activation
  for (let s = 8; s <= r; s *= 2) t(s * s * c(s / 2)); // decoder nearest upsamples
  t(r * r * 3); // sigmoid
  if (fading) {
    const h = (r / 2) * (r / 2);
    t(h * 3); // pooled input
    t(h * c(r / 2), 3); // encoder alpha mix
    t(h * 3); // sigmoid of the r/2 output
    t(r * r * 3, 4); // its upsample, output alpha mix
  }
  return { total, largest };
}
