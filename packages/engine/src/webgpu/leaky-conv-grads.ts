/**
 * The gradients of y = LeakyReLU(conv2d(x, filter) + bias, alpha) (NHWC f32, dilation 1) from dy and the saved
 * output y ('yv'), the activation's derivative applied as each kernel loads dy (no dy' tensor, no elementwise
 * pass). Kernels of their own (registered on webgpu only, so tf.profile names them); ops/conv2d-leaky-relu.ts calls them
 * after checking they cover the inputs, and the attrs are those of Conv2DBackpropInput/Filter plus leakyreluAlpha.
 */
import { tf } from '../tf.js';
import {
  LINEAR, biasGradSpec, dyReader, elementwiseProgram, filterGradSpec, geometry, inputGradSpec, leakKey, runGemm, type KernelArgs,
} from './conv.js';

type TensorInfo = tf.TensorInfo;

function leakOf(args: KernelArgs): number {
  const a = (args.attrs ?? {}).leakyreluAlpha as number;
  if (!(a >= 0) || args.attrs?.dataFormat === 'NCHW') throw new Error(`${JSON.stringify(args.attrs)}: needs NHWC and leakyreluAlpha >= 0`);
  return a;
}

export function leakyConv2dBackpropInput(args: KernelArgs): TensorInfo {
  const { dy, y, filter } = args.inputs;
  const leak = leakOf(args);
  const g = geometry(args.attrs!.inputShape as number[], filter.shape, args.attrs!);
  return runGemm(args.backend, inputGradSpec(g, leak), { names: ['dy', 'yv', 'wt'], infos: [dy, y, filter] }, [g.B, g.H, g.W, g.Ci], LINEAR, true);
}

export function leakyConv2dBackpropFilter(args: KernelArgs): TensorInfo {
  const { x, dy, y } = args.inputs;
  const leak = leakOf(args);
  const g = geometry(x.shape, args.attrs!.filterShape as number[], args.attrs!);
  return runGemm(args.backend, filterGradSpec(g, leak), { names: ['x', 'dy', 'yv'], infos: [x, dy, y] }, [g.KH, g.KW, g.Ci, g.Co], LINEAR, true);
}

/** dy' = dy * LeakyReLU'(from y) as one elementwise pass (instead of tf's Greater, Multiply, Select). */
export function leakyReluGradFromOutput(args: KernelArgs): TensorInfo {
  const { dy, y } = args.inputs;
  const leak = leakOf(args);
  const p = elementwiseProgram(`leakygrad${leakKey(leak)}`, ['dy', 'yv'], dy.shape, '_ = uniforms.NAN; result[i] = dyAt(i);', dyReader(leak));
  return args.backend.runWebGPUProgram(p, [dy, y], 'float32');
}

export function leakyConv2dBiasGrad(args: KernelArgs): TensorInfo {
  const { dy, y } = args.inputs;
  const Co = dy.shape[dy.shape.length - 1];
  const spec = biasGradSpec(tf.util.sizeFromShape(dy.shape) / Co, Co, leakOf(args));
  return runGemm(args.backend, spec, { names: ['dy', 'yv'], infos: [dy, y] }, [Co], LINEAR, true);
}
