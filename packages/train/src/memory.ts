/**
 * Memory of one training step, estimated from the config alone, and the batch size each level can afford on an
 * engine with a hard memory limit (wasm32: its linear memory cannot grow past 4 GiB; running out aborts the
 * process deep into a run). The estimate is a count of float32 elements from the model's build plan
 * (build-plan.ts, what CombModel builds from):
 *
 * - weights of every variable built up to the resolution, Adam's two moments for each of them;
 * - the gradients of the variables one step trains (encoder + one decoder);
 * - activations: the tensors of the forward pass (the plan's count, exact: tested against the model's real
 *   tensors), the batch and the loss's maps; while the gradients are taken tfjs also keeps each op's inner
 *   tensors and the backward pass's (a gradient per forward tensor, more where an op has two inputs):
 *   `ACTIVATION_COPIES` times those values per image, times the batch;
 * - Adam's temporaries for the largest variable.
 *
 * That sum is what `tf.memory().numBytes` peaks at during a step (checked in the tests). The wasm engine needs
 * more than its tensors: XNNPACK keeps a packed copy of every convolution filter it has run, the
 * filter-gradient kernel transposes its input and output gradient and has them packed (about three copies of
 * the largest activation), and the allocator leaves gaps; `WASM_HEAP_FACTOR` covers the gaps (measured on the
 * real model, see bench/train/RESULTS.md).
 *
 * Measured on the real model (bench/train, wasm, 3 identities, 3 steps; bench/train/RESULTS.md).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { engineInfo } from '@facecomb/engine';
import { ConfigError, levels, type TrainConfig } from './config.js';
import { forwardValues, parameterCount } from './build-plan.js';
import { usesMsSsim } from './loss.js';

const F32 = 4;

/**
 * Tensors alive at the peak of a step, as a multiple of the forward pass's values: the op's inner tensors the
 * gradient tape keeps (about 2.9x the forward values of a small model) and the backward pass's. Fitted to the
 * peak tensor memory of real steps of the real model (tf.profile, wasm, 64 px batch 8 and 128 px batch 4: 3197
 * and 3518 MiB, estimated 3157 and 3573) on top of weights, moments and gradients.
 */
export const ACTIVATION_COPIES = 4.6;

/**
 * Heap needed on wasm = (tensors + packed filters + kernel temporaries) * this factor: a margin for allocator
 * gaps, the heap's growth step and what the count misses (the measured heap was 0.99-1.00 times the estimate
 * before this factor at 64 and 128 px). 128 px at batch 4 measured 4079 MiB of the 4096: one step from abort.
 */
export const WASM_HEAP_FACTOR = 1.05;

/** wasm32 addresses at most 2^32 bytes; used when the engine's binary cannot be read. */
export const WASM32_MAX_BYTES = 2 ** 32;

export interface StepMemory {
  resolution: number;
  batch: number;
  /** Whether the estimate is for a fade-in step (the lower level's paths run too). */
  fading: boolean;
  /** Values of every variable built up to this resolution (all decoders). */
  parameters: number;
  /** Values trained by one step (encoder + one decoder). */
  trainedParameters: number;
  /** Bytes: weights + Adam moments of every variable. */
  weightBytes: number;
  optimizerBytes: number;
  /** Bytes of the trained variables' gradients plus Adam's temporaries. */
  gradientBytes: number;
  /** Bytes of forward activations and the backward pass's tensors, for the whole batch. */
  activationBytes: number;
  /** Activation values per image of the forward pass. */
  activationsPerImage: number;
  /** Peak bytes of tensors during a step (what tf.memory().numBytes reaches). */
  tensorBytes: number;
  /** Bytes the wasm heap needs (tensors, XNNPACK packed filters, kernel temporaries, allocator slack). */
  heapBytes: number;
}

/** Values per image of the step's tensors: the model's forward pass (the build plan's, exact), the batch and the loss. */
function stepValues(cfg: TrainConfig, r: number, fading: boolean): { total: number; largest: number } {
  const model = forwardValues(cfg, r, fading);
  // loss: L1 (3 maps) + SSIM (about 30 maps of the image's size: means, variances, covariance, l, cs);
  // MS-SSIM adds the coarser scales (1/4 + 1/16 + ... of that)
  const ssimMaps = cfg.loss.ssim > 0 ? (usesMsSsim(cfg.loss, r) ? 40 : 30) : 0;
  const loss = r * r * 3 * (3 + ssimMaps);
  return { total: model.total + r * r * 4 + loss, largest: Math.max(model.largest, r * r * 4, r * r * 3) };
}

/** Estimated memory of one training step at resolution r with the given batch (see the file header). */
export function estimateStepMemory(cfg: TrainConfig, r: number, batch: number, opts: { fading?: boolean } = {}): StepMemory {
  const fading = opts.fading ?? r > cfg.model.startResolution;
  const n = parameterCount(cfg, r, fading);
  const fwd = stepValues(cfg, r, fading);
  const weightBytes = n.params * F32;
  const optimizerBytes = 2 * n.params * F32;
  const gradientBytes = (n.trained + 8 * n.largest) * F32;
  const activationBytes = ACTIVATION_COPIES * fwd.total * batch * F32;
  const tensorBytes = weightBytes + optimizerBytes + gradientBytes + activationBytes;
  const packedFilters = n.params * F32;
  const kernelTemps = 3 * fwd.largest * batch * F32;
  return {
    resolution: r,
    batch,
    fading,
    parameters: n.params,
    trainedParameters: n.trained,
    weightBytes,
    optimizerBytes,
    gradientBytes,
    activationBytes,
    activationsPerImage: fwd.total,
    tensorBytes,
    heapBytes: Math.round((tensorBytes + packedFilters + kernelTemps) * WASM_HEAP_FACTOR),
  };
}

/** Reads the maximum of a wasm binary's linear memory (defined or imported), in bytes; null if it has none. */
export function wasmMemoryMaximum(bin: Uint8Array): number | null {
  if (bin.length < 8 || bin[0] !== 0 || bin[1] !== 0x61 || bin[2] !== 0x73 || bin[3] !== 0x6d) throw new Error('not a wasm binary');
  let p = 8;
  const leb = () => {
    let v = 0;
    let scale = 1;
    let b: number;
    do {
      b = bin[p++];
      v += (b & 0x7f) * scale;
      scale *= 128;
    } while (b & 0x80);
    return v;
  };
  const skipName = () => {
    const len = leb();
    p += len;
  };
  const limits = () => {
    const flags = bin[p++];
    leb();
    return flags & 1 ? leb() : null;
  };
  const memory64 = (flags: number) => (flags & 4) !== 0;
  while (p < bin.length) {
    const id = bin[p++];
    const size = leb();
    const end = p + size;
    if (id === 2) {
      const count = leb();
      for (let i = 0; i < count; i++) {
        skipName();
        skipName();
        const kind = bin[p++];
        if (kind === 0) leb(); // function: type index
        else if (kind === 1) {
          p++; // table: element type
          limits();
        } else if (kind === 2) {
          if (memory64(bin[p])) return null;
          const max = limits();
          return max === null ? null : max * 65536;
        } else if (kind === 3) p += 2; // global: value type, mutability
        else return null;
      }
    } else if (id === 5) {
      const count = leb();
      if (count > 0) {
        if (memory64(bin[p])) return null;
        const max = limits();
        return max === null ? null : max * 65536;
      }
    }
    p = end;
  }
  return null;
}

/**
 * The hard memory limit of an engine in bytes, or null when it has none it can report. wasm: the maximum of the
 * linear memory declared by the tfjs wasm binary in use (4 GiB for wasm32), read from the file; 4 GiB when the
 * file cannot be read. Native and GPU engines report none (the OS or driver reports running out).
 */
export async function engineMemoryLimit(engine: string): Promise<number | null> {
  if (engine !== 'wasm') return null;
  const info = engineInfo();
  const dir = info?.name === 'wasm' ? (info.details.wasmDir as string | undefined) : undefined;
  if (!dir) return WASM32_MAX_BYTES;
  const file = join(dir, info?.details.simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm');
  try {
    return Math.min(wasmMemoryMaximum(await readFile(file)) ?? WASM32_MAX_BYTES, WASM32_MAX_BYTES);
  } catch {
    return WASM32_MAX_BYTES;
  }
}

/** Binary gigabytes with up to two decimals ("5.1 GiB", "4.02 GiB", "4 GiB"), or megabytes below 1 GiB. */
export function formatBytes(n: number): string {
  if (n < 2 ** 30) return `${Math.round(n / 2 ** 20)} MiB`;
  return `${(n / 2 ** 30).toFixed(2).replace(/\.?0+$/, '')} GiB`;
}

/** Resolutions whose batch the stage params set (a number sets every level; a map its keys). */
export function explicitBatches(params: Record<string, unknown>): Set<number> | 'all' {
  const b = params.batch;
  if (b === undefined || b === null) return new Set();
  if (typeof b === 'number') return 'all';
  return new Set(Object.keys(b as object).map(Number));
}

export class MemoryLimitError extends ConfigError {}

export interface LevelBatch {
  resolution: number;
  /** Batch trained at this level. */
  batch: number;
  /** The configured batch (the default or the param). */
  requested: number;
  explicit: boolean;
  /** Estimate at `batch`. */
  estimate: StepMemory;
  /** Estimate at `requested`. */
  requestedEstimate: StepMemory;
  /** One log line (the estimate, and the change when the batch was lowered). */
  note: string;
}

export interface BatchPlan {
  /** The config with the batches trained (defaults lowered to fit). */
  config: TrainConfig;
  levels: LevelBatch[];
  engine: string;
  /** Hard memory limit in bytes, null when the engine has none. */
  limit: number | null;
}

/**
 * Checks every level's batch against the engine's memory limit. A default batch that does not fit is lowered
 * to the largest that does; a batch the params set (`with.batch`) that does not fit, or a level where not even
 * batch 1 fits, is a MemoryLimitError naming the param, the estimate, the limit and what to do.
 */
export function planBatches(cfg: TrainConfig, explicit: Set<number> | 'all', engine: string, limit: number | null): BatchPlan {
  const out: LevelBatch[] = [];
  const batch: Record<string, number> = { ...cfg.schedule.batch };
  const limitText = limit === null ? '' : `${formatBytes(limit)} ${engine} heap`;
  const fix = `use --backend webgpu or --backend tensorflow (no such limit)`;
  for (const r of levels(cfg)) {
    const requested = cfg.schedule.batch[String(r)];
    const isExplicit = explicit === 'all' || explicit.has(r);
    const est = (b: number) => estimateStepMemory(cfg, r, b);
    const reqEst = est(requested);
    let chosen = requested;
    if (limit !== null && reqEst.heapBytes > limit) {
      while (chosen > 1 && est(chosen).heapBytes > limit) chosen--;
      const fits = est(chosen).heapBytes <= limit;
      if (isExplicit || !fits) {
        const what = isExplicit ? `train param 'with.batch' at ${r} px = ${requested}` : `the default batch at ${r} px (${requested})`;
        const lower = fits
          ? `set with.batch to {"${r}": ${chosen}} or less, or `
          : `not even batch 1 fits (${formatBytes(est(1).heapBytes)}): lower 'resolution' below ${r}, or `;
        throw new MemoryLimitError(
          `${what} needs an estimated ${formatBytes(reqEst.heapBytes)} per training step, more than the ${limitText}: ${lower}${fix}`,
        );
      }
    }
    batch[String(r)] = chosen;
    const chosenEst = est(chosen);
    const note =
      chosen !== requested
        ? `${engine}: batch ${requested} -> ${chosen} at ${r} px (estimated ${formatBytes(reqEst.heapBytes)} > ${limitText}; ${formatBytes(chosenEst.heapBytes)} at batch ${chosen})`
        : `${r} px, batch ${chosen}: estimated ${formatBytes(limit === null ? chosenEst.tensorBytes : chosenEst.heapBytes)} per training step${limit === null ? '' : ` of the ${limitText}`}`;
    out.push({ resolution: r, batch: chosen, requested, explicit: isExplicit, estimate: chosenEst, requestedEstimate: reqEst, note });
  }
  return { config: { ...cfg, schedule: { ...cfg.schedule, batch } }, levels: out, engine, limit };
}
