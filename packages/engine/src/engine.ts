import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tf } from './tf.js';
import { registerWasmTrainingKernels } from './wasm/register.js';
import { registerCpuTrainingKernels } from './cpu/register.js';
import { applyTfjsFixes } from './fixes.js';
import { registerWebgpuFixes } from './webgpu/fixes.js';
import { requestOptionalFeatures, webgpuHasF16 } from './webgpu/features.js';
import { flags } from './flags.js';

/** Names accepted by `--backend`. */
export type BackendRequest = 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
/** Engines that can actually run. */
export type EngineName = Exclude<BackendRequest, 'auto'>;

export interface EngineChoice {
  /** The engine now active (the tfjs backend name). */
  name: EngineName;
  /** Why it was chosen (requested, or the first that initialised). */
  why: string;
  /** Engines tried before it and why each was skipped. */
  skipped: { name: EngineName; why: string }[];
}

export interface EngineInfo extends EngineChoice {
  /** The tfjs backend name reported by tf.getBackend(). */
  backend: string;
  /** Kernels this package registered on the backend (wasm training kernels). */
  addedKernels: string[];
  /** Extra facts: adapter name for webgpu, SIMD for wasm, libtensorflow build for tensorflow. */
  details: Record<string, unknown>;
}

export interface InitEngineOptions {
  /**
   * Which engine; 'auto' (default) tries tensorflow, webgpu, wasm, cpu in that order, and skips a software
   * WebGPU adapter (lavapipe, SwiftShader), which is slower than wasm; an explicit 'webgpu' still uses it.
   */
  backend?: BackendRequest;
  /** Where the choice and skip reasons are written; defaults to stderr lines prefixed "[engine]". */
  log?: (msg: string) => void;
}

export const AUTO_ORDER: readonly EngineName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];
const VALID: readonly string[] = ['auto', ...AUTO_ORDER];

const require = createRequire(import.meta.url);
let current: EngineInfo | null = null;
let pending: Promise<EngineInfo> | null = null;
let pendingRequest: BackendRequest | null = null;
const details: Record<EngineName, Record<string, unknown>> = { tensorflow: {}, webgpu: {}, wasm: {}, cpu: {} };
const added: Record<EngineName, string[]> = { tensorflow: [], webgpu: [], wasm: [], cpu: [] };

function defaultLog(msg: string): void {
  process.stderr.write(`[engine] ${msg}\n`);
}

function errMsg(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0].slice(0, 300);
}

/** Throws unless a small conv + gradient runs and reads back finite numbers on the active backend. */
async function smokeTest(): Promise<void> {
  const x = tf.tensor4d([0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 0.7, 0.8, 0.9], [1, 3, 3, 1]);
  const w = tf.tensor4d([0.5, -1, 0.25, 2], [2, 2, 1, 1]);
  const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same').square().sum());
  const [gx, gw] = g([x, w]);
  const vals = [...(await gx.data()), ...(await gw.data())];
  tf.dispose([x, w, gx, gw]);
  if (vals.length !== 13 || !vals.every(Number.isFinite)) throw new Error('smoke test conv2d gradient returned non-finite values');
}

/** Switches tfjs to a backend; a failed initialisation throws with the reason tfjs logged. */
async function activate(name: string): Promise<void> {
  const warnings: string[] = [];
  const warn = console.warn;
  const prod = tf.env().getBool('PROD');
  console.warn = (...args: unknown[]) => { warnings.push(args.map(String).join(' ')); };
  tf.env().set('PROD', false); // let tfjs report why an initialisation failed, into `warnings`
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } finally {
    console.warn = warn;
    tf.env().set('PROD', prod);
  }
  if (!ok || tf.getBackend() !== name) {
    const why = warnings.filter((w) => !/^Initialization of backend/.test(w)).join(' ').split('\n')[0].trim();
    throw new Error(`tf.setBackend('${name}') failed${why ? `: ${why}` : ''}`);
  }
  await tf.ready();
}

async function initTensorflow(): Promise<string> {
  const tried: string[] = [];
  for (const mod of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(/* optional dependency */ mod as string);
      details.tensorflow.module = mod;
      break;
    } catch (e) {
      const code = (e as { code?: string }).code;
      tried.push(code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' ? `${mod} is not installed` : `${mod} failed to load: ${errMsg(e)}`);
    }
  }
  if (!details.tensorflow.module) throw new Error(tried.join('; '));
  if (!tf.findBackendFactory('tensorflow')) throw new Error(`${details.tensorflow.module} loaded but registered no 'tensorflow' backend (another tfjs-core instance?)`);
  await activate('tensorflow');
  return `${details.tensorflow.module} (libtensorflow)`;
}

async function initWebgpu(auto: boolean): Promise<string> {
  const g = globalThis as unknown as { navigator?: { gpu?: unknown } } & Record<string, unknown>;
  let gpu = g.navigator?.gpu as { requestAdapter(o?: unknown): Promise<unknown> } | undefined;
  if (!gpu) {
    let webgpu: { create(opts: string[]): unknown; globals: Record<string, unknown> };
    try {
      webgpu = (await import('webgpu')) as unknown as typeof webgpu;
    } catch (e) {
      throw new Error(`the npm package 'webgpu' (Dawn) failed to load: ${errMsg(e)}`);
    }
    Object.assign(globalThis, webgpu.globals);
    // FACECOMB_DAWN_FEATURES: Dawn toggles, e.g. allow_unsafe_apis (subgroup matrices), vulkan_enable_f16_on_nvidia
    const toggles = flags.dawnFeatures;
    gpu = webgpu.create(toggles ? [`enable-dawn-features=${toggles}`] : []) as typeof gpu;
    if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, writable: true, configurable: true });
    try {
      (g.navigator as Record<string, unknown>).gpu = gpu;
    } catch {
      Object.defineProperty(g.navigator as object, 'gpu', { value: gpu, configurable: true });
    }
  }
  requestOptionalFeatures(gpu!); // shader-f16, subgroup matrices, storage buffers: tfjs's device request asks for none
  const adapter = (await gpu!.requestAdapter({ powerPreference: 'high-performance' })) as
    | { isFallbackAdapter?: boolean; info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean } }
    | null;
  if (!adapter) {
    throw new Error('no WebGPU adapter: Dawn found no usable GPU (Vulkan on Linux, Metal on macOS, D3D12 on Windows)');
  }
  const info = adapter.info ?? {};
  details.webgpu.adapter = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unknown';
  // Dawn (webgpu 0.6) reports a CPU rasteriser (Mesa lavapipe, SwiftShader) as architecture 'software' and
  // isFallbackAdapter; it runs our models ~10x slower than wasm, so auto does not take it.
  const software = info.architecture === 'software' || info.isFallbackAdapter === true || adapter.isFallbackAdapter === true;
  details.webgpu.software = software;
  if (software && auto) {
    const name = (info.description ?? info.architecture ?? 'unknown').split(':')[0];
    throw new Error(`adapter ${name} is a software rasteriser (slower than wasm); use --backend webgpu to force it`);
  }
  // The backend checks for navigator.gpu when it is imported, so it is imported only now.
  await import('@tensorflow/tfjs-backend-webgpu');
  await activate('webgpu');
  // our WGSL kernels (convs, Adam) and the fixes of tfjs-webgpu's wrong gradients
  added.webgpu = [...(await import('./webgpu/register.js')).registerWebgpuKernels(), ...registerWebgpuFixes()];
  details.webgpu.shaderF16 = webgpuHasF16();
  // opt-in: the conv GEMMs on tensor cores ('forward' or 'all'), used only if they compile and validate here
  const smx = flags.subgroupMatrix;
  if (smx !== 'off') {
    const { initSubgroupMatrix } = await import('./webgpu/subgroup-matrix-run.js');
    details.webgpu.subgroupMatrix = await initSubgroupMatrix({ kinds: smx === 'all' ? ['convfwd', 'convdx', 'convdw'] : ['convfwd'] });
  }
  return `Dawn adapter ${details.webgpu.adapter}`;
}

/**
 * Folder holding the .wasm binaries: FACECOMB_WASM_DIR when set (bundled deployments), otherwise the dist/ of
 * the installed @tensorflow/tfjs-backend-wasm. Never a CDN.
 */
export function wasmBinaryDir(): string {
  const env = flags.wasmDir;
  if (env) return env.endsWith('/') ? env : `${env}/`;
  let pkg: string;
  try {
    pkg = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  } catch {
    throw new Error('@tensorflow/tfjs-backend-wasm is not installed and FACECOMB_WASM_DIR is not set');
  }
  return join(dirname(pkg), 'dist') + '/';
}

async function initWasm(): Promise<string> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const dir = wasmBinaryDir();
  if (!existsSync(join(dir, 'tfjs-backend-wasm.wasm'))) throw new Error(`no tfjs-backend-wasm.wasm in ${dir}`);
  wasm.setWasmPaths(dir);
  await activate('wasm');
  added.wasm = registerWasmTrainingKernels();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  details.wasm = { simd, wasmDir: dir, threads: false };
  return `XNNPACK${simd ? ' SIMD' : ''}, single thread`;
}

async function initCpu(): Promise<string> {
  await activate('cpu');
  added.cpu = registerCpuTrainingKernels();
  return 'pure JavaScript';
}

/** Each engine's initialiser; `auto` is true when --backend auto is choosing (webgpu then refuses software adapters). */
const INIT: Record<EngineName, (auto: boolean) => Promise<string>> = {
  tensorflow: initTensorflow,
  webgpu: initWebgpu,
  wasm: initWasm,
  cpu: initCpu,
};

async function choose(request: BackendRequest, log: (msg: string) => void): Promise<EngineInfo> {
  const order = request === 'auto' ? AUTO_ORDER : [request];
  const skipped: { name: EngineName; why: string }[] = [];
  for (const name of order) {
    try {
      const what = await INIT[name](request === 'auto');
      await smokeTest();
      const why = request === 'auto'
        ? `auto: first engine that initialised (${what})${skipped.length ? `; skipped ${skipped.map((s) => s.name).join(', ')}` : ''}`
        : `requested with --backend ${name} (${what})`;
      for (const s of skipped) log(`skipped ${s.name}: ${s.why}`);
      log(`using ${name}: ${why}`);
      return { name, why, skipped, backend: tf.getBackend(), addedKernels: [...added[name]], details: { ...details[name] } };
    } catch (e) {
      skipped.push({ name, why: errMsg(e) });
    }
  }
  for (const s of skipped) log(`skipped ${s.name}: ${s.why}`);
  if (request === 'auto') throw new Error(`no tensor engine initialised: ${skipped.map((s) => `${s.name}: ${s.why}`).join('; ')}`);
  throw new Error(`--backend ${request} could not be initialised: ${skipped[0]?.why}. Use --backend auto to fall back to another engine.`);
}

/**
 * Selects and initialises the tensor engine. Idempotent: a second call with the same request (or 'auto' after
 * any successful choice) returns the engine already chosen; a different explicit backend switches to it.
 */
export async function initEngine(opts: InitEngineOptions = {}): Promise<EngineInfo> {
  const request = (opts.backend ?? 'auto') as BackendRequest;
  const log = opts.log ?? defaultLog;
  if (!VALID.includes(request)) {
    throw new Error(`unknown backend '${String(request)}': use one of ${VALID.join(', ')}`);
  }
  applyTfjsFixes();
  if (pending && (pendingRequest === request || request === 'auto')) return pending;
  if (current && (request === 'auto' || request === current.name) && tf.getBackend() === current.backend) return current;
  pendingRequest = request;
  pending = choose(request, log).then(
    (info) => {
      current = info;
      pending = null;
      return info;
    },
    (e) => {
      pending = null;
      throw e;
    },
  );
  return pending;
}

/** The engine chosen by initEngine, or null before it ran. */
export function engineInfo(): EngineInfo | null {
  return current ? { ...current, skipped: [...current.skipped], addedKernels: [...current.addedKernels], details: { ...current.details } } : null;
}
