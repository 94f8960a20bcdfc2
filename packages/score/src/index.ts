export { scoreStage } from './stages.js';
export { scoreSwap, type ScoreResult, type FrameScore, type ScoreOptions } from './score.js';
export { findInputs, type ScoreInputs, type Identity } from './inputs.js';
export { parseScoreParams, type ScoreParams, type Threshold } from './params.js';
export { FIGURES, DELIVERED_GROUPS, type FigureName, type Figures } from './figures.js';
export { checkThresholds, type Breach } from './gate.js';
export { FaceReader, cropWindow, descriptorWindow, onCanvas, EXPRESSIONS, type FaceReading } from './faces.js';
export { identityMean, meanDescriptor, nearest, evenly, type IdentityMean } from './identity.js';
export { maskedSsim, maskedPsnr, maskedMeanAbsDiff, gradient, edgeBand, highFrequency, regionMean, boxFilter, luma } from './metrics.js';
export { mouthRegion, eyesRegion, rasterise } from './regions.js';
export { scoreTable } from './table.js';
export { plotScore } from './plot.js';
export { seamView, seamFigures, type SeamView } from './seams.js';
export {
  measureDelivered, deliveredFigures, plateFaces, matchDetection, landmarkError, expressionL1, detailPair,
  type DeliveredOptions, type DeliveredResult, type DeliveredFrame, type DeliveredFigures, type PlateFace,
} from './delivered.js';
export { ReadingCache } from './readings.js';
