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
export { registerWebgpuKernels, useWebgpuKernels, webgpuOriginalKernel } from './webgpu/index.js';
export { setSplitKTarget } from './webgpu/gemm.js';
export { initSubgroupMatrix, disableSubgroupMatrix, subgroupMatrixStatus, subgroupMatrixDispatches, type SmxStatus, type SmxKind } from './webgpu/subgroup-matrix-run.js';
export { adapterFacts, type AdapterFacts } from './webgpu/features.js';
export { relError } from './compare.js';
export { webgpuReconstructionLoss, setWebgpuLoss, type FusedLossSpec } from './webgpu/ssim-loss.js';
export { webgpuAdamStep, webgpuAdamDispatches, type AdamHyper } from './webgpu/adam.js';
