/**
 * Conv2D and FusedConv2D (bias + relu/relu6/leakyrelu/elu/sigmoid in the epilogue) on webgpu: the forward
 * implicit GEMM of conv.ts. NCHW, other dtypes and prelu go to tfjs's kernel. Checked by test/webgpu-conv.test.ts.
 */
import { tf } from '../tf.js';
import { ACTIVATIONS, LINEAR, geometry, ours, runGemm, forwardSpec, type Fallback, type KernelArgs } from './conv.js';
import type { Activation, Epilogue } from './gemm.js';

type TensorInfo = tf.TensorInfo;

export function conv2d(args: KernelArgs, fallback: Fallback): TensorInfo {
  const { x, filter } = args.inputs;
  const attrs = args.attrs ?? {};
  if (attrs.dataFormat === 'NCHW' || !ours(x, filter)) return fallback(args);
  const g = geometry(x.shape, filter.shape, attrs);
  return runGemm(args.backend, forwardSpec(g), { names: ['x', 'wt'], infos: [x, filter] }, [g.B, g.OH, g.OW, g.Co], LINEAR, true);
}

export function fusedConv2d(args: KernelArgs, fallback: Fallback): TensorInfo {
  const { x, filter, bias, preluActivationWeights } = args.inputs;
  const attrs = args.attrs ?? {};
  const activation = (attrs.activation as string | undefined) ?? 'linear';
  const g = attrs.dataFormat === 'NCHW' ? null : geometry(x.shape, filter.shape, attrs);
  const biasOk = !bias || (g !== null && tf.util.sizeFromShape(bias.shape) === g.Co);
  if (!g || preluActivationWeights || !ACTIVATIONS.includes(activation) || !biasOk || !ours(x, filter, bias)) return fallback(args);
  const epi: Epilogue = { bias: !!bias, activation: activation as Activation, leakyreluAlpha: (attrs.leakyreluAlpha as number | undefined) ?? 0.2 };
  const names = ['x', 'wt', ...(bias ? ['bias'] : [])];
  const infos = [x, filter, ...(bias ? [bias] : [])];
  return runGemm(args.backend, forwardSpec(g), { names, infos }, [g.B, g.OH, g.OW, g.Co], epi, true);
}
