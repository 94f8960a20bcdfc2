/**
 * Optional WebGPU features and limits our kernels use when the adapter offers them. tfjs-backend-webgpu creates
 * the device itself and asks only for timestamp-query (and bgra8unorm-storage), so `requestOptionalFeatures`
 * wraps `navigator.gpu.requestAdapter` before the backend is initialised: the adapter it returns adds these
 * features and the adapter's storage-buffer limit (the fused Adam binds several variables per dispatch) to its
 * `requestDevice`, makes a device with shader-f16 accept our f16 shaders (see hoistEnableF16), and keeps the
 * adapter's subgroup sizes and subgroup-matrix configurations for the kernels that need them. `chromium-experimental-subgroup-matrix` is offered only by a Dawn instance created with
 * `enable-dawn-features=allow_unsafe_apis` on a driver with VK_KHR_cooperative_matrix (see FACECOMB_DAWN_FEATURES).
 */

import { tf } from '../tf.js';
import { webgpuInternals } from './tfjs-internals.js';

/** Features requested when present (f16 arithmetic; tensor cores through subgroup matrices). */
export const OPTIONAL_FEATURES: readonly string[] = ['shader-f16', 'chromium-experimental-subgroup-matrix'];

/** One entry of GPUAdapterInfo.subgroupMatrixConfigs: left M x K times right K x N into an M x N result. */
export interface SubgroupMatrixConfig {
  M: number;
  N: number;
  K: number;
  componentType: string;
  resultComponentType: string;
}

export interface AdapterFacts {
  /** Every feature the adapter offers. */
  features: string[];
  /** The optional features added to the device request. */
  requested: string[];
  subgroupMinSize: number;
  subgroupMaxSize: number;
  subgroupMatrixConfigs: SubgroupMatrixConfig[];
}

interface Adapter {
  features: Set<string>;
  limits: GPUSupportedLimits;
  info?: Record<string, unknown>;
  requestDevice(d?: { requiredFeatures?: Iterable<unknown>; requiredLimits?: Record<string, number> } & Record<string, unknown>): Promise<GPUDevice>;
}
interface Gpu { requestAdapter(o?: unknown): Promise<unknown>; facecombFeatures?: boolean }

let facts: AdapterFacts | null = null;

/** What the adapter behind the webgpu backend offers (null before the backend was initialised through a wrapped gpu). */
export function adapterFacts(): AdapterFacts | null {
  return facts;
}

/** Wraps gpu.requestAdapter (idempotent) so that devices get the OPTIONAL_FEATURES the adapter offers. */
export function requestOptionalFeatures(gpu: Gpu): void {
  if (gpu.facecombFeatures) return;
  const request = gpu.requestAdapter.bind(gpu);
  gpu.requestAdapter = async (o?: unknown) => {
    const adapter = (await request(o)) as Adapter | null;
    if (!adapter) return adapter;
    const features = [...adapter.features].map(String).sort();
    const requested = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
    const info = adapter.info ?? {};
    const configs = (info.subgroupMatrixConfigs as SubgroupMatrixConfig[] | undefined) ?? [];
    facts = {
      features, requested,
      subgroupMinSize: Number(info.subgroupMinSize ?? 0), subgroupMaxSize: Number(info.subgroupMaxSize ?? 0),
      subgroupMatrixConfigs: [...configs].map((c) => ({ M: c.M, N: c.N, K: c.K, componentType: String(c.componentType), resultComponentType: String(c.resultComponentType) })),
    };
    const requestDevice = adapter.requestDevice.bind(adapter);
    adapter.requestDevice = async (d = {}) => {
      const own = [...(d.requiredFeatures ?? [])];
      const device = await requestDevice({
        ...d,
        requiredFeatures: [...own, ...requested.filter((f) => !own.includes(f))],
        requiredLimits: { ...d.requiredLimits, maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage },
      });
      if (device.features.has('shader-f16')) hoistEnableF16(device);
      return device;
    };
    return adapter;
  };
  gpu.facecombFeatures = true;
}

/**
 * WGSL's `enable f16;` must precede every declaration, but tfjs prepends its own declarations to a program's
 * code: a module whose code holds the directive gets it moved to the top.
 */
function hoistEnableF16(device: GPUDevice): void {
  const create = device.createShaderModule.bind(device);
  device.createShaderModule = (d: GPUShaderModuleDescriptor) =>
    create(d.code.includes('enable f16;') ? { ...d, code: `enable f16;\n${d.code.replace(/^\s*enable f16;\s*$/m, '')}` } : d);
}

/** Whether the active webgpu device has shader-f16 (false on any other engine). */
export function webgpuHasF16(): boolean {
  if (tf.getBackend() !== 'webgpu') return false;
  return webgpuInternals().device.features.has('shader-f16');
}
