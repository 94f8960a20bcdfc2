/**
 * Optional WebGPU features our kernels use when the adapter offers them. tfjs-backend-webgpu creates the device
 * itself and asks only for timestamp-query (and bgra8unorm-storage), so `requestOptionalFeatures` wraps
 * `navigator.gpu.requestAdapter` before the backend is initialised: the adapter it returns adds these features
 * to its `requestDevice`, and the adapter's subgroup sizes and subgroup-matrix configurations are kept for the
 * kernels that need them. `chromium-experimental-subgroup-matrix` is offered only by a Dawn instance created with
 * `enable-dawn-features=allow_unsafe_apis` on a driver with VK_KHR_cooperative_matrix (see FACECOMB_DAWN_FEATURES).
 */

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
  info?: Record<string, unknown>;
  requestDevice(d?: { requiredFeatures?: Iterable<unknown> } & Record<string, unknown>): Promise<unknown>;
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
    adapter.requestDevice = (d = {}) => {
      const own = [...(d.requiredFeatures ?? [])];
      return requestDevice({ ...d, requiredFeatures: [...own, ...requested.filter((f) => !own.includes(f))] });
    };
    return adapter;
  };
  gpu.facecombFeatures = true;
}
