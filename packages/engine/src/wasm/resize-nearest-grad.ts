/**
 * ResizeNearestNeighborGrad for wasm: wasm's own kernel is right but ignores halfPixelCenters, which changes
 * the mapping unless the scale is an integer factor; those cases go to cpu/resize-nearest-grad.ts's scatter-add.
 * Checked against finite differences by test/fixes.test.ts.
 */
import { tf } from '../tf.js';
import { cpuNearestGrad } from '../cpu/resize-nearest-grad.js';

type Attrs = Record<string, unknown>;

export function wasmNearestGrad(original: tf.KernelFunc) {
  return (args: { inputs: Record<string, tf.TensorInfo>; attrs?: Attrs; backend: tf.KernelBackend }): tf.TensorInfo => {
    const { images, dy } = args.inputs;
    const { alignCorners = false, halfPixelCenters = false } = (args.attrs ?? {}) as { alignCorners?: boolean; halfPixelCenters?: boolean };
    const sameMapping = !alignCorners && dy.shape[1] % images.shape[1] === 0 && dy.shape[2] % images.shape[2] === 0;
    if (!halfPixelCenters || sameMapping) return original(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    return cpuNearestGrad(args);
  };
}
