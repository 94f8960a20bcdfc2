/**
 * Data-parallel training on CPU engines: each training batch is split into contiguous shards, the main
 * thread computes the first one and worker threads (grad-worker.ts, each with its own tfjs wasm instance)
 * the others, at the same time; the shards' gradients are summed (each shard's loss is its part of the
 * whole batch's loss, see LossNorm) and one Adam step is taken. The result equals one worker's up to float
 * rounding (tested), so the number of workers is not part of the model's config or the stage's cache key.
 *
 * Not split (the step runs on the main thread alone): batch norm (its statistics are the whole batch's)
 * and MS-SSIM levels (a product over scales, not a sum over samples).
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf, type Scalar, type Tensor } from './tf.js';
import type { TrainConfig } from './config.js';
import type { CombModel } from './model.js';
import { lossNorm, lossSplits } from './loss.js';
import { gradients, shard, shardRanges, type GradBatch } from './gradients.js';
import type { ShardReply, ShardRequest, WorkerInit } from './grad-worker.js';

/** Engines whose steps run on one CPU core each, so more workers use more cores. */
export const PARALLEL_ENGINES = ['wasm', 'cpu'];

/**
 * The number of workers: `requested` (the FACECOMB_WORKERS variable or the library option) or the core
 * count; 1 on engines that are not CPU engines and when batch norm needs whole-batch statistics.
 */
export function resolveWorkers(requested: number | undefined, engine: string, cfg: TrainConfig): { workers: number; why: string } {
  if (requested !== undefined && (!Number.isInteger(requested) || requested < 1)) {
    throw new Error(`workers = ${requested}: must be an integer >= 1 (FACECOMB_WORKERS)`);
  }
  const want = requested ?? availableParallelism();
  const src = requested === undefined ? 'the core count' : 'requested';
  if (want === 1) return { workers: 1, why: `1 worker (${src})` };
  if (!PARALLEL_ENGINES.includes(engine)) return { workers: 1, why: `1 worker: the ${engine} engine runs a step on its own device, not on one core` };
  if (cfg.model.batchNorm !== 'none') return { workers: 1, why: `1 worker: batch norm (${cfg.model.batchNorm}) needs the whole batch's statistics` };
  return { workers: want, why: `${want} data-parallel workers (${src}; batches split into shards, gradients summed)` };
}

interface Pending {
  resolve: (r: ShardReply) => void;
  reject: (e: Error) => void;
}

export class GradientPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private dead: Error | null = null;

  /** `count` is the total number of shards, the main thread's included: count - 1 threads are started. */
  constructor(readonly count: number, config: TrainConfig, backend: string) {
    const ext = extname(fileURLToPath(import.meta.url));
    const url = new URL(`./grad-worker${ext}`, import.meta.url);
    const init: WorkerInit = { config, backend };
    for (let i = 1; i < count; i++) {
      // run from sources (tests under tsx): the worker registers the TypeScript loader before loading its module
      const w =
        ext === '.ts'
          ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((t) => { t.register(); return import(${JSON.stringify(url.href)}); });`, { eval: true, workerData: init })
          : new Worker(url, { workerData: init });
      w.on('message', (r: ShardReply) => {
        const p = this.pending.get(r.id);
        this.pending.delete(r.id);
        p?.resolve(r);
      });
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`gradient worker exited with code ${code}`));
      });
      this.workers.push(w);
    }
  }

  private fail(e: Error): void {
    this.dead = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private ask(w: Worker, req: Omit<ShardRequest, 'id'>): Promise<ShardReply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ ...req, id });
    });
  }

  /** Whether a batch can be split: more than one sample, and a loss that is a sum over samples. */
  splits(model: CombModel, b: GradBatch): boolean {
    return this.count > 1 && b.size > 1 && model.cfg.model.batchNorm === 'none' && lossSplits(model.cfg.loss, b.resolution);
  }

  /** Loss and summed gradients of the whole batch, shards computed in parallel. */
  async gradients(model: CombModel, b: GradBatch): Promise<{ value: Scalar; grads: Record<string, Tensor> }> {
    const ranges = shardRanges(b.size, this.count);
    const mask = tf.tensor4d(b.m, [b.size, b.resolution, b.resolution, 1]);
    const norm = lossNorm(mask, model.cfg.loss);
    mask.dispose();
    const vars = model.trainableAt(b.resolution, b.alpha, b.identity);
    const weights: Record<string, [number[], Float32Array]> = {};
    await Promise.all(vars.map(async (v) => (weights[model.nameOf(v.name)] = [v.shape, (await v.data()) as Float32Array])));
    // send the other shards first, then compute the first one here while the workers run
    const replies = ranges.slice(1).map(([from, to], k) =>
      this.ask(this.workers[k], { batch: shard(b, from, to), norm: { ...norm, share: (to - from) / b.size }, weights }),
    );
    const [from0, to0] = ranges[0];
    const own = gradients(model, shard(b, from0, to0), [], { ...norm, share: (to0 - from0) / b.size });
    let done: ShardReply[];
    try {
      done = await Promise.all(replies);
    } catch (e) {
      own.value.dispose();
      for (const g of Object.values(own.grads)) g.dispose();
      throw e;
    }
    let value = own.value;
    const grads = own.grads;
    for (const r of done) {
      if (!r.ok) throw new Error(`gradient worker failed: ${r.error}`);
      const nextValue = tf.add(value, r.loss) as Scalar;
      value.dispose();
      value = nextValue;
      for (const [name, g] of Object.entries(grads)) {
        const other = r.grads[name];
        if (!other) throw new Error(`gradient worker returned no gradient for ${name}`);
        grads[name] = tf.tidy(() => tf.add(g, tf.tensor(other, g.shape)));
        g.dispose();
      }
    }
    return { value, grads };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
