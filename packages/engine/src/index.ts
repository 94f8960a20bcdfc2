export { tf } from './tf.js';
export {
  initEngine,
  engineInfo,
  wasmBinaryDir,
  AUTO_ORDER,
  type BackendRequest,
  type EngineName,
  type EngineChoice,
  type EngineInfo,
  type InitEngineOptions,
} from './engine.js';
export { registerWasmTrainingKernels, registerCpuTrainingKernels, originalKernel, setWasmFilterGradMethod, getWasmFilterGradMethod, type FilterGradMethod } from './kernels.js';
export { applyTfjsFixes } from './fixes.js';
export { registerWebgpuFixes, forbidSyncReads } from './webgpu-fixes.js';
export { unavailable, webgpuRequired, switchOrSkip } from './require.js';
export { registerWebgpuKernels, useWebgpuKernels, webgpuOriginalKernel, setWebgpuPrecision } from './webgpu/index.js';
export { webgpuHasF16 } from './webgpu/features.js';
export type { Precision } from './webgpu/gemm.js';
export { setSplitKTarget } from './webgpu/gemm.js';
export { initSubgroupMatrix, disableSubgroupMatrix, subgroupMatrixStatus, subgroupMatrixDispatches, type SmxStatus, type SmxKind } from './webgpu/subgroup-matrix-run.js';
export { adapterFacts, type AdapterFacts } from './webgpu/features.js';
export { relError } from './compare.js';
export { webgpuReconstructionLoss, setWebgpuLoss, type FusedLossSpec } from './webgpu/ssim-loss.js';
export { webgpuAdamStep, webgpuAdamSteps, adamGroupSize, webgpuAdamDispatches, type AdamItem, type AdamHyper, type ScaledStep } from './webgpu/adam.js';
export { webgpuOwnDispatches } from './webgpu/dispatch.js';
export { LossScaler, type LossScaleOptions, type LossScaleState } from './webgpu/loss-scale.js';
export { conv2dLeakyRelu, setConvActFusion, convActFusion, type ConvActFusion, type ConvLeakyOptions } from './conv-act.js';
export { webgpuBlend } from './webgpu/blend.js';
