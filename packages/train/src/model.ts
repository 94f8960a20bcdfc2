/**
 * The comb model of Naruniec et al., "High-Resolution Neural Face Swapping for Visual Effects" (EGSR 2020):
 * one encoder shared by all identities and one decoder per identity, built from raw tf ops over named
 * variables, in progressively grown levels (Karras et al., ICLR 2018; packages/train/README.md). Growing to a
 * higher resolution only adds the variables of the new level; every trained weight is kept.
 *
 * Encoder at resolution R:  fromRGB_R (1x1) -> blocks R..8 (two 3x3 convs, the second to the next
 *   level's channels, then 2x2 average pool) -> 3x3 conv -> 4x4 valid conv to the latent.
 * Decoder:  dense latent -> 4x4xC4 -> 3x3 conv -> blocks 8..R (nearest 2x upsample, two 3x3 convs)
 *   -> toRGB_R (1x1) -> sigmoid.
 * While a new level fades in, encoder features are alpha*new + (1-alpha)*fromRGB_{R/2}(avgpool(x)) and
 * the output is alpha*toRGB_R(new) + (1-alpha)*upsample(toRGB_{R/2}(old)).
 */
import { conv2dLeakyRelu, fadeBlend } from '@facecomb/engine';
import { tf, type Tensor, type Tensor1D, type Tensor2D, type Tensor4D, type Variable } from './tf.js';
import { ch, type TrainConfig } from './config.js';
import { hash32, Rng } from './rng.js';
import { bnDecoder, bnEncoder, trainedAt, variablesAt } from './build-plan.js';
import { upsample2xBilinear } from './upsample.js';

export interface BatchStat {
  name: string;
  mean: Tensor;
  variance: Tensor;
}

export interface ForwardOptions {
  /** Batch norm uses batch statistics (and records them in `stats`) when training. */
  training: boolean;
  stats?: BatchStat[];
}

const BN_MOMENTUM = 0.1;
let nextModelId = 0;
const BN_EPS = 1e-5;

export class CombModel {
  /** Trainable variables by name. */
  readonly params = new Map<string, Variable>();
  /** Non-trainable state (batch norm running mean/variance) by name. */
  readonly buffers = new Map<string, Variable>();

  /** Prefix of the tf variable names (tfjs names are process-wide; two models may coexist). */
  readonly prefix = `comb${nextModelId++}/`;

  constructor(readonly cfg: TrainConfig) {}

  /** The model's name of a tf variable name. */
  nameOf(tfName: string): string {
    return tfName.startsWith(this.prefix) ? tfName.slice(this.prefix.length) : tfName;
  }

  /** Sets (or creates) a variable from stored values. */
  setValue(name: string, kind: 'param' | 'buffer', shape: number[], data: Float32Array): void {
    const map = kind === 'param' ? this.params : this.buffers;
    const v = map.get(name);
    if (v) {
      if (v.shape.join('x') !== shape.join('x')) throw new Error(`variable ${name}: stored shape [${shape}] differs from the model's [${v.shape}]`);
      tf.tidy(() => v.assign(tf.tensor(data, shape)));
    } else {
      map.set(name, tf.tidy(() => tf.variable(tf.tensor(data, shape), kind === 'param', `${this.prefix}${name}`)));
    }
  }

  get identities(): number {
    return this.cfg.model.identities.length;
  }

  private bnEncoder(): boolean {
    return bnEncoder(this.cfg);
  }

  private bnDecoder(): boolean {
    return bnDecoder(this.cfg);
  }

  private initValues(name: string, shape: number[], fanIn: number, kind: 'weight' | 'zeros' | 'ones'): Float32Array {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    if (kind === 'ones') v.fill(1);
    if (kind !== 'weight') return v;
    // He (Kaiming) uniform for leaky ReLU, seeded by the variable's name so growing is order independent
    const gain = Math.sqrt(2 / (1 + this.cfg.model.leak * this.cfg.model.leak));
    const bound = gain * Math.sqrt(3 / fanIn);
    const rng = new Rng(hash32(this.cfg.run.seed, 'init'), name);
    for (let i = 0; i < n; i++) v[i] = (rng.next() * 2 - 1) * bound;
    return v;
  }

  private addParam(name: string, shape: number[], fanIn: number, kind: 'weight' | 'zeros' | 'ones'): void {
    if (this.params.has(name)) return;
    this.params.set(name, tf.tidy(() => tf.variable(tf.tensor(this.initValues(name, shape, fanIn, kind), shape), true, `${this.prefix}${name}`)));
  }

  private addBuffer(name: string, shape: number[], kind: 'zeros' | 'ones'): void {
    if (this.buffers.has(name)) return;
    this.buffers.set(name, tf.tidy(() => tf.variable(tf.tensor(this.initValues(name, shape, 1, kind), shape), false, `${this.prefix}${name}`)));
  }

  /** Creates every variable the model needs at resolution `r` (and, for fading, at r/2): the build plan's. Existing ones are kept. */
  build(r: number): void {
    for (const v of variablesAt(this.cfg, r)) {
      if (v.kind === 'param') this.addParam(v.name, v.shape, v.fanIn, v.init);
      else this.addBuffer(v.name, v.shape, v.init as 'zeros' | 'ones');
    }
  }

  private p(name: string): Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`model variable ${name} is missing (build() was not called for this resolution)`);
    return v;
  }

  private act(x: Tensor4D): Tensor4D {
    switch (this.cfg.model.activation) {
      case 'relu':
        return tf.relu(x);
      case 'elu':
        return tf.elu(x);
      default:
        return tf.leakyRelu(x, this.cfg.model.leak);
    }
  }

  private conv(x: Tensor4D, name: string, pad: 'same' | 'valid' = 'same'): Tensor4D {
    return tf.fused.conv2d({ x, filter: this.p(`${name}.w`) as Tensor4D, bias: this.p(`${name}.b`), strides: 1, pad });
  }

  private bn(x: Tensor4D, name: string, opts: ForwardOptions): Tensor4D {
    const gamma = this.p(`${name}.bn.gamma`);
    const beta = this.p(`${name}.bn.beta`);
    if (opts.training) {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      if (opts.stats) opts.stats.push({ name, mean: tf.keep(mean), variance: tf.keep(variance) });
      return tf.batchNorm(x, mean, variance, beta, gamma, BN_EPS) as Tensor4D;
    }
    return tf.batchNorm(x, this.buffers.get(`${name}.bn.mean`)!, this.buffers.get(`${name}.bn.var`)!, beta, gamma, BN_EPS) as Tensor4D;
  }

  /**
   * act(conv + bias), batch norm between them when `bn`. Without batch norm a leaky ReLU runs as one fused op
   * (conv2dLeakyRelu: one forward kernel, its own gradient; same variables and numbers). `data`: x is an input
   * image (no gradient w.r.t. it is needed).
   */
  private convAct(x: Tensor4D, name: string, bn: boolean, opts: ForwardOptions, pad: 'same' | 'valid' = 'same', data = false): Tensor4D {
    if (!bn && this.cfg.model.activation === 'leaky_relu') {
      return conv2dLeakyRelu(x, this.p(`${name}.w`) as Tensor4D, this.p(`${name}.b`) as Tensor1D, { pad, alpha: this.cfg.model.leak, inputGrad: !data });
    }
    let h = this.conv(x, name, pad);
    if (bn) h = this.bn(h, name, opts);
    return this.act(h);
  }

  private encBlock(h: Tensor4D, r: number, opts: ForwardOptions): Tensor4D {
    h = this.convAct(h, `enc.${r}.conv1`, this.bnEncoder(), opts);
    h = this.convAct(h, `enc.${r}.conv2`, this.bnEncoder(), opts);
    return tf.avgPool(h, 2, 2, 'valid');
  }

  private decBlock(h: Tensor4D, i: number, r: number, opts: ForwardOptions): Tensor4D {
    h = this.up(h, r);
    h = this.convAct(h, `dec${i}.${r}.conv1`, this.bnDecoder(), opts);
    return this.convAct(h, `dec${i}.${r}.conv2`, this.bnDecoder(), opts);
  }

  /** The decoder's 2x upsampling to r x r: nearest (the paper's) or bilinear with half-pixel centres (PyTorch's align_corners=False). */
  private up(h: Tensor4D, r: number): Tensor4D {
    return this.cfg.model.upsample === 'bilinear' ? upsample2xBilinear(h) : tf.image.resizeNearestNeighbor(h, [r, r]);
  }

  /** The fade-in blend alpha * a + (1 - alpha) * b: one dispatch on webgpu, three tf ops elsewhere (engine's fadeBlend). */
  private blend(a: Tensor4D, b: Tensor4D, alpha: number): Tensor4D {
    return fadeBlend(a, b, alpha);
  }

  private fading(r: number, alpha: number): boolean {
    return alpha < 1 && r > this.cfg.model.startResolution;
  }

  /** x: [B, r, r, 3] in [0, 1] -> latent [B, latent]. x is data: no gradient flows back to the image. */
  encode(x: Tensor4D, alpha: number, opts: ForwardOptions): Tensor2D {
    const r = x.shape[1];
    let h = this.convAct(x, `enc.fromRGB.${r}`, false, opts, 'same', true);
    if (r > 4) h = this.encBlock(h, r, opts);
    if (this.fading(r, alpha)) {
      const old = this.convAct(tf.avgPool(x, 2, 2, 'valid'), `enc.fromRGB.${r / 2}`, false, opts, 'same', true);
      h = this.blend(h, old, alpha);
    }
    for (let s = r / 2; s >= 8; s /= 2) h = this.encBlock(h, s, opts);
    h = this.convAct(h, 'enc.final.conv', false, opts);
    h = this.convAct(h, 'enc.final.dense', false, opts, 'valid');
    return tf.reshape(h, [h.shape[0], this.cfg.model.latent]) as Tensor2D;
  }

  /** latent [B, latent] -> image [B, r, r, 3] in [0, 1] through identity i's decoder. */
  decode(z: Tensor2D, i: number, r: number, alpha: number, opts: ForwardOptions): Tensor4D {
    if (i < 0 || i >= this.identities) throw new Error(`no decoder ${i}: the model has ${this.identities} identities`);
    const c4 = ch(this.cfg.model, 4);
    let h = tf.matMul(z, this.p(`dec${i}.dense.w`)).add(this.p(`dec${i}.dense.b`)) as Tensor2D;
    let x = this.act(tf.reshape(h, [z.shape[0], 4, 4, c4]));
    x = this.convAct(x, `dec${i}.base.conv`, false, opts);
    for (let s = 8; s < r; s *= 2) x = this.decBlock(x, i, s, opts);
    let old: Tensor4D | null = null;
    if (this.fading(r, alpha)) {
      old = this.up(tf.sigmoid(this.conv(x, `dec${i}.toRGB.${r / 2}`)), r);
    }
    if (r > 4) x = this.decBlock(x, i, r, opts);
    let y = tf.sigmoid(this.conv(x, `dec${i}.toRGB.${r}`));
    if (old) y = this.blend(y, old, alpha);
    return y;
  }

  /** Updates the batch-norm running statistics from a training forward pass; disposes the stats. */
  updateRunningStats(stats: BatchStat[]): void {
    for (const s of stats) {
      const m = this.buffers.get(`${s.name}.bn.mean`)!;
      const v = this.buffers.get(`${s.name}.bn.var`)!;
      tf.tidy(() => {
        m.assign(tf.add(tf.mul(m, 1 - BN_MOMENTUM), tf.mul(s.mean, BN_MOMENTUM)));
        v.assign(tf.add(tf.mul(v, 1 - BN_MOMENTUM), tf.mul(s.variance, BN_MOMENTUM)));
      });
      s.mean.dispose();
      s.variance.dispose();
    }
  }

  /** Variables used at resolution r (during a fade, the r/2 fromRGB/toRGB too); only decoder `identity`'s when given. */
  trainableAt(r: number, alpha: number, identity?: number): Variable[] {
    const fading = this.fading(r, alpha);
    return [...this.params].filter(([name]) => trainedAt(name, r, fading, identity)).map(([, v]) => v);
  }

  /** Total number of trainable values at resolution r. */
  parameterCount(r: number): number {
    return this.trainableAt(r, 1, 0).reduce((a, v) => a + v.size, 0);
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    for (const v of this.buffers.values()) v.dispose();
    this.params.clear();
    this.buffers.clear();
  }
}
