/**
 * The fade blend's webgpu kernel (op: ops/fade-blend.ts): alpha * a + (1 - alpha) * b in one dispatch instead
 * of three tf ops. alpha travels as a uniform, so a fade that changes it every step compiles the shader once per
 * shape. The gradient is dy * alpha and dy * (1 - alpha) (two tf.mul, as the reference's backward).
 */
import { tf } from '../tf.js';
import { flags } from '../flags.js';
import { elementwiseProgram } from './program.js';
import { webgpuInternals } from './tfjs-internals.js';

/** null (the op runs its reference) when the flag or our kernels are off, or the inputs are not float32 of one shape. */
export function webgpuFadeBlend(a: tf.Tensor, b: tf.Tensor, alpha: number): tf.Tensor | null {
  if (!flags.fadeBlend || !flags.webgpuKernels) return null;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.join() !== b.shape.join()) return null;
  const p = { ...elementwiseProgram('blend', ['a', 'b'], a.shape, 'result[i] = a[i] * uniforms.alpha + b[i] * uniforms.beta;'), uniforms: 'alpha : f32, beta : f32,' };
  const be = webgpuInternals();
  const fn = tf.customGrad(((x: tf.Tensor, y: tf.Tensor) => {
    const info = be.runWebGPUProgram(p, [x, y], 'float32', [{ type: 'float32', data: [alpha] }, { type: 'float32', data: [1 - alpha] }]);
    const value = tf.engine().makeTensorFromTensorInfo(info);
    return { value, gradFunc: (dy: tf.Tensor) => [tf.mul(dy, alpha), tf.mul(dy, 1 - alpha)] };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return fn(a, b);
}
