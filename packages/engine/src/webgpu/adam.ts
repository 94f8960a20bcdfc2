/**
 * Fused Adam on the webgpu backend: one dispatch updates w, m and v of several variables in place
 * (torch.optim.Adam: bias-corrected, eps outside the square root), where tf ops take about a dozen dispatches
 * and three new buffers per variable. With a loss scaler (loss-scale.ts, f16 training) the gradient is divided by the scale on the GPU
 * and the update is skipped when the scaler's check flagged a non-finite gradient in this step; a skipped step
 * does not count for the bias correction (as torch's GradScaler skips optimizer.step): the variable's `skips`
 * counter (on the GPU) is subtracted from the step number the CPU passes.
 */
import { tf } from '../tf.js';
import { dispatchInPlace, FLAT_INDEX, MAIN } from './dispatch.js';
import { webgpuInternals } from './tfjs-internals.js';
import { bindingsSource, type Binding } from './program.js';
import type { LossScaler } from './loss-scale.js';
import { flags } from '../flags.js';
import type { AdamHyper, AdamItem } from '../ops/adam.js';

export type { AdamHyper, AdamItem } from '../ops/adam.js';

/**
 * WGSL of one Adam step over K variables in one dispatch: invocation i updates element i - start[j] of the
 * variable j whose range [start, end) holds i. Bindings: w, m, v of each variable (written), then with `scaled`
 * each one's skips (written), then each g (read), then with `scaled` the scaler's scale and state, then the
 * uniform. K is bound by the device's storage buffers per shader stage.
 */
function wgsl(K: number, scaled: boolean): string {
  const each = (f: (j: number) => Binding[]) => Array.from({ length: K }, (_, j) => f(j)).flat();
  const bindings: Binding[] = [
    ...each((j) => ['w', 'm', 'v'].map((n) => ({ name: `${n}${j}`, write: true }))),
    ...(scaled ? each((j) => [{ name: `skips${j}`, write: true, type: 'i32' }]) : []),
    ...each((j) => [{ name: `g${j}` }]),
    ...(scaled ? [{ name: 'scale' }, { name: 'state', type: 'i32' }] : []),
  ];
  const body = (j: number) => `  if (i >= p.range[${j}].x && i < p.range[${j}].y) {
    let k = i - p.range[${j}].x;
    ${scaled ? `// a non-finite gradient somewhere in this step: skip it (no invocation reads skips in such a step)
    if (state[0] != 0) {
      if (k == 0u) { skips${j}[0] += 1; }
      return;
    }
    let gi = g${j}[k] / scale[0];
    let t = f32(i32(p.range[${j}].z) - skips${j}[0]);
    let lrBc1 = p.hyper[${j}].x / (1.0 - pow(p.beta1, t));
    let sqrtBc2 = sqrt(1.0 - pow(p.beta2, t));` : `let gi = g${j}[k];
    let lrBc1 = p.hyper[${j}].x;
    let sqrtBc2 = p.hyper[${j}].y;`}
    let mi = p.beta1 * m${j}[k] + (1.0 - p.beta1) * gi;
    let vi = p.beta2 * v${j}[k] + (1.0 - p.beta2) * gi * gi;
    m${j}[k] = mi;
    v${j}[k] = vi;
    w${j}[k] = w${j}[k] - lrBc1 * (mi / (sqrt(vi) / sqrtBc2 + p.eps));
    return;
  }`;
  return /* wgsl */ `
// hyper[j]: (lr / bias correction 1, sqrt(bias correction 2)) or, scaled, (lr, -); range[j]: (start, end, t)
struct Params { beta1: f32, beta2: f32, eps: f32, pad: f32, hyper: array<vec4<f32>, ${K}>, range: array<vec4<u32>, ${K}> };
${bindingsSource(bindings, 'Params')}
${MAIN} {
  ${FLAT_INDEX}
${Array.from({ length: K }, (_, j) => body(j)).join('\n')}
}
`;
}

/** Variables per dispatch: each takes 3 (+1 scaled) written and 1 read storage buffer; scaled adds 2 shared. */
export function adamGroupSize(maxStorageBuffers: number, scaled: boolean): number {
  return Math.max(1, Math.min(MAX_GROUP, Math.floor((maxStorageBuffers - (scaled ? 2 : 0)) / (scaled ? 5 : 4))));
}
/** More variables per dispatch would only lengthen the if-chain each invocation walks. */
const MAX_GROUP = 8;
const codes = new Map<string, string>();

let dispatched = 0;

/** Dispatches recorded by webgpuAdamStep so far (they bypass tfjs's runWebGPUProgram; for profiles). */
export function webgpuAdamDispatches(): number {
  return dispatched;
}


/** Loss scaling for webgpuAdamStep: the scaler, and the variable's count of skipped steps (int32 [1], starts at 0). */
export interface ScaledStep { scaler: LossScaler; skips: tf.Variable }

/**
 * Adam steps of many variables in few dispatches (as many variables per dispatch as the device's storage-buffer
 * bindings allow: 4 on lavapipe's 16, more on a GPU's 32+). With `scaler`, every item's g is its gradient times
 * the scaler's scale and has its `skips` counter: a step the scaler flagged is skipped on the GPU (skips += 1) and
 * the bias correction uses t - skips. Returns false (nothing done) when the flag fusedAdam is off, the active
 * backend is not webgpu or a tensor is not float32 of its variable's size (the op adamSteps then runs its reference).
 */
export function webgpuAdamSteps(items: AdamItem[], h: AdamHyper, scaler?: LossScaler): boolean {
  if (!flags.fusedAdam || tf.getBackend() !== 'webgpu') return false;
  if (items.some((it) => [it.w, it.m, it.v, it.g].some((x) => x.dtype !== 'float32' || x.size !== it.w.size))) return false;
  if (scaler && items.some((it) => !it.skips)) throw new Error('webgpuAdamSteps: a loss-scaled step needs each variable\'s skips counter');
  const device = webgpuInternals().device;
  const K = adamGroupSize(device.limits.maxStorageBuffersPerShaderStage, !!scaler);
  for (let at = 0; at < items.length; at += K) {
    const group = items.slice(at, at + K);
    const k = group.length;
    const key = `adam${scaler ? '_scaled' : ''}_${k}`;
    let code = codes.get(key);
    if (!code) codes.set(key, (code = wgsl(k, !!scaler)));
    const params = new ArrayBuffer(16 + 32 * k);
    new Float32Array(params, 0, 3).set([h.beta1, h.beta2, h.epsilon]);
    const hyper = new Float32Array(params, 16, 4 * k);
    const range = new Uint32Array(params, 16 + 16 * k, 4 * k);
    let start = 0;
    group.forEach((it, j) => {
      hyper.set(scaler ? [h.lr, 0] : [h.lr / (1 - h.beta1 ** it.t), Math.sqrt(1 - h.beta2 ** it.t)], 4 * j);
      range.set([start, start + it.w.size, it.t], 4 * j);
      start += it.w.size;
    });
    const written = group.flatMap((it) => [it.w, it.m, it.v]);
    const tensors = scaler
      ? [...written, ...group.map((it) => it.skips!), ...group.map((it) => it.g), scaler.scale, scaler.state]
      : [...written, ...group.map((it) => it.g)];
    dispatchInPlace(key, code, tensors, scaler ? 4 * k : 3 * k, params, start);
    dispatched++;
  }
  return true;
}

/**
 * w, m, v (variables) <- one Adam step with gradient g at step t (1-based); with `scaled`, g is the gradient
 * times the scaler's scale, the step is skipped on the GPU when the scaler flagged it (then skips += 1), and the
 * bias correction uses t - skips. False when webgpuAdamSteps would be (see there).
 */
export function webgpuAdamStep(w: tf.Variable, m: tf.Variable, v: tf.Variable, g: tf.Tensor, t: number, h: AdamHyper, scaled?: ScaledStep): boolean {
  return webgpuAdamSteps([{ w, m, v, g, t, skips: scaled?.skips }], h, scaled?.scaler);
}
