export { tf, initEngine, type EngineChoice } from './tf.js';
export {
  resolveConfig, configHash, configDiff, modelIdentity, storedModel, storedConfig, levels, ConfigError,
  DEFAULT_CHANNELS, DEFAULT_BATCH, DEFAULT_AUGMENT,
  type TrainConfig, type ModelConfig, type ScheduleConfig, type OptimConfig, type LossConfig, type RunConfig, type LossWeights, type Augment, type BatchNormPlacement, type Activation,
} from './config.js';
export { TRAIN_PARAMS, trainParamsSchema, type ParamSpec, type Group } from './params.js';
export { CombModel, type ForwardOptions } from './model.js';
export { convLayers, variablesAt, variablesUpTo, trainedAt, parameterCount, forwardValues, type ConvLayer, type VarSpec } from './build-plan.js';
export { Adam, type AdamSettings } from './adam.js';
export { maskedSsim, maskedMsSsim, maskedL1, maskedGradientL1, reconstructionLoss, usesMsSsim, msScales } from './loss.js';
export { regionWeightMap, hasRegionWeights, REGION_POINTS } from './regions.js';
export { expressionVector, kmeans, balanceWeights, cumulative, drawWeighted } from './balance.js';
export { phases, planStep, totalSteps, type Phase, type StepPlan } from './schedule.js';
export { readDataset, loadSample, augment, BatchLoader, previewSamples, type IdentitySet, type DatasetItem, type Batch, type Sample } from './data.js';
export { saveCheckpoint, loadCheckpoint, findCheckpoint, readState, readCard, readMetrics, checkCompatible, type TrainState, type ModelCard } from './checkpoint.js';
export { leanTrainStep, readLosses } from './lean.js';
export { train, trainStep, Interrupted, type TrainOptions, type TrainResult, type MetricsRecord } from './trainer.js';
export { TrainRun } from './train-run.js';
export { stepPath, runStep, GPU_ENGINES, type StepPath } from './step-path.js';
export { swapFaces, swapSources, ALL_SOURCES, type SwapOptions, type SwapResult } from './swap.js';
export { infer, writePreviews } from './preview.js';
export {
  estimateStepMemory, planBatches, explicitBatches, engineMemoryLimit, wasmMemoryMaximum, formatBytes, MemoryLimitError,
  WASM_HEAP_FACTOR, ACTIVATION_COPIES, WASM32_MAX_BYTES, type StepMemory, type BatchPlan, type LevelBatch,
} from './memory.js';
export { Rng, hash32, type RngState } from './rng.js';
export { trainStage, swapStage } from './stages.js';
export { forwardMacs } from './flops.js';
export { Eta } from './eta.js';
export { GradientPool, resolveWorkers, PARALLEL_ENGINES } from './parallel.js';

export { upsample2xBilinear } from './upsample.js';
