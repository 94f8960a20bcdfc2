/**
 * A data-parallel gradient worker (worker_threads): its own tfjs instance and copy of the model. Each
 * request carries the current values of the variables the step trains and a shard of the batch; it
 * answers with the shard's loss and gradients. It keeps no optimizer state: the main thread sums the
 * shards' gradients and takes the one Adam step.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initEngine } from './tf.js';
import { CombModel } from './model.js';
import { gradients, type GradBatch } from './gradients.js';
import type { LossNorm } from './loss.js';
import type { TrainConfig } from './config.js';

export interface WorkerInit {
  config: TrainConfig;
  backend: string;
}

export interface ShardRequest {
  id: number;
  batch: GradBatch;
  norm: LossNorm;
  /** name -> [shape, values] of every variable the step uses. */
  weights: Record<string, [number[], Float32Array]>;
}

export type ShardReply =
  | { id: number; ok: true; loss: number; grads: Record<string, Float32Array> }
  | { id: number; ok: false; error: string };

const port = parentPort!;
const init = workerData as WorkerInit;
const ready = initEngine({ backend: init.backend, log: () => undefined });
const model = new CombModel(init.config);

port.on('message', async (req: ShardRequest) => {
  try {
    await ready;
    for (const [name, [shape, data]] of Object.entries(req.weights)) model.setValue(name, 'param', shape, data);
    const { value, grads } = gradients(model, req.batch, [], req.norm);
    const out: Record<string, Float32Array> = {};
    for (const [name, g] of Object.entries(grads)) {
      out[name] = (await g.data()) as Float32Array;
      g.dispose();
    }
    const loss = (await value.data())[0];
    value.dispose();
    const reply: ShardReply = { id: req.id, ok: true, loss, grads: out };
    // transfer (not copy) the arrays that own their whole buffer
    port.postMessage(reply, Object.values(out).filter((a) => a.byteOffset === 0 && a.byteLength === a.buffer.byteLength).map((a) => a.buffer as ArrayBuffer));
  } catch (e) {
    const reply: ShardReply = { id: req.id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
    port.postMessage(reply);
  }
});
