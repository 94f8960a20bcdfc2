/**
 * Fused Adam on the webgpu backend: one dispatch per variable updates w, m and v in place (torch.optim.Adam:
 * bias-corrected, eps outside the square root), where tf ops take about a dozen dispatches and three new
 * buffers. With a loss scaler (loss-scale.ts, f16 training) the gradient is divided by the scale on the GPU
 * and the update is skipped when the scaler's check flagged a non-finite gradient in this step; a skipped step
 * does not count for the bias correction (as torch's GradScaler skips optimizer.step): the variable's `skips`
 * counter (on the GPU) is subtracted from the step number the CPU passes.
 */
import { tf } from '../tf.js';
import { dispatchInPlace, FLAT_INDEX, MAIN } from './dispatch.js';
import type { LossScaler } from './loss-scale.js';

function wgsl(scaled: boolean): string {
  return /* wgsl */ `
struct Params { lr: f32, beta1: f32, beta2: f32, eps: f32, bc1: f32, sqrtBc2: f32, n: u32, t: u32 };
@group(0) @binding(0) var<storage, read_write> w: array<f32>;
@group(0) @binding(1) var<storage, read_write> m: array<f32>;
@group(0) @binding(2) var<storage, read_write> v: array<f32>;
${scaled ? `@group(0) @binding(3) var<storage, read_write> skips: array<i32>;
@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read> scale: array<f32>;
@group(0) @binding(6) var<storage, read> state: array<i32>;` : '@group(0) @binding(3) var<storage, read> g: array<f32>;'}
@group(0) @binding(${scaled ? 7 : 4}) var<uniform> p: Params;
${MAIN} {
  ${FLAT_INDEX}
  if (i >= p.n) { return; }
  ${scaled ? `// a non-finite gradient somewhere in this step: skip it (no thread reads skips in such a step)
  if (state[0] != 0) {
    if (i == 0u) { skips[0] += 1; }
    return;
  }
  let gi = g[i] / scale[0];
  let t = f32(i32(p.t) - skips[0]);
  let bc1 = 1.0 - pow(p.beta1, t);
  let sqrtBc2 = sqrt(1.0 - pow(p.beta2, t));` : `let gi = g[i];
  let bc1 = p.bc1;
  let sqrtBc2 = p.sqrtBc2;`}
  let mi = p.beta1 * m[i] + (1.0 - p.beta1) * gi;
  let vi = p.beta2 * v[i] + (1.0 - p.beta2) * gi * gi;
  m[i] = mi;
  v[i] = vi;
  w[i] = w[i] - (p.lr / bc1) * (mi / (sqrt(vi) / sqrtBc2 + p.eps));
}
`;
}
const CODE = { plain: wgsl(false), scaled: wgsl(true) };

let enabled = true;
let dispatched = 0;

/** Dispatches recorded by webgpuAdamStep so far (they bypass tfjs's runWebGPUProgram; for profiles). */
export function webgpuAdamDispatches(): number {
  return dispatched;
}

/** Turns the fused Adam off (callers fall back to tf ops), for before/after benchmarks; see useWebgpuKernels. */
export function setWebgpuAdam(on: boolean): void {
  enabled = on;
}

export interface AdamHyper { lr: number; beta1: number; beta2: number; epsilon: number }

/** Loss scaling for webgpuAdamStep: the scaler, and the variable's count of skipped steps (int32 [1], starts at 0). */
export interface ScaledStep { scaler: LossScaler; skips: tf.Variable }

/**
 * w, m, v (variables) <- one Adam step with gradient g at step t (1-based); with `scaled`, g is the gradient
 * times the scaler's scale, the step is skipped on the GPU when the scaler flagged it (then skips += 1), and the
 * bias correction uses t - skips. Returns false
 * (nothing done) when the active backend is not webgpu or a tensor is not float32 of the same size: the
 * caller then runs its tf-ops Adam.
 */
export function webgpuAdamStep(w: tf.Variable, m: tf.Variable, v: tf.Variable, g: tf.Tensor, t: number, h: AdamHyper, scaled?: ScaledStep): boolean {
  if (!enabled || tf.getBackend() !== 'webgpu') return false;
  if ([w, m, v, g].some((x) => x.dtype !== 'float32' || x.size !== w.size)) return false;
  const params = new ArrayBuffer(32);
  new Float32Array(params, 0, 6).set([h.lr, h.beta1, h.beta2, h.epsilon, 1 - h.beta1 ** t, Math.sqrt(1 - h.beta2 ** t)]);
  new Uint32Array(params, 24, 2).set([w.size, t]);
  if (scaled) dispatchInPlace('adam_scaled', CODE.scaled, [w, m, v, scaled.skips, g, scaled.scaler.scale, scaled.scaler.state], 4, params, w.size);
  else dispatchInPlace('adam', CODE.plain, [w, m, v, g], 3, params, w.size);
  dispatched++;
  return true;
}
