/**
 * When and how the subgroup-matrix GEMMs (subgroup-matrix.ts) run. Off until `initSubgroupMatrix()` turned them
 * on: it needs the adapter's chromium-experimental-subgroup-matrix feature on the device with an f16 x f16 -> f32
 * configuration, compiles the kernel (both spellings of the builtins), then validates it against our f32 kernels
 * on a small random conv (forward and, when asked for, both gradients; relative error < 1e-2). Any failure
 * leaves our f32 kernels in place and says why in one log line. The dispatches are recorded straight into
 * tfjs's open compute pass (tfjs's program wrapper cannot emit the `enable` directives), in order with tfjs's
 * own, and timed like tfjs's when a profile is running.
 */
import { tf } from '../tf.js';
import { relError } from '../compare.js';
import { adapterFacts, type SubgroupMatrixConfig } from './features.js';
import { flags } from '../flags.js';
import { epilogueKey, type Epilogue, type GemmSpec } from './gemm.js';
import { pickSmxConfig, smxSource, smxTiling, smxWorkgroupBytes, SMX_FEATURE, SMX_SYNTAXES, type SmxMode, type SmxSyntax } from './subgroup-matrix.js';
import { forwardSpec, reducePartials, type WebgpuBackend } from './conv.js';
import { recordDispatch } from './dispatch.js';
import { webgpuInternals } from './tfjs-internals.js';

type TensorInfo = tf.TensorInfo;
/** Which of the three conv GEMMs run on subgroup matrices (their GemmSpec key prefixes). */
export type SmxKind = 'convfwd' | 'convdx' | 'convdw';

export interface SmxStatus {
  on: boolean;
  mode: SmxMode;
  /** Why it is off (feature absent, config missing, compile error, mismatch). */
  reason?: string;
  config?: SubgroupMatrixConfig;
  syntax?: SmxSyntax;
  kinds: SmxKind[];
  /** Relative error against our f32 kernels per validated GEMM. */
  errors?: Partial<Record<SmxKind, number>>;
}

interface State { mode: SmxMode; config: SubgroupMatrixConfig; sg: number; syntax: SmxSyntax; kinds: SmxKind[] }
let state: State | null = null;
let status: SmxStatus = { on: false, mode: 'hardware', reason: 'not initialised (initSubgroupMatrix)', kinds: [] };
let dispatched = 0;

/** The current state: on/off and why. */
export function subgroupMatrixStatus(): SmxStatus {
  return { ...status, kinds: [...status.kinds], errors: status.errors && { ...status.errors } };
}

/** Dispatches recorded by the subgroup-matrix GEMMs so far (they bypass runWebGPUProgram; for profiles). */
export function subgroupMatrixDispatches(): number {
  return dispatched;
}

/** Turns the subgroup-matrix GEMMs off (our f32 kernels again); initSubgroupMatrix turns them on. */
export function disableSubgroupMatrix(reason = 'turned off'): void {
  state = null;
  status = { ...status, on: false, reason };
}

/** Records one GEMM dispatch (output first), timed as SubgroupMatrixGemm in profiles. */
function dispatch(key: string, code: () => string, ids: object[], groups: [number, number, number]): void {
  recordDispatch({ key: `smx_${key}`, code, ids, written: 1, groups, timer: 'SubgroupMatrixGemm' });
  dispatched++;
}

/**
 * The GEMM on subgroup matrices when they are on and serve this kind of GEMM, else null (the caller runs
 * gemm.ts's f32 kernel). Same contract as conv.ts's runGemm.
 */
export function trySubgroupMatrixGemm(backend: WebgpuBackend, spec: GemmSpec, inputs: { names: string[]; infos: TensorInfo[] },
  outShape: number[], epi: Epilogue, splitK: boolean): TensorInfo | null {
  const st = state;
  if (!st || !st.kinds.some((k) => spec.key.startsWith(`${k}_`))) return null;
  const be = backend;
  // bound as array<f32>: a float32 tensor holding an int32 buffer (a cast from bool) stays with the f32 kernels
  if (inputs.infos.some((i) => be.tensorMap.get(i.dataId).dtype !== 'float32')) return null;
  const t = smxTiling(spec.M, spec.N, spec.K, st.config, st.sg, splitK, flags.splitKTarget);
  const groups: [number, number, number] = [t.DX, Math.ceil(t.tiles / t.DX), t.S];
  const key = `${st.mode}_${st.syntax}_${spec.key}_${t.BM}x${t.BN}x${t.BK}_s${t.S}`;
  const biasInput = epi.bias ? 1 : 0;
  if (t.S === 1) {
    const out = be.makeTensorInfo(outShape, 'float32');
    dispatch(`${key}_${epilogueKey(epi)}`, () => smxSource(spec, t, epi, inputs.names, st.mode, st.syntax), [out.dataId, ...inputs.infos.map((i) => i.dataId)], groups);
    return out;
  }
  const names = inputs.names.slice(0, inputs.names.length - biasInput);
  const partial = be.makeTensorInfo([t.S, spec.M * spec.N], 'float32');
  dispatch(`${key}_partial`, () => smxSource(spec, t, null, names, st.mode, st.syntax), [partial.dataId, ...inputs.infos.slice(0, names.length).map((i) => i.dataId)], groups);
  return reducePartials(backend, spec, t.S, partial, inputs.infos.slice(inputs.infos.length - biasInput), outShape, epi);
}

/** The first compile error of a module + pipeline, or null. */
async function compileError(device: GPUDevice, code: string): Promise<string | null> {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code });
  const info = await module.getCompilationInfo();
  device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const err = await device.popErrorScope();
  const msg = info.messages.find((m) => m.type === 'error');
  if (msg) return `${msg.lineNum}:${msg.linePos} ${msg.message}`;
  return err ? err.message.split('\n')[0] : null;
}

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2147483648 - 1; });
}

/** Forward and both gradients of a small random conv (3x3, odd sizes, several tiles, split-K on the filter gradient). */
async function sampleConv(): Promise<Record<SmxKind, Float32Array>> {
  const x = tf.tensor4d(rand(2 * 19 * 17 * 24, 1), [2, 19, 17, 24]);
  const w = tf.tensor4d(rand(3 * 3 * 24 * 40, 2).map((v) => v * 0.3), [3, 3, 24, 40]);
  const y = tf.conv2d(x, w, 1, 'same');
  const r = tf.tensor(rand(y.size, 3), y.shape);
  const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'), r)))([x, w]);
  const out = { convfwd: (await y.data()) as Float32Array, convdx: (await dx.data()) as Float32Array, convdw: (await dw.data()) as Float32Array };
  tf.dispose([x, w, y, r, dx, dw]);
  return out;
}

export interface InitSmxOptions {
  /** 'emulate': the same kernel with the builtins replaced by plain loops (runs on any shader-f16 device, for tests). */
  mode?: SmxMode;
  /**
   * GEMMs to run on subgroup matrices (default: the forward conv only; the gradients take f16 copies of dy,
   * whose small values lose precision in f16 without loss scaling).
   */
  kinds?: SmxKind[];
  /** Where the one line saying on/off and why goes (default stderr, "[engine]"). */
  log?: (msg: string) => void;
}

/**
 * Turns the subgroup-matrix GEMMs on if the device can run them and they match our f32 kernels on a small
 * random conv; otherwise leaves them off. Returns the status (also logged as one line).
 */
export async function initSubgroupMatrix(opts: InitSmxOptions = {}): Promise<SmxStatus> {
  const mode = opts.mode ?? 'hardware';
  const kinds = opts.kinds ?? ['convfwd'];
  const log = opts.log ?? ((m: string) => process.stderr.write(`[engine] ${m}\n`));
  state = null;
  const off = (reason: string, extra: Partial<SmxStatus> = {}): SmxStatus => {
    status = { on: false, mode, reason, kinds, ...extra };
    log(`subgroup-matrix GEMMs off (our f32 kernels stay): ${reason}`);
    return subgroupMatrixStatus();
  };
  if (tf.getBackend() !== 'webgpu') return off(`the backend is ${tf.getBackend()}, not webgpu`);
  const be = webgpuInternals();
  const facts = adapterFacts();
  let config: SubgroupMatrixConfig;
  let sg: number;
  if (mode === 'emulate') {
    if (!be.device.features.has('shader-f16')) return off('the device has no shader-f16 (needed by the emulated kernel too)');
    // 8x8 fragments over 32 invocations (2 elements each): lavapipe compiles a 16x16 emulation ~30x slower
    config = { M: 8, N: 8, K: 8, componentType: 'f16', resultComponentType: 'f32' };
    sg = 32;
  } else {
    if (!facts) return off('the adapter was not requested through initEngine (no feature list)');
    const pick = pickSmxConfig(facts.features, facts.subgroupMatrixConfigs);
    if ('reason' in pick) return off(pick.reason);
    if (!be.device.features.has(SMX_FEATURE)) return off(`the device was created without ${SMX_FEATURE}`);
    config = pick.config;
    sg = facts.subgroupMaxSize;
    if (!(sg > 0) || (config.M * config.N) % sg) return off(`subgroup size ${sg} does not fit a ${config.M}x${config.N} fragment`);
  }
  const g = { B: 2, H: 19, W: 17, Ci: 24, OH: 19, OW: 17, Co: 40, KH: 3, KW: 3, sh: 1, sw: 1, dh: 1, dw: 1, pt: 1, pl: 1 };
  const spec = forwardSpec(g);
  const t = smxTiling(spec.M, spec.N, spec.K, config, sg, false, 1);
  const limit = be.device.limits.maxComputeWorkgroupStorageSize;
  if (smxWorkgroupBytes(t) > limit) return off(`the kernel needs ${smxWorkgroupBytes(t)} bytes of workgroup memory, the device allows ${limit}`);
  let syntax: SmxSyntax | null = null;
  const errs: string[] = [];
  for (const s of mode === 'hardware' ? SMX_SYNTAXES : (['template'] as SmxSyntax[])) {
    const e = await compileError(be.device, smxSource(spec, t, { bias: false, activation: 'linear', leakyreluAlpha: 0 }, ['x', 'wt'], mode, s));
    if (!e) { syntax = s; break; }
    errs.push(`${s} syntax: ${e}`);
  }
  const cfg = `${config.M}x${config.N}x${config.K} f16->f32, subgroup ${sg}`;
  if (!syntax) return off(`compile error (${cfg}): ${errs.join('; ')}`, { config });
  const ref = await sampleConv();
  state = { mode, config, sg, syntax, kinds };
  let got: Record<SmxKind, Float32Array>;
  try {
    got = await sampleConv();
  } catch (e) {
    state = null;
    return off(`failed to run (${cfg}): ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`, { config, syntax });
  }
  const errors: Partial<Record<SmxKind, number>> = {};
  for (const k of kinds) errors[k] = relError(got[k], ref[k]);
  const bad = kinds.filter((k) => !(errors[k]! < 1e-2));
  const fmt = kinds.map((k) => `${k} ${errors[k]!.toExponential(1)}`).join(', ');
  if (bad.length) {
    state = null;
    return off(`mismatch against our f32 kernels (${cfg}; relative error ${fmt}; limit 1e-2)`, { config, syntax, errors });
  }
  status = { on: true, mode, config, syntax, kinds, errors };
  log(`subgroup-matrix GEMMs on (${mode}, ${cfg}, ${syntax} syntax) for ${kinds.join(', ')}: relative error vs f32 ${fmt}`);
  return subgroupMatrixStatus();
}
