/**
 * Conv2DBackpropFilter on webgpu: the filter-gradient implicit GEMM of conv.ts, split-K over b*oh*ow. NCHW and
 * other dtypes go to tfjs's kernel. Checked by test/webgpu-conv.test.ts and test/kernels.test.ts.
 */
import { tf } from '../tf.js';
import { LINEAR, filterGradSpec, geometry, ours, runGemm, type Fallback, type KernelArgs } from './conv.js';

type TensorInfo = tf.TensorInfo;

export function conv2dBackpropFilter(args: KernelArgs, fallback: Fallback): TensorInfo {
  const { x, dy } = args.inputs;
  const attrs = args.attrs ?? {};
  if (attrs.dataFormat === 'NCHW' || !ours(x, dy)) return fallback(args);
  const g = geometry(x.shape, attrs.filterShape as number[], attrs);
  return runGemm(args.backend, filterGradSpec(g), { names: ['x', 'dy'], infos: [x, dy] }, [g.KH, g.KW, g.Ci, g.Co], LINEAR, true);
}
