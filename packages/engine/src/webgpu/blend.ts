/**
 * The fade-in blend alpha * a + (1 - alpha) * b (same shapes, float32) as one webgpu dispatch instead of three
 * tf ops (mul, mul, add). alpha travels as a uniform, so a fade that changes it every step compiles the shader
 * once per shape. The gradient is dy * alpha and dy * (1 - alpha) (two tf.mul, as the composed ops' backward).
 */
import { tf } from '../tf.js';
import { elementwiseProgram, type WebgpuBackend } from './conv.js';
import { webgpuKernelsOn } from './index.js';
import { convActFusion } from '../conv-act.js';

/**
 * alpha * a + (1 - alpha) * b, or null (compose tf ops then) when the backend is not webgpu, our kernels are off,
 * the model's fusions are off (setConvActFusion('off'): the model as it was, for before/after runs) or the
 * inputs are not ours.
 */
export function webgpuBlend<T extends tf.Tensor>(a: T, b: T, alpha: number): T | null {
  if (tf.getBackend() !== 'webgpu' || !webgpuKernelsOn() || convActFusion() === 'off') return null;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.join() !== b.shape.join()) return null;
  const p = { ...elementwiseProgram('blend', ['a', 'b'], a.shape, 'result[i] = a[i] * uniforms.alpha + b[i] * uniforms.beta;'), uniforms: 'alpha : f32, beta : f32,' };
  const be = tf.backend() as unknown as WebgpuBackend;
  const fn = tf.customGrad(((x: tf.Tensor, y: tf.Tensor) => {
    const info = be.runWebGPUProgram(p, [x, y], 'float32', [{ type: 'float32', data: [alpha] }, { type: 'float32', data: [1 - alpha] }]);
    const value = tf.engine().makeTensorFromTensorInfo(info);
    return { value, gradFunc: (dy: tf.Tensor) => [tf.mul(dy, alpha), tf.mul(dy, 1 - alpha)] };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return fn(a, b) as T;
}
