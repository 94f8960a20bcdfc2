/**
 * Every switch of this package in one place: read once from the environment when the package loads, changed at
 * run time only through `setFlag` (or the named setters below, kept for benchmarks and tests), listed by
 * `listFlags()` (printed by `engine-info`). No other module keeps a switch of its own.
 */

export type FilterGradMethod = 'auto' | 'conv' | 'gemm';
export type ConvActFusion = 'off' | 'forward' | 'grad' | 'prologue';
export type Precision = 'f32' | 'f16';
export type SubgroupMatrixRequest = 'off' | 'forward' | 'all';

export interface Flags {
  /** wasm's Conv2DBackpropFilter formulation ('auto': gemm for 1x1 filters, conv otherwise). */
  wasmFilterGrad: FilterGradMethod;
  /** Workgroups a webgpu GEMM spreads over before split-K stops (1: no split-K). */
  splitKTarget: number;
  /** Operand precision of the webgpu conv GEMMs (f16 only through setWebgpuPrecision, which checks the device). */
  webgpuPrecision: Precision;
  /** Our WGSL conv kernels serve webgpu (false: tfjs's own, for before/after runs). */
  webgpuKernels: boolean;
  /** The fused Adam op uses its webgpu kernel (false: the reference tf ops). */
  fusedAdam: boolean;
  /** The fused SSIM + L1 loss op uses its webgpu kernels (false: the reference tf ops). */
  fusedLoss: boolean;
  /** How conv2dLeakyRelu runs ('off': the reference, conv + bias then tf.leakyRelu). */
  convActFusion: ConvActFusion;
  /** The fade-in blend op uses its one-dispatch webgpu kernel (false: the reference tf ops). */
  fadeBlend: boolean;
  /** Which conv GEMMs initEngine tries on subgroup matrices (tensor cores); they still must compile and validate. */
  subgroupMatrix: SubgroupMatrixRequest;
  /** Dawn toggles passed to webgpu's create(), e.g. allow_unsafe_apis,vulkan_enable_f16_on_nvidia ('' for none). */
  dawnFeatures: string;
  /** Folder of the tfjs wasm binaries ('' : the installed package's dist/). */
  wasmDir: string;
  /** Keep tfjs's console warnings (production mode off). */
  tfDebug: boolean;
  /** A webgpu engine that does not initialise fails the tests instead of skipping them (CI, with lavapipe). */
  requireWebgpu: boolean;
}

interface Spec<T> {
  env?: string;
  default: T;
  /** Throws a message naming what is allowed. */
  parse(v: string): T;
  check?(v: T): string | null;
}

const choice = <T extends string>(...allowed: T[]) => (v: string): T => {
  if (!(allowed as string[]).includes(v)) throw new Error(`'${v}': use one of ${allowed.join(', ')}`);
  return v as T;
};
const bool = (v: string): boolean => {
  if (!['0', '1', 'true', 'false', ''].includes(v)) throw new Error(`'${v}': use 1 or 0`);
  return v === '1' || v === 'true';
};
const text = (v: string): string => v;
const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`'${v}': use a whole number >= 1`);
  return n;
};

const SPECS: { [K in keyof Flags]: Spec<Flags[K]> } = {
  wasmFilterGrad: { env: 'FACECOMB_WASM_FILTER_GRAD', default: 'auto', parse: choice('auto', 'conv', 'gemm') },
  splitKTarget: { env: 'FACECOMB_SPLITK_TARGET', default: 256, parse: positiveInt },
  webgpuPrecision: { default: 'f32', parse: choice('f32', 'f16') },
  webgpuKernels: { env: 'FACECOMB_WEBGPU_KERNELS', default: true, parse: bool },
  fusedAdam: { env: 'FACECOMB_FUSED_ADAM', default: true, parse: bool },
  fusedLoss: { env: 'FACECOMB_FUSED_LOSS', default: true, parse: bool },
  convActFusion: { env: 'FACECOMB_CONV_ACT_FUSION', default: 'prologue', parse: choice('off', 'forward', 'grad', 'prologue') },
  fadeBlend: { env: 'FACECOMB_FADE_BLEND', default: true, parse: bool },
  subgroupMatrix: { env: 'FACECOMB_SUBGROUP_MATRIX', default: 'off', parse: choice('off', 'forward', 'all') },
  dawnFeatures: { env: 'FACECOMB_DAWN_FEATURES', default: '', parse: text },
  wasmDir: { env: 'FACECOMB_WASM_DIR', default: '', parse: text },
  tfDebug: { env: 'FACECOMB_TF_DEBUG', default: false, parse: (v) => v !== '' && v !== '0' },
  requireWebgpu: { env: 'FACECOMB_REQUIRE_WEBGPU', default: false, parse: (v) => v === '1' },
};

/** The flags as read from `env` (exported for tests); a malformed value throws naming the variable. */
export function readFlags(env: Record<string, string | undefined>): Flags {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(SPECS) as [keyof Flags, Spec<unknown>][]) {
    const raw = spec.env ? env[spec.env] : undefined;
    try {
      out[name] = raw === undefined ? spec.default : spec.parse(raw);
    } catch (e) {
      throw new Error(`${spec.env}=${raw}: ${(e as Error).message} (or unset it for the default, ${JSON.stringify(spec.default)})`);
    }
  }
  return out as unknown as Flags;
}

const current: Flags = readFlags(process.env);

/** The current flags (read-only: change them with setFlag). */
export const flags: Readonly<Flags> = current;

/** Sets one flag, validated like its environment variable. */
export function setFlag<K extends keyof Flags>(name: K, value: Flags[K]): void {
  const spec = SPECS[name] as Spec<Flags[K]> | undefined;
  if (!spec) throw new Error(`unknown engine flag '${String(name)}': flags are ${Object.keys(SPECS).join(', ')}`);
  let parsed: Flags[K];
  try {
    // strings go through the same parser as the environment; numbers and booleans keep their type
    parsed = typeof value === 'string' || typeof value === 'number' ? spec.parse(String(value)) : value;
  } catch (e) {
    throw new Error(`engine flag ${name}: ${(e as Error).message}`);
  }
  if (typeof parsed !== typeof spec.default) throw new Error(`engine flag ${name}: expected a ${typeof spec.default}, got ${JSON.stringify(value)}`);
  current[name] = parsed;
}

export interface FlagRow {
  name: keyof Flags;
  value: unknown;
  default: unknown;
  /** The environment variable it is read from (null: set in code only). */
  env: string | null;
}

/** Every flag with its value, default and environment variable. */
export function listFlags(): FlagRow[] {
  return (Object.keys(SPECS) as (keyof Flags)[]).map((name) => ({ name, value: current[name], default: SPECS[name].default, env: SPECS[name].env ?? null }));
}

/** Chooses the formulation of wasm's Conv2DBackpropFilter (for benchmarks; both are checked by the tests). */
export function setWasmFilterGradMethod(method: FilterGradMethod): void {
  setFlag('wasmFilterGrad', method);
}

/** For benchmarks: how many workgroups split-K aims at (1 turns split-K off). */
export function setSplitKTarget(n: number): void {
  setFlag('splitKTarget', Math.max(1, Math.floor(n)));
}

/** For before/after benchmarks and checks (default 'prologue'). */
export function setConvActFusion(m: ConvActFusion): void {
  setFlag('convActFusion', m);
}

/** Switches between our webgpu kernels, fused Adam and fused loss (default) and tfjs's own / the tf-op references. */
export function useWebgpuKernels(on: boolean): void {
  setFlag('webgpuKernels', on);
  setFlag('fusedAdam', on);
  setFlag('fusedLoss', on);
}

/** Turns the fused loss kernels off (the op runs its reference), for before/after checks. */
export function setWebgpuLoss(on: boolean): void {
  setFlag('fusedLoss', on);
}
