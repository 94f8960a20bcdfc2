import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tf } from '@facecomb/engine';
import { INPUT_CHANNELS, makeBatch, type TrainingSet } from './batch.js';
import { rng } from './synth.js';
import { createUNet, forward, loadWeights, saveWeights, type UNet } from './unet.js';

export interface TrainOptions {
  steps: number;
  batch: number;
  rate: number;
  seed: number;
  widths: number[];
  /** Folder kept across interrupted runs: the checkpoint is written there every `every` steps. */
  resume?: string;
  every?: number;
  onStep?: (step: number, loss: number) => void;
}

export interface Trained {
  net: UNet;
  loss: number;
  /** Step the run started from (0, or the checkpoint's step when resumed). */
  resumedFrom: number;
  seconds: number;
}

interface Checkpoint { step: number; loss: number; key: string }

/** What a checkpoint must match to be resumed: everything that shapes the run. */
const keyOf = (set: TrainingSet, o: TrainOptions): string =>
  JSON.stringify({ size: set.size, frames: set.frames.length, labelled: [...set.labelled.keys()], widths: o.widths, batch: o.batch, rate: o.rate, seed: o.seed, steps: o.steps });

async function loadCheckpoint(net: UNet, dir: string, key: string): Promise<Checkpoint | null> {
  const meta = join(dir, 'segmenter.json');
  const bin = join(dir, 'segmenter.bin');
  if (!existsSync(meta) || !existsSync(bin)) return null;
  const ck = JSON.parse(await readFile(meta, 'utf8')) as Checkpoint;
  if (ck.key !== key) return null;
  const buf = await readFile(bin);
  loadWeights(net, new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)), bin);
  return ck;
}

/** Writes the weights (segmenter.bin) and their step (segmenter.json), each through a temporary name. */
export async function writeCheckpoint(net: UNet, dir: string, ck: Checkpoint): Promise<void> {
  await mkdir(dir, { recursive: true });
  const w = await saveWeights(net);
  await writeFile(join(dir, 'segmenter.bin.tmp'), new Uint8Array(w.buffer, w.byteOffset, w.byteLength));
  await rename(join(dir, 'segmenter.bin.tmp'), join(dir, 'segmenter.bin'));
  await writeFile(join(dir, 'segmenter.json.tmp'), JSON.stringify(ck));
  await rename(join(dir, 'segmenter.json.tmp'), join(dir, 'segmenter.json'));
}

/**
 * Trains the segmenter on synthetic occluders (and labels) with Adam on the cross-entropy of
 * 'uncovered' weighted by the landmark hull (only the face counts; the mask is the hull times the prediction; see
 * batch.ts for the weights). Resumed runs
 * continue from the checkpoint's weights and step with fresh Adam moments; the batch stream is seeded by step,
 * so a resumed run sees the batches the uninterrupted one would have.
 */
export async function trainSegmenter(set: TrainingSet, o: TrainOptions): Promise<Trained> {
  const t0 = performance.now();
  const net = createUNet(set.size, o.widths, o.seed);
  const key = keyOf(set, o);
  const ck = o.resume ? await loadCheckpoint(net, o.resume, key) : null;
  const opt = tf.train.adam(o.rate);
  let loss = ck?.loss ?? NaN;
  for (let step = ck?.step ?? 0; step < o.steps; step++) {
    const b = makeBatch(set, o.batch, rng(o.seed * 1_000_003 + step));
    const x = tf.tensor4d(b.x, [b.n, set.size, set.size, INPUT_CHANNELS]);
    const y = tf.tensor4d(b.y, [b.n, set.size, set.size, 1]);
    const w = tf.tensor4d(b.w, [b.n, set.size, set.size, 1]);
    const l = opt.minimize(() => tf.losses.sigmoidCrossEntropy(y, forward(net, x), w) as tf.Scalar, true, [...net.vars.values()])!;
    loss = (await l.data())[0];
    tf.dispose([x, y, w, l]);
    if (!Number.isFinite(loss)) throw new Error(`segmenter training diverged at step ${step + 1} (loss ${loss}): lower 'rate'`);
    o.onStep?.(step + 1, loss);
    if (o.resume && o.every && (step + 1) % o.every === 0) await writeCheckpoint(net, o.resume, { step: step + 1, loss, key });
  }
  opt.dispose();
  return { net, loss, resumedFrom: ck?.step ?? 0, seconds: (performance.now() - t0) / 1000 };
}

/**
 * The probability that the face is not covered [0, 1], per pixel at the net's size, for frames given as packed
 * inputs (see packInput), `chunk` at a time; the visible face is the hull times it.
 */
export async function predict(net: UNet, inputs: Float32Array, n: number, chunk = 32): Promise<Float32Array> {
  const px = net.size * net.size;
  const out = new Float32Array(n * px);
  for (let i = 0; i < n; i += chunk) {
    const m = Math.min(chunk, n - i);
    const p = tf.tidy(() => tf.sigmoid(forward(net, tf.tensor4d(inputs.subarray(i * px * INPUT_CHANNELS, (i + m) * px * INPUT_CHANNELS), [m, net.size, net.size, INPUT_CHANNELS]))));
    out.set((await p.data()) as Float32Array, i * px);
    p.dispose();
  }
  return out;
}
