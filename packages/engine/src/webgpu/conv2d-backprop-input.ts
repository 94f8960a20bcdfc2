/**
 * Conv2DBackpropInput on webgpu: the input-gradient implicit GEMM of conv.ts. NCHW and other dtypes go to tfjs's
 * kernel. Checked by test/webgpu-conv.test.ts and test/kernels.test.ts.
 */
import { tf } from '../tf.js';
import { LINEAR, geometry, inputGradSpec, ours, runGemm, type Fallback, type KernelArgs } from './conv.js';

type TensorInfo = tf.TensorInfo;

export function conv2dBackpropInput(args: KernelArgs, fallback: Fallback): TensorInfo {
  const { dy, filter } = args.inputs;
  const attrs = args.attrs ?? {};
  if (attrs.dataFormat === 'NCHW' || !ours(dy, filter)) return fallback(args);
  const g = geometry(attrs.inputShape as number[], filter.shape, attrs);
  return runGemm(args.backend, inputGradSpec(g), { names: ['dy', 'wt'], infos: [dy, filter] }, [g.B, g.H, g.W, g.Ci], LINEAR, true);
}
