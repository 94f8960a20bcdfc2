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
export { registerWasmTrainingKernels } from './wasm/register.js';
export { registerCpuTrainingKernels } from './cpu/register.js';
export { originalKernel } from './kernel-calls.js';
export {
  flags, setFlag, listFlags, readFlags, setWasmFilterGradMethod, setSplitKTarget, setConvActFusion, useWebgpuKernels, setWebgpuLoss,
  type Flags, type FlagRow, type FilterGradMethod, type ConvActFusion, type Precision, type SubgroupMatrixRequest,
} from './flags.js';
export { registeredOps, type Op } from './ops/registry.js';
export { applyTfjsFixes } from './fixes.js';
export { registerWebgpuFixes, forbidSyncReads } from './webgpu/fixes.js';
export { unavailable, webgpuRequired, switchOrSkip } from './require.js';
export { registerWebgpuKernels, webgpuOriginalKernel, setWebgpuPrecision } from './webgpu/register.js';
export { webgpuHasF16 } from './webgpu/features.js';
export { initSubgroupMatrix, disableSubgroupMatrix, subgroupMatrixStatus, subgroupMatrixDispatches, type SmxStatus, type SmxKind } from './webgpu/subgroup-matrix-run.js';
export { adapterFacts, type AdapterFacts } from './webgpu/features.js';
export { relError } from './compare.js';
export { ssimL1Loss, ssimL1LossOp, ssimL1LossReference, maskedSsim, maskedL1, maskedMean, ssimParts, type FusedLossSpec } from './ops/ssim-l1-loss.js';
export { adamSteps, adamOp, adamReference, type AdamItem, type AdamHyper } from './ops/adam.js';
export { webgpuAdamStep, webgpuAdamSteps, adamGroupSize, webgpuAdamDispatches, type ScaledStep } from './webgpu/adam.js';
export { webgpuOwnDispatches } from './webgpu/dispatch.js';
export { LossScaler, type LossScaleOptions, type LossScaleState } from './webgpu/loss-scale.js';
export { conv2dLeakyRelu, conv2dLeakyReluOp, conv2dLeakyReluReference, convActFusion, type ConvLeakyOptions } from './ops/conv2d-leaky-relu.js';
export { fadeBlend, fadeBlendOp, fadeBlendReference } from './ops/fade-blend.js';
export { concatFloat32 } from './arrays.js';
