/**
 * Kernels wasm lacks or has wrong, run by the cpu backend on copies of the inputs: MaxPoolGrad (wasm's is wrong
 * for negative inputs; checked against finite differences by test/fixes.test.ts), and
 * DepthwiseConv2dNativeBackpropFilter/Input and UnsortedSegmentSum (gather gradients), which are not on the
 * training path of our models: graphs that use them run on wasm, slowly.
 */
import { tf } from '../tf.js';
import type { Attrs, Backend, NamedTensors, TensorInfo } from '../kernel-calls.js';

/**
 * Runs the cpu backend's kernel on copies of the inputs and writes the result back into wasm memory.
 * Last resort for kernels off the training path of our models.
 */
export function delegateToCpu(kernelName: string) {
  return (args: { inputs: NamedTensors; attrs?: Attrs; backend: Backend }): TensorInfo | TensorInfo[] => {
    const cpu = tf.engine().findBackend('cpu');
    const k = tf.getKernel(kernelName, 'cpu');
    if (!cpu || !k) throw new Error(`${kernelName} on wasm needs the cpu backend's kernel, which is not registered`);
    const wasm = args.backend;
    const inputs: NamedTensors = {};
    for (const [key, t] of Object.entries(args.inputs)) {
      const values = wasm.readSync(t.dataId) as tf.backend_util.BackendValues;
      inputs[key] = { dataId: cpu.write(values, t.shape, t.dtype), shape: t.shape, dtype: t.dtype };
    }
    try {
      const out = k.kernelFunc({ inputs, attrs: (args.attrs ?? {}) as tf.NamedAttrMap, backend: cpu });
      const outs = Array.isArray(out) ? out : [out];
      const res = outs.map((o) => {
        const values = cpu.readSync(o.dataId) as tf.backend_util.BackendValues;
        const r: TensorInfo = { dataId: wasm.write(values, o.shape, o.dtype), shape: o.shape, dtype: o.dtype };
        cpu.disposeData(o.dataId);
        return r;
      });
      return Array.isArray(out) ? res : res[0];
    } finally {
      for (const t of Object.values(inputs)) cpu.disposeData(t.dataId);
    }
  };
}

export const CPU_DELEGATED = ['MaxPoolGrad', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'UnsortedSegmentSum'];
