/**
 * Identity sets (the `dataset` artifacts of align), augmentation, and a batch loader that decodes and
 * augments the next batches while the engine runs the current step.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { composeAffine, readImage, resize, warpAffine, type Affine, type Image } from '@facecomb/image';
import type { Augment, RegionWeights, TrainConfig } from './config.js';
import { Rng, hash32 } from './rng.js';
import { hasRegionWeights, regionWeightMap, type Point } from './regions.js';
import { balanceWeights, cumulative, drawWeighted } from './balance.js';
import { planStep } from './schedule.js';
import type { GradBatch } from './gradients.js';

export interface DatasetItem {
  crop: string;
  mask: string | null;
  clip: string;
  frame: number;
  split: 'train' | 'heldout';
  /** The 68 landmarks in crop pixels (dataset stage version 2 on). */
  landmarks?: Point[];
}

export interface IdentitySet {
  name: string;
  dir: string;
  size: number;
  train: DatasetItem[];
  heldout: DatasetItem[];
}

/** Reads one `dataset` artifact folder (meta.json kind "dataset", items.json, crops/, masks/). */
export async function readDataset(dir: string): Promise<IdentitySet> {
  const metaFile = join(dir, 'meta.json');
  const meta = JSON.parse(await readFile(metaFile, 'utf8').catch(() => {
    throw new Error(`dataset folder ${dir} has no meta.json: is it the output of a dataset stage?`);
  })) as Record<string, unknown>;
  if (meta.kind !== 'dataset') throw new Error(`${metaFile}: kind is ${JSON.stringify(meta.kind)}, expected "dataset"`);
  if (typeof meta.name !== 'string' || !meta.name) throw new Error(`${metaFile}: missing the identity 'name'`);
  const itemsFile = join(dir, 'items.json');
  const items = JSON.parse(await readFile(itemsFile, 'utf8').catch(() => {
    throw new Error(`dataset ${dir} has no items.json`);
  })) as DatasetItem[];
  if (!Array.isArray(items)) throw new Error(`${itemsFile} must be an array of {crop, mask, clip, frame, split}`);
  for (const [i, it] of items.entries()) {
    if (typeof it.crop !== 'string') throw new Error(`${itemsFile}: item ${i} has no 'crop' path`);
  }
  const train = items.filter((it) => it.split !== 'heldout');
  const heldout = items.filter((it) => it.split === 'heldout');
  if (train.length === 0) throw new Error(`dataset '${meta.name}' (${dir}) has no training items; give it more aligned frames`);
  const first = join(dir, train[0].crop);
  await stat(first).catch(() => {
    throw new Error(`dataset '${meta.name}': crop ${first} listed in items.json is missing`);
  });
  return { name: meta.name, dir, size: Number(meta.size) || 0, train, heldout };
}

export interface Sample {
  /** [R, R, 3] interleaved, [0, 1]. */
  x: Float32Array;
  /** [R, R] mask in [0, 1]. */
  m: Float32Array;
  /** What the sample is, for previews: "held-out 12" or "train 3" (split and frame). */
  label?: string;
}

/** A training batch: the step it belongs to and what a gradient pass needs. */
export interface Batch extends GradBatch {
  step: number;
}

/**
 * Decodes a crop and its mask, resized to r x r with @facecomb/image. With region weights, the mask is
 * multiplied by the crop's region weight map (regions.ts), so the augmentation warps both together.
 */
export async function loadSample(set: IdentitySet, item: DatasetItem, r: number, regions?: RegionWeights): Promise<Sample> {
  const cropFile = join(set.dir, item.crop);
  const img = await readImage(cropFile, { channels: 3 }).catch((e: Error) => {
    throw new Error(`dataset '${set.name}': ${e.message}`);
  });
  const x = img.width === r && img.height === r ? img.data : resize(img, r, r).data;
  let m: Float32Array;
  if (item.mask) {
    const maskFile = join(set.dir, item.mask);
    const mi = await readImage(maskFile, { channels: 1 }).catch((e: Error) => {
      throw new Error(`dataset '${set.name}': ${e.message}`);
    });
    m = mi.width === r && mi.height === r ? mi.data : resize(mi, r, r).data;
  } else {
    m = new Float32Array(r * r).fill(1);
  }
  if (regions && hasRegionWeights(regions)) {
    const w = regionWeightMap(item.landmarks!, img.width, r, regions);
    for (let i = 0; i < m.length; i++) m[i] *= w[i];
  }
  return { x, m };
}

/** Train params that need the crops' landmarks: an error naming the dataset when one has none (made by an older dataset stage). */
export function checkLandmarks(sets: IdentitySet[], cfg: TrainConfig): void {
  const needs = [hasRegionWeights(cfg.loss.regionWeights) ? 'regionWeights' : '', cfg.schedule.balance > 0 ? 'balance' : ''].filter(Boolean);
  if (!needs.length) return;
  for (const set of sets) {
    const bad = set.train.find((it) => !Array.isArray(it.landmarks) || it.landmarks.length !== 68);
    if (bad) {
      throw new Error(`train param${needs.length > 1 ? 's' : ''} ${needs.map((n) => `'${n}'`).join(' and ')} need${needs.length > 1 ? '' : 's'} each crop's 68 landmarks, but ${join(set.dir, 'items.json')} has none for ${bad.crop} (a dataset made before dataset stage version 2): run its dataset stage again, or leave ${needs.join(' and ')} off`);
    }
  }
}

/** Similarity jitter, flip and colour jitter with numbers drawn from rng (same warp for image and mask). */
export function augment(s: Sample, r: number, aug: Augment, rng: Rng): Sample {
  const flip = aug.flip && rng.next() < 0.5;
  const theta = (rng.uniform(-aug.rotate, aug.rotate) * Math.PI) / 180;
  const scale = 1 + rng.uniform(-aug.scale, aug.scale);
  const tx = rng.uniform(-aug.shift, aug.shift) * r;
  const ty = rng.uniform(-aug.shift, aug.shift) * r;
  const gains = [0, 1, 2].map(() => 1 + rng.uniform(-aug.colour, aug.colour));
  const bright = rng.uniform(-aug.colour, aug.colour);
  const contrast = 1 + rng.uniform(-2 * aug.colour, 2 * aug.colour);

  const c = (r - 1) / 2;
  const a = scale * Math.cos(theta);
  const b = scale * Math.sin(theta);
  let m: Affine = [a, -b, c + tx - (a * c - b * c), b, a, c + ty - (b * c + a * c)];
  if (flip) m = composeAffine(m, [-1, 0, r - 1, 0, 1, 0]);
  const identity = !flip && theta === 0 && scale === 1 && tx === 0 && ty === 0;
  const img: Image = { width: r, height: r, channels: 3, data: s.x };
  const mask: Image = { width: r, height: r, channels: 1, data: s.m };
  const x = identity ? new Float32Array(s.x) : warpAffine(img, m, r, r, { replicate: true }).data;
  const mk = identity ? new Float32Array(s.m) : warpAffine(mask, m, r, r, { border: 0 }).data;
  if (aug.colour > 0) {
    for (let i = 0; i < x.length; i++) {
      const v = (x[i] * gains[i % 3] - 0.5) * contrast + 0.5 + bright;
      x[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return { x, m: mk };
}

/**
 * Produces the batch of each step: identity = step mod P (decoders are trained in turn), items and
 * augmentation drawn from an RNG keyed by (seed, step), so any step's batch is the same whether the run
 * was interrupted or not. Keeps `depth` batches in flight ahead of the one being trained.
 */
export class BatchLoader {
  private cache = new Map<string, Sample>();
  private cacheRes = 0;
  private cacheBytes = 0;
  private pending = new Map<number, Promise<Batch>>();
  /** Time spent waiting for data in next() (ms): near 0 when decoding keeps up with the engine. */
  waitMs = 0;
  /** With `balance`: per identity, the cumulative sampling weights of its training items (balance.ts). */
  private readonly balanced: (Float64Array | null)[];

  constructor(
    readonly sets: IdentitySet[],
    readonly cfg: TrainConfig,
    readonly depth = 2,
    readonly cacheBudget = 1.5e9,
  ) {
    checkLandmarks(sets, cfg);
    this.balanced = sets.map((set) =>
      cfg.schedule.balance > 0 ? cumulative(balanceWeights(set.train.map((it) => it.landmarks!), cfg.schedule.balance, new Rng(hash32(cfg.run.seed, 'balance'), set.name))) : null,
    );
  }

  private async sample(set: IdentitySet, item: DatasetItem, r: number): Promise<Sample> {
    if (r !== this.cacheRes) {
      this.cache.clear();
      this.cacheBytes = 0;
      this.cacheRes = r;
    }
    const key = `${set.dir}\u0000${item.crop}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const s = await loadSample(set, item, r, this.cfg.loss.regionWeights);
    const bytes = (s.x.length + s.m.length) * 4;
    if (this.cacheRes === r && this.cacheBytes + bytes <= this.cacheBudget) {
      this.cache.set(key, s);
      this.cacheBytes += bytes;
    }
    return s;
  }

  async make(step: number): Promise<Batch> {
    const plan = planStep(this.cfg, step);
    const identity = step % this.sets.length;
    const set = this.sets[identity];
    const r = plan.resolution;
    const rng = new Rng(hash32(this.cfg.run.seed, 'batch'), `step:${step}`);
    const cum = this.balanced[identity];
    const picks = Array.from({ length: plan.batch }, () => set.train[cum ? drawWeighted(cum, rng) : rng.int(set.train.length)]);
    const samples = await Promise.all(picks.map((it) => this.sample(set, it, r)));
    const x = new Float32Array(plan.batch * r * r * 3);
    const m = new Float32Array(plan.batch * r * r);
    samples.forEach((s, k) => {
      const a = this.cfg.augment ? augment(s, r, this.cfg.augment, rng) : s;
      x.set(a.x, k * r * r * 3);
      m.set(a.m, k * r * r);
    });
    return { step, identity, resolution: r, alpha: plan.alpha, size: plan.batch, x, m };
  }

  /** The batch of `step`, starting the next ones in the background. */
  async next(step: number): Promise<Batch> {
    for (const k of [...this.pending.keys()]) if (k < step) this.pending.delete(k);
    for (let s = step; s < step + this.depth; s++) {
      if (!this.pending.has(s)) {
        const p = this.make(s);
        p.catch(() => undefined); // reported when awaited
        this.pending.set(s, p);
      }
    }
    const t0 = performance.now();
    const b = await this.pending.get(step)!;
    this.waitMs += performance.now() - t0;
    this.pending.delete(step);
    return b;
  }
}

/** Fixed, unaugmented samples per identity for previews (held-out items first). */
export async function previewSamples(sets: IdentitySet[], r: number, count: number): Promise<Sample[][]> {
  return Promise.all(
    sets.map(async (set) => {
      const pool = [...set.heldout, ...set.train];
      const stride = Math.max(1, Math.floor(pool.length / count));
      const items = Array.from({ length: Math.min(count, pool.length) }, (_, k) => pool[k * stride]);
      return Promise.all(items.map(async (it) => ({ ...(await loadSample(set, it, r)), label: `${it.split === 'heldout' ? 'held-out' : 'train'} ${it.frame}` })));
    }),
  );
}
