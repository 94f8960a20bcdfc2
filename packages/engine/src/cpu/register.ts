/**
 * The cpu backend's register file: kernels of ours that replace tfjs's (called by initEngine).
 */
import { tf } from '../tf.js';
import { replaceKernel } from '../kernel-calls.js';
import { cpuConv2dBackpropFilter } from './conv2d-backprop-filter.js';

/** Replaces the cpu backend's Conv2DBackpropFilter (0.01 GFLOPS) by the conv form. Returns the kernel names replaced. */
export function registerCpuTrainingKernels(): string[] {
  replaceKernel('Conv2DBackpropFilter', 'cpu', cpuConv2dBackpropFilter as unknown as tf.KernelFunc);
  return ['Conv2DBackpropFilter'];
}
