// No tensor engine is loaded through this entry (the review page reads labels with it); the stage's own entry is cli.ts.
export { parseLabels, readLabels, formatLabels, rasteriseLabels, LABEL_MODES, type Labels, type LabelPolygon, type LabelMode } from './labels.js';
export { parseParams, DEFAULTS, type OcclusionParams } from './params.js';
export { occluderMatte, occluderTexture, composite, visibleTarget, rng, OCCLUDER_SHAPES, type OccluderShape } from './synth.js';
export { readShot, readTextures, samplePhotos, alignedFrames, type ShotFrame, type Texture } from './shot.js';
export { makeBatch, packInput, medianFace, INPUT_CHANNELS, type TrainingSet } from './batch.js';
export { iou, occludeAlign, readMask, type OccludedFrame } from './evaluate.js';
export { withMargin } from './margin.js';
