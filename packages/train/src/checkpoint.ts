/**
 * Checkpoint folders: weights.bin + weights.json (float32 values concatenated; names, shapes, offsets),
 * optimizer.bin + optimizer.json (Adam moments and step counts), state.json (resolution, alpha, step,
 * RNG state, config and its hash), card.json (the model card) and metrics.jsonl (the loss curve so far).
 * Written to a temporary folder and renamed into place, so a crash never leaves a half-written checkpoint.
 */
import { copyFile, link, mkdir, readFile, rename, rm, writeFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { configDiff, configHash, modelIdentity, storedModel, type TrainConfig } from './config.js';
import { concatFloat32 } from '@facecomb/engine';
import type { CombModel } from './model.js';
import type { Adam } from './adam.js';
import type { RngState } from './rng.js';

export const WEIGHTS_FORMAT = 'facecomb-weights/1';
export const STATE_FORMAT = 'facecomb-train-state/1';
export const CARD_FORMAT = 'facecomb-model/1';

export interface TrainState {
  format: string;
  /** Steps completed. */
  step: number;
  /** Current resolution (level). */
  resolution: number;
  /** Level index: log2(resolution). */
  level: number;
  alpha: number;
  rng: RngState;
  configHash: string;
  config: Record<string, unknown>;
  identities: string[];
  engine: string;
  /** The batch per resolution it was trained with (a run-time choice; absent in older checkpoints). */
  batch?: Record<string, number>;
  /** precision f16: the dynamic loss scale when saved, where a resumed f16 run starts (absent for f32). */
  lossScale?: number;
  savedAt: string;
}

export interface ModelCard {
  format: string;
  config: TrainConfig;
  resolution: number;
  level: number;
  alpha: number;
  step: number;
  identities: string[];
  engine: string;
  /** Trainable values of the encoder plus one decoder at the current resolution. */
  parameters: number;
  savedAt: string;
}

interface TensorEntry {
  name: string;
  kind: 'param' | 'buffer';
  shape: number[];
  offset: number;
  length: number;
}

interface SlotEntry {
  name: string;
  shape: number[];
  t: number;
  offsetM: number;
  offsetV: number;
  length: number;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** The parts' bytes one after another, as weights.bin and optimizer.bin hold them. */
function concat(parts: Float32Array[]): Buffer {
  const all = concatFloat32(parts);
  return Buffer.from(all.buffer, all.byteOffset, all.byteLength);
}

/** Saves model, optimizer and state into `dir` atomically. */
export async function saveCheckpoint(
  dir: string,
  model: CombModel,
  adam: Adam,
  state: Omit<TrainState, 'format' | 'configHash' | 'config' | 'identities' | 'savedAt' | 'level'>,
  metrics: string[],
  opts: { optimizer?: boolean } = {},
): Promise<void> {
  const savedAt = new Date().toISOString();
  const cfg = model.cfg;
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });

  const entries: TensorEntry[] = [];
  const parts: Float32Array[] = [];
  let total = 0;
  for (const [kind, map] of [['param', model.params], ['buffer', model.buffers]] as const) {
    for (const [name, v] of map) {
      const data = (await v.data()) as Float32Array;
      entries.push({ name, kind, shape: v.shape, offset: total * 4, length: data.length });
      parts.push(data);
      total += data.length;
    }
  }
  await writeFile(join(tmp, 'weights.bin'), concat(parts));
  await writeFile(join(tmp, 'weights.json'), JSON.stringify({ format: WEIGHTS_FORMAT, dtype: 'float32', littleEndian: true, tensors: entries }, null, 1));

  // snapshots kept for rendering (swap `step:`) leave the optimizer out: it is twice the weights' size
  if (opts.optimizer !== false) {
    const slots: SlotEntry[] = [];
    const oparts: Float32Array[] = [];
    let ototal = 0;
    for (const [name, sl] of adam.slots) {
      const m = (await sl.m.data()) as Float32Array;
      const v = (await sl.v.data()) as Float32Array;
      slots.push({ name, shape: sl.m.shape, t: sl.t, offsetM: ototal * 4, offsetV: (ototal + m.length) * 4, length: m.length });
      oparts.push(m, v);
      ototal += 2 * m.length;
    }
    await writeFile(join(tmp, 'optimizer.bin'), concat(oparts));
    await writeFile(join(tmp, 'optimizer.json'), JSON.stringify({ format: 'facecomb-adam/1', ...adam.s, slots }, null, 1));
  }

  const full: TrainState = {
    format: STATE_FORMAT,
    ...state,
    level: Math.log2(state.resolution),
    configHash: configHash(cfg),
    config: { model: modelIdentity(cfg) },
    identities: cfg.model.identities,
    batch: cfg.schedule.batch,
    savedAt,
  };
  await writeFile(join(tmp, 'state.json'), JSON.stringify(full, null, 1));
  const card: ModelCard = {
    format: CARD_FORMAT,
    config: cfg,
    resolution: state.resolution,
    level: full.level,
    alpha: state.alpha,
    step: state.step,
    identities: cfg.model.identities,
    engine: state.engine,
    parameters: model.parameterCount(state.resolution),
    savedAt,
  };
  await writeFile(join(tmp, 'card.json'), JSON.stringify(card, null, 1));
  await writeFile(join(tmp, 'metrics.jsonl'), metrics.length ? metrics.join('\n') + '\n' : '');

  const old = join(dirname(dir), `.${basename(dir)}.old-${process.pid}`);
  await rm(old, { recursive: true, force: true });
  const had = await exists(dir);
  if (had) await rename(dir, old);
  await rename(tmp, dir);
  if (had) await rm(old, { recursive: true, force: true });
}

/** The checkpoint folder to load: `dir`, or a leftover of an interrupted replace. Null when none. */
export async function findCheckpoint(dir: string): Promise<string | null> {
  if (await exists(join(dir, 'state.json'))) return dir;
  const parent = dirname(dir);
  const names = await readdir(parent).catch(() => [] as string[]);
  for (const n of names) {
    if (n.startsWith(`.${basename(dir)}.old-`) && (await exists(join(parent, n, 'state.json')))) return join(parent, n);
  }
  return null;
}

async function readJson<T>(file: string): Promise<T> {
  const text = await readFile(file, 'utf8').catch((e: Error) => {
    throw new Error(`checkpoint file ${file} cannot be read: ${e.message}`);
  });
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`checkpoint file ${file} is not valid JSON (${(e as Error).message}); delete the checkpoint folder to start over`);
  }
}

export async function readState(dir: string): Promise<TrainState> {
  const st = await readJson<TrainState>(join(dir, 'state.json'));
  if (st.format !== STATE_FORMAT) throw new Error(`${join(dir, 'state.json')} has format ${st.format}, expected ${STATE_FORMAT}`);
  return st;
}

/**
 * Throws a clear error when the checkpoint holds another model: its identity is the config's `model` part (the
 * architecture and decoder order); the schedule, optimizer, loss, augmentation and run settings may change.
 */
export function checkCompatible(dir: string, st: Pick<TrainState, 'config'>, cfg: Pick<TrainConfig, 'model'>): void {
  const d = configDiff(storedModel(st.config), modelIdentity(cfg));
  if (d) {
    throw new Error(
      `checkpoint ${dir} was made with another config: '${d.field}' is ${JSON.stringify(d.a)} there but ${JSON.stringify(d.b)} now; ` +
        `use the same model params to resume, or delete that checkpoint folder to train from scratch`,
    );
  }
}

function floats(buf: Buffer, offset: number, length: number, file: string): Float32Array {
  if (offset + length * 4 > buf.length) throw new Error(`checkpoint file ${file} is truncated (needs ${offset + length * 4} bytes, has ${buf.length})`);
  const out = new Float32Array(length);
  Buffer.from(out.buffer).set(buf.subarray(offset, offset + length * 4));
  return out;
}

/** Loads weights (and the optimizer, when given) from a checkpoint folder into the model. */
export async function loadCheckpoint(dir: string, model: CombModel, adam: Adam | null): Promise<TrainState> {
  const st = await readState(dir);
  checkCompatible(dir, st, model.cfg);
  const wj = await readJson<{ format: string; tensors: TensorEntry[] }>(join(dir, 'weights.json'));
  if (wj.format !== WEIGHTS_FORMAT) throw new Error(`${join(dir, 'weights.json')} has format ${wj.format}, expected ${WEIGHTS_FORMAT}`);
  const wfile = join(dir, 'weights.bin');
  const wbin = await readFile(wfile);
  model.build(st.resolution);
  for (const e of wj.tensors) model.setValue(e.name, e.kind, e.shape, floats(wbin, e.offset, e.length, wfile));
  if (adam) {
    const oj = await readJson<{ slots: SlotEntry[] }>(join(dir, 'optimizer.json'));
    const ofile = join(dir, 'optimizer.bin');
    const obin = await readFile(ofile);
    for (const s of oj.slots) adam.setSlot(s.name, s.shape, floats(obin, s.offsetM, s.length, ofile), floats(obin, s.offsetV, s.length, ofile), s.t);
  }
  return st;
}

/** Reads a model card. */
export async function readCard(dir: string): Promise<ModelCard> {
  const card = await readJson<ModelCard>(join(dir, 'card.json'));
  if (card.format !== CARD_FORMAT) throw new Error(`${join(dir, 'card.json')} has format ${card.format}, expected ${CARD_FORMAT}`);
  return card;
}

export async function readMetrics(dir: string): Promise<string[]> {
  const text = await readFile(join(dir, 'metrics.jsonl'), 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** The folder name of the snapshot of a step: step-000250. */
export const snapshotName = (step: number): string => `step-${String(step).padStart(6, '0')}`;
const SNAPSHOT = /^step-(\d{6,})$/;

/** The steps of the complete snapshots under `root` (a folder with state.json), oldest first. */
export async function snapshotSteps(root: string): Promise<number[]> {
  const steps: number[] = [];
  for (const n of await readdir(root).catch(() => [] as string[])) {
    const m = SNAPSHOT.exec(n);
    if (m && (await exists(join(root, n, 'state.json')))) steps.push(Number(m[1]));
  }
  return steps.sort((a, b) => a - b);
}

/**
 * Keeps the newest `keep` snapshots under `root`, removing the oldest. Each snapshot is written atomically
 * first (saveCheckpoint), so a crash leaves at most one extra, which the next prune removes.
 */
export async function pruneSnapshots(root: string, keep: number): Promise<void> {
  const steps = await snapshotSteps(root);
  for (const s of steps.slice(0, Math.max(0, steps.length - keep))) await rm(join(root, snapshotName(s)), { recursive: true, force: true });
}

/** Saves the snapshot of `step` under `root` through `save` (atomic), then prunes to the newest `keep`. */
export async function keepSnapshot(root: string, step: number, keep: number, save: (dir: string) => Promise<void>): Promise<void> {
  await save(join(root, snapshotName(step)));
  await pruneSnapshots(root, keep);
}

/** Hard-links (copies across filesystems) the snapshots under `from` into `to`: the resume folder's into the artifact. */
export async function linkSnapshots(from: string, to: string): Promise<void> {
  for (const s of await snapshotSteps(from)) {
    const src = join(from, snapshotName(s));
    const dest = join(to, snapshotName(s));
    await mkdir(dest, { recursive: true });
    for (const f of await readdir(src)) await link(join(src, f), join(dest, f)).catch(() => copyFile(join(src, f), join(dest, f)));
  }
}

/**
 * The model folder of a train artifact to render from: model/ (the last step), or, with `step`, the snapshot
 * of that step (checkpoints/step-NNNNNN, kept by `keepCheckpoints`); a clear error lists the steps there are.
 */
export async function modelAtStep(trainDir: string, step?: unknown): Promise<string> {
  const model = join(trainDir, 'model');
  if (step === undefined || step === null) return model;
  const last = (await readState(model)).step;
  if (step === last) return model;
  const kept = await snapshotSteps(join(trainDir, 'checkpoints'));
  if (typeof step === 'number' && kept.includes(step)) return join(trainDir, 'checkpoints', snapshotName(step));
  throw new Error(
    `swap param 'step' = ${JSON.stringify(step)}: the train stage has no snapshot of that step; it has ${kept.length ? `steps ${kept.join(', ')} (checkpoints/) and ` : ''}` +
      `${last} (the final model)${kept.length ? '' : ": it kept no snapshots (train param 'keepCheckpoints')"}`,
  );
}
