export { parseLabels, readLabels, formatLabels, rasteriseLabels, LABEL_MODES, type Labels, type LabelPolygon, type LabelMode } from './labels.js';
export { runOcclusion } from './stage.js';
export { parseParams, DEFAULTS, type OcclusionParams } from './params.js';
export { occluderMatte, occluderTexture, composite, visibleTarget, rng, OCCLUDER_SHAPES, type OccluderShape } from './synth.js';
export { readShot, readTextures, samplePhotos, alignedFrames, type ShotFrame, type Texture } from './shot.js';
export { makeBatch, packInput, medianFace, INPUT_CHANNELS, type TrainingSet } from './batch.js';
export { trainSegmenter, predict } from './train.js';
export { iou, occludeAlign, readMask, type OccludedFrame } from './evaluate.js';
