/**
 * The masked SSIM (box window) + L1 reconstruction loss and its gradient w.r.t. the prediction y, fused on
 * the webgpu backend: 2 dispatches forward (per-workgroup partial sums of the SSIM map x window mask, |y-x| x
 * mask and both mask sums; then one workgroup adds them and forms the loss) and 2 backward (per window
 * position, the three coefficients of dS/d(mean y, mean y^2, mean xy), already scaled by the upstream gradient
 * and the normalisation; then per pixel, the sum over the windows covering it plus the L1 term). The composed
 * tf ops take dozens. The op and its reference: ops/ssim-l1-loss.ts.
 * All geometry is baked into the shaders as constants.
 */
import { tf } from '../tf.js';
import { webgpuInternals } from './tfjs-internals.js';
import { tfjsProgram256 as program } from './program.js';
import { flags } from '../flags.js';
import type { FusedLossSpec } from '../ops/ssim-l1-loss.js';

const WG = 256;
/** At most this many workgroups write partial sums (the final pass and the backward read them all). */
const MAX_GROUPS = 256;

interface Geo { B: number; H: number; W: number; C: number; K: number; HO: number; WO: number; NP: number; NW: number; G: number }

const f = (v: number) => (Number.isInteger(v) ? `${v}.0` : `${v}`);

function constants(g: Geo, s: FusedLossSpec): string {
  const n = s.norm;
  return `
const B = ${g.B}; const H = ${g.H}; const W = ${g.W}; const C = ${g.C}; const K = ${g.K}; const HO = ${g.HO}; const WO = ${g.WO};
const NP = ${g.NP}; const NW = ${g.NW}; const G = ${g.G}; const KK = ${f(g.K * g.K)};
const C1 = ${f(0.01 ** 2)}; const C2 = ${f(0.03 ** 2)}; const EPS = ${f(1e-6)};
const L1W = ${f(s.l1)}; const SW = ${f(s.ssim)}; const SHARE = ${f(n?.share ?? 1)};
const NORM_L1 = ${f(n ? n.l1 : -1)}; const NORM_S = ${f(n ? n.ssim : -1)};
`;
}

/**
 * Reads of the inputs as f32: a float32 tensor cast from bool or int32 keeps its int32 buffer on webgpu (tfjs's
 * Cast shares it) and tfjs binds it as array<i32>; f32() reads either.
 */
const READ = `
fn ya_(i: i32) -> f32 { return f32(ya[i]); }
fn xb_(i: i32) -> f32 { return f32(xb[i]); }
fn mk_(i: i32) -> f32 { return f32(mk[i]); }
`;

/** Window sums over the inputs ya (y), xb (x), mk (mask). */
const WINDOW = `
fn px(b: i32, h: i32, w: i32) -> i32 { return (b * H + h) * W + w; }
// the mask's window mean at window position (b, oh, ow)
fn windowMask(b: i32, oh: i32, ow: i32) -> f32 {
  var s = 0.0;
  for (var kh = 0; kh < K; kh++) { for (var kw = 0; kw < K; kw++) { s += mk_(px(b, oh + kh, ow + kw)); } }
  return s / KK;
}
// window means of y, x, y*y, x*x, y*x for channel c: (ma, mb, aa, bb) and ab
struct Stats { m: vec4<f32>, ab: f32 };
fn stats(b: i32, oh: i32, ow: i32, c: i32) -> Stats {
  var m = vec4<f32>(0.0); var ab = 0.0;
  for (var kh = 0; kh < K; kh++) {
    for (var kw = 0; kw < K; kw++) {
      let j = px(b, oh + kh, ow + kw) * C + c;
      let a = ya_(j); let v = xb_(j);
      m += vec4<f32>(a, v, a * a, v * v); ab += a * v;
    }
  }
  return Stats(m / KK, ab / KK);
}
`;

function partialSource(g: Geo, s: FusedLossSpec): string {
  return `${constants(g, s)}${READ}${WINDOW}
var<workgroup> red: array<vec4<f32>, ${WG}>;
fn main() {
  _ = uniforms.NAN;
  let lid = i32(localIndex);
  let wid = i32(workgroupId.x);
  var acc = vec4<f32>(0.0); // (sum wm * S, sum m * |y - x|, sum wm, sum m)
  for (var i = wid * ${WG} + lid; i < max(NP, NW); i += G * ${WG}) {
    if (i < NP) {
      let m = mk_(i);
      var d = 0.0;
      for (var c = 0; c < C; c++) { d += abs(ya_(i * C + c) - xb_(i * C + c)); }
      acc.y += m * d; acc.w += m;
    }
    if (i < NW) {
      let b = i / (HO * WO); let r = i % (HO * WO); let oh = r / WO; let ow = r % WO;
      let wm = windowMask(b, oh, ow);
      var sum = 0.0;
      for (var c = 0; c < C; c++) {
        let t = stats(b, oh, ow, c);
        let ma = t.m.x; let mb = t.m.y;
        let l = (ma * mb * 2.0 + C1) / (ma * ma + mb * mb + C1);
        let cs = ((t.ab - ma * mb) * 2.0 + C2) / ((t.m.z - ma * ma) + (t.m.w - mb * mb) + C2);
        sum += l * cs;
      }
      acc.x += wm * sum; acc.z += wm;
    }
  }
  ${REDUCE}
  if (lid == 0) {
    let t = red[0];
    result[wid * 4] = t.x; result[wid * 4 + 1] = t.y; result[wid * 4 + 2] = t.z; result[wid * 4 + 3] = t.w;
  }
}
`;
}

/** Tree sum of each thread's acc into red[0] (all WG threads reach it). */
const REDUCE = `red[lid] = acc;
  workgroupBarrier();
  for (var st = ${WG / 2}; st > 0; st = st / 2) {
    if (lid < st) { red[lid] += red[lid + st]; }
    workgroupBarrier();
  }`;

const DENOMS = `
fn denL1(t: vec4<f32>) -> f32 { if (NORM_L1 >= 0.0) { return NORM_L1 * f32(C) + EPS; } return t.w * f32(C) + EPS; }
fn denS(t: vec4<f32>) -> f32 { if (NORM_S >= 0.0) { return NORM_S * f32(C) + EPS; } return t.z * f32(C) + EPS; }
`;

function finalSource(g: Geo, s: FusedLossSpec): string {
  return `${constants(g, s)}${DENOMS}
var<workgroup> red: array<vec4<f32>, ${WG}>;
fn main() {
  _ = uniforms.NAN;
  let lid = i32(localIndex);
  var acc = vec4<f32>(0.0);
  for (var i = lid; i < G; i += ${WG}) { acc += vec4<f32>(part[i * 4], part[i * 4 + 1], part[i * 4 + 2], part[i * 4 + 3]); }
  ${REDUCE}
  if (lid == 0) {
    let t = red[0];
    var loss = 0.0;
    ${s.l1 > 0 ? 'loss += (t.y / denL1(t)) * L1W;' : ''}
    ${s.ssim > 0 ? 'loss += (SHARE - t.x / denS(t)) * (SW / 2.0);' : ''}
    result[0] = loss;
  }
}
`;
}

/** Per window position and channel: g * (dS/dma, dS/d mean(y^2), dS/d mean(xy)); the last slot: the L1 factor. */
function coefSource(g: Geo, s: FusedLossSpec): string {
  return `${constants(g, s)}${READ}${WINDOW}${DENOMS}
fn main() {
  _ = uniforms.NAN;
  let i = (i32(workgroupId.y) * ${Math.min(Math.ceil(g.NW / WG), 65535)} + i32(workgroupId.x)) * ${WG} + i32(localIndex);
  _ = mk[0]; // keeps the mask's binding when the SSIM weight is 0
  if (i >= NW) { return; }
  var t = vec4<f32>(0.0);
  for (var k = 0; k < G; k++) { t += vec4<f32>(part[k * 4], part[k * 4 + 1], part[k * 4 + 2], part[k * 4 + 3]); }
  let u = up[0];
  if (i == 0) { result[NW * C * 3] = ${s.l1 > 0 ? 'u * L1W / denL1(t)' : '0.0'}; }
  let b = i / (HO * WO); let r = i % (HO * WO); let oh = r / WO; let ow = r % WO;
  let gs = ${s.ssim > 0 ? '-u * (SW / 2.0) / denS(t) * windowMask(b, oh, ow) / KK' : '0.0'};
  for (var c = 0; c < C; c++) {
    let st = stats(b, oh, ow, c);
    let ma = st.m.x; let mb = st.m.y;
    let n1 = ma * mb * 2.0 + C1; let b1 = ma * ma + mb * mb + C1;
    let a2 = (st.ab - ma * mb) * 2.0 + C2; let b2 = (st.m.z - ma * ma) + (st.m.w - mb * mb) + C2;
    let l = n1 / b1; let cs = a2 / b2;
    let dl = (2.0 * mb - 2.0 * ma * l) / b1;
    let dcs = (2.0 * ma * cs - 2.0 * mb) / b2;
    let o = (i * C + c) * 3;
    result[o] = gs * (dl * cs + l * dcs);
    result[o + 1] = gs * (-l * cs / b2);
    result[o + 2] = gs * (2.0 * l / b2);
  }
}
`;
}

function gradSource(g: Geo, s: FusedLossSpec): string {
  return `${constants(g, s)}${READ}
fn main() {
  _ = uniforms.NAN;
  let i = (i32(workgroupId.y) * ${Math.min(Math.ceil((g.NP * g.C) / WG), 65535)} + i32(workgroupId.x)) * ${WG} + i32(localIndex);
  if (i >= NP * C) { return; }
  let c = i % C; let p = i / C; let b = p / (H * W); let r = p % (H * W); let h = r / W; let w = r % W;
  let yv = ya_(i); let xv = xb_(i);
  var d = cf[NW * C * 3] * mk_(p) * sign(yv - xv);
  for (var oh = max(0, h - K + 1); oh <= min(h, HO - 1); oh++) {
    for (var ow = max(0, w - K + 1); ow <= min(w, WO - 1); ow++) {
      let j = (((b * HO + oh) * WO + ow) * C + c) * 3;
      d += cf[j] + 2.0 * yv * cf[j + 1] + xv * cf[j + 2];
    }
  }
  result[i] = d;
}
`;
}

function geometry(y: tf.Tensor, x: tf.Tensor, mask: tf.Tensor, win: number): Geo | null {
  if (y.rank !== 4 || x.rank !== 4 || mask.rank !== 4) return null;
  if ([y, x, mask].some((t) => t.dtype !== 'float32')) return null;
  const [B, H, W, C] = y.shape;
  if (x.shape.join() !== y.shape.join() || mask.shape.join() !== [B, H, W, 1].join()) return null;
  const HO = H - win + 1, WO = W - win + 1;
  if (!Number.isInteger(win) || win < 1 || HO < 1 || WO < 1) return null;
  const NP = B * H * W, NW = B * HO * WO;
  return { B, H, W, C, K: win, HO, WO, NP, NW, G: Math.min(MAX_GROUPS, Math.ceil(Math.max(NP, NW) / WG)) };
}

function key(g: Geo, s: FusedLossSpec): string {
  const n = s.norm;
  return [g.B, g.H, g.W, g.C, g.K, s.l1, s.ssim, n ? `${n.l1}_${n.ssim}_${n.share}` : 'batch'].join('_');
}

/**
 * The loss (a scalar, differentiable w.r.t. y only: x and mask are data) on the fused kernels, or null (the op
 * runs its reference) when the flag fusedLoss is off or the inputs are not covered.
 */
export function webgpuSsimL1Loss(y: tf.Tensor4D, x: tf.Tensor4D, mask: tf.Tensor4D, spec: FusedLossSpec): tf.Scalar | null {
  if (!flags.fusedLoss) return null;
  const loss = fusedLoss(y, x, mask, spec);
  return loss && spec.extra ? (tf.add(loss, spec.extra) as tf.Scalar) : loss;
}

function fusedLoss(y: tf.Tensor4D, x: tf.Tensor4D, mask: tf.Tensor4D, spec: FusedLossSpec): tf.Scalar | null {
  const g = geometry(y, x, mask, spec.window);
  if (!g) return null;
  const be = webgpuInternals();
  const k = key(g, spec);
  const make = (info: tf.TensorInfo) => tf.engine().makeTensorFromTensorInfo(info);
  const fn = tf.customGrad(((yy: tf.Tensor, save: (ts: tf.Tensor[]) => void) => {
    const part = make(be.runWebGPUProgram(program(`ssimloss_part_${k}`, ['ya', 'xb', 'mk'], [g.G, 4], g.G, partialSource(g, spec)),
      [yy, x, mask], 'float32'));
    const out = make(be.runWebGPUProgram(program(`ssimloss_final_${k}`, ['part'], [1], 1, finalSource(g, spec)), [part], 'float32'));
    const value = tf.reshape(out, []) as tf.Scalar;
    out.dispose();
    save([yy, part]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [ys, ps] = saved;
      const coef = make(be.runWebGPUProgram(program(`ssimloss_coef_${k}`, ['ya', 'xb', 'mk', 'part', 'up'], [g.NW * g.C * 3 + 1],
        Math.ceil(g.NW / WG), coefSource(g, spec)), [ys, x, mask, ps, dy], 'float32'));
      const grad = make(be.runWebGPUProgram(program(`ssimloss_grad_${k}`, ['ya', 'xb', 'mk', 'cf'], ys.shape,
        Math.ceil((g.NP * g.C) / WG), gradSource(g, spec)), [ys, x, mask, coef], 'float32'));
      coef.dispose();
      return [grad];
    };
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return fn(y) as tf.Scalar;
}
