/**
 * Dynamic loss scaling for f16 training on webgpu, kept entirely on the GPU (no GPU->CPU read per step):
 * the loss is multiplied by `scale` before the gradient (so small gradients do not flush to zero in f16), each
 * gradient is checked (several per dispatch) for any non-finite value, which raises a flag, the fused Adam divides by
 * `scale` and skips every update of a flagged step, and one last dispatch updates the scale: halve it (and
 * count a skipped step) when flagged, double it after `growthInterval` good steps in a row (as torch's
 * GradScaler: backoff 0.5, growth 2). Variables stay f32 (master weights); the scale lives in a GPU tensor.
 */
import { tf } from '../tf.js';
import { dispatchInPlace, FLAT_INDEX, MAIN } from './dispatch.js';
import { webgpuInternals } from './tfjs-internals.js';
import { bindingsSource, type Binding } from './program.js';

/** WGSL of the check of K gradients in one dispatch: invocation i tests element i - end[j-1] of gradient j. */
function checkSource(K: number): string {
  const bindings: Binding[] = [{ name: 'state', write: true, type: 'atomic<i32>' }, ...Array.from({ length: K }, (_, j) => ({ name: `g${j}` }))];
  // exponent bits all set: inf or NaN (tested on the bits: float comparisons may assume finite values)
  const body = Array.from({ length: K }, (_, j) => `  if (i < p.end[${j}].x) {
    if ((bitcast<u32>(g${j}[i - ${j === 0 ? '0u' : `p.end[${j - 1}].x`}]) & 0x7f800000u) == 0x7f800000u) { atomicOr(&state[0], 1); }
    return;
  }`);
  return /* wgsl */ `
struct Params { end: array<vec4<u32>, ${K}> };
${bindingsSource(bindings, 'Params')}
${MAIN} {
  ${FLAT_INDEX}
${body.join('\n')}
}
`;
}
const checks = new Map<number, string>();
/** Gradients per check dispatch: one storage buffer each, beside the state; more would lengthen the if-chain. */
const MAX_CHECK_GROUP = 8;

const UPDATE = /* wgsl */ `
struct Params { growthInterval: i32, minScale: f32, maxScale: f32, pad: f32 };
${bindingsSource([{ name: 'scale', write: true }, { name: 'state', write: true, type: 'i32' }], 'Params')}
${MAIN} {
  ${FLAT_INDEX}
  if (i > 0u) { return; }
  if (state[0] != 0) {
    scale[0] = max(scale[0] * 0.5, p.minScale);
    state[1] = 0;
    state[2] += 1;
  } else {
    state[1] += 1;
    if (state[1] >= p.growthInterval) { scale[0] = min(scale[0] * 2.0, p.maxScale); state[1] = 0; }
  }
  state[0] = 0;
}
`;

export interface LossScaleOptions {
  /** First scale (default 2^15). */
  initial?: number;
  /** Good steps in a row before the scale doubles (default 1000). */
  growthInterval?: number;
  /** Bounds of the scale (default 1 .. 2^24). */
  min?: number;
  max?: number;
}

export interface LossScaleState {
  scale: number;
  /** Good steps since the last change of the scale. */
  goodSteps: number;
  /** Steps skipped (non-finite gradient) since the scaler was made. */
  skipped: number;
}

export class LossScaler {
  /** The current scale, a float32 scalar (multiply the loss by it before taking the gradient). */
  readonly scale: tf.Variable;
  /** [non-finite flag of this step, good steps in a row, skipped steps] int32. */
  readonly state: tf.Variable;
  readonly growthInterval: number;
  private readonly params = new ArrayBuffer(16);

  constructor(o: LossScaleOptions = {}) {
    if (tf.getBackend() !== 'webgpu') throw new Error(`loss scaling runs on the webgpu engine (active: ${tf.getBackend()})`);
    this.growthInterval = o.growthInterval ?? 1000;
    const min = o.min ?? 1, max = o.max ?? 2 ** 24;
    const initial = o.initial ?? 2 ** 15;
    if (!(this.growthInterval >= 1 && min > 0 && min <= initial && initial <= max)) {
      throw new Error(`loss scale: need growthInterval >= 1 and 0 < min <= initial <= max (got ${this.growthInterval}, ${min}, ${initial}, ${max})`);
    }
    new Int32Array(this.params, 0, 1)[0] = this.growthInterval;
    new Float32Array(this.params, 4, 2).set([min, max]);
    [this.scale, this.state] = tf.tidy(() => [tf.variable(tf.scalar(initial), false), tf.variable(tf.tensor1d([0, 0, 0], 'int32'), false)]);
  }

  /** Raises this step's flag if g (float32) holds an inf or NaN. One dispatch; nothing is read back. */
  check(g: tf.Tensor): void {
    this.checkAll([g]);
  }

  /** Raises this step's flag if any of the gradients (float32) holds an inf or NaN: several per dispatch, no read. */
  checkAll(gs: tf.Tensor[]): void {
    for (const g of gs) if (g.dtype !== 'float32') throw new Error(`loss scale check: gradient of dtype ${g.dtype}`);
    const device = webgpuInternals().device;
    const K = Math.max(1, Math.min(MAX_CHECK_GROUP, device.limits.maxStorageBuffersPerShaderStage - 1));
    for (let at = 0; at < gs.length; at += K) {
      const group = gs.slice(at, at + K);
      let code = checks.get(group.length);
      if (!code) checks.set(group.length, (code = checkSource(group.length)));
      const end = new Uint32Array(4 * group.length);
      let n = 0;
      group.forEach((g, j) => { n += g.size; end[4 * j] = n; });
      dispatchInPlace(`lossscale_check_${group.length}`, code, [this.state, ...group], 1, end.buffer, n);
    }
  }

  /** Ends a step (after the Adam updates that read the flag): adjusts the scale and clears the flag. */
  update(): void {
    dispatchInPlace('lossscale_update', UPDATE, [this.scale, this.state], 2, this.params, 1);
  }

  /** Reads the scale and counters (a GPU->CPU transfer: for tests, checkpoints and logs, not per step). */
  async read(): Promise<LossScaleState> {
    const [s, st] = await Promise.all([this.scale.data(), this.state.data()]);
    return { scale: s[0], goodSteps: st[1], skipped: st[2] };
  }

  dispose(): void {
    this.scale.dispose();
    this.state.dispose();
  }
}
