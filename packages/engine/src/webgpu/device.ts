/**
 * The webgpu backend's device, requested by us instead of tfjs-backend-webgpu's own factory so that it gets
 * the `shader-f16` feature when (and only when) the adapter offers it; everything else is as tfjs asks
 * (timestamp-query, bgra8unorm-storage, the adapter's limits). Nothing changes for a device without f16.
 */
import { tf } from '../tf.js';

type BackendCtor = new (device: GPUDevice, adapterInfo?: unknown) => tf.KernelBackend;
const OURS = Symbol.for('facecomb.webgpuFactory');

/**
 * WGSL's `enable f16;` must precede every declaration, but tfjs prepends its own declarations to a program's
 * code: a module whose code holds the directive gets it moved to the top.
 */
function hoistEnableF16(device: GPUDevice): void {
  const create = device.createShaderModule.bind(device);
  device.createShaderModule = (d: GPUShaderModuleDescriptor) =>
    create(d.code.includes('enable f16;') ? { ...d, code: `enable f16;\n${d.code.replace(/^\s*enable f16;\s*$/m, '')}` } : d);
}

/** Replaces tfjs-backend-webgpu's backend factory by one that asks for shader-f16 when offered (idempotent). */
export function registerWebgpuFactory(WebGPUBackend: BackendCtor): void {
  const registry = (tf.engine() as unknown as { registryFactory: Record<string, { factory: unknown }> }).registryFactory;
  const current = registry.webgpu?.factory as { [OURS]?: boolean } | undefined;
  if (current?.[OURS]) return;
  const factory = Object.assign(async () => {
    const adapter = await navigator.gpu.requestAdapter({
      powerPreference: tf.env().get('WEBGPU_USE_LOW_POWER_GPU') ? 'low-power' : 'high-performance',
    });
    if (!adapter) throw new Error('no WebGPU adapter');
    const wanted: GPUFeatureName[] = ['timestamp-query', 'bgra8unorm-storage', 'shader-f16'];
    const l = adapter.limits;
    const device = await adapter.requestDevice({
      requiredFeatures: wanted.filter((f) => adapter.features.has(f)),
      requiredLimits: {
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
        maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
        // the fused Adam binds several variables per dispatch (4 storage buffers each)
        maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      },
    });
    if (device.features.has('shader-f16')) hoistEnableF16(device);
    return new WebGPUBackend(device, adapter.info);
  }, { [OURS]: true });
  if (registry.webgpu) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', factory, 3);
}

/** Whether the active webgpu device has shader-f16 (false on any other engine). */
export function webgpuHasF16(): boolean {
  if (tf.getBackend() !== 'webgpu') return false;
  return (tf.backend() as unknown as { device: GPUDevice }).device.features.has('shader-f16');
}
