export { probe, assertFile, pixFmtBitDepth, frameTiming, type ProbeResult, type VideoStreamInfo, type AudioStreamInfo } from './probe.js';
export { isSequenceSource, listSequence, globToRegex, IMAGE_EXTENSIONS, type SequenceFrame } from './sequence.js';
export {
  extractFrames, extractAudio, convertSequence, fitSize, checkRange, outputFrameCount,
  type ExtractOptions, type ExtractResult, type AudioOptions, type SequenceOptions, type SequenceResult,
  type FrameRange, type ScaleLimit, type BitDepthParam,
} from './extract.js';
export { ingest, videoSources, type IngestOptions, type FramesMeta, type ClipRecord } from './ingest.js';
export { synthesize, synthCameras, rng, type SynthOptions, type SynthCamera } from './synth.js';
export {
  encodeVideo, encodeCompare, compareSheet, listFrames, fpsValue, ENCODE_FORMATS, VIDEO_FORMATS, SEQUENCE_FORMATS,
  type EncodeOptions, type EncodeResult, type EncodeFormat, type CompareOptions,
} from './encode.js';
export { encodeGrid, gridLayout, gridFrame, tileOrigin, GRID_TILE, type GridLayout, type GridOptions } from './grid.js';
export { findGridInputs, type GridInputs } from './grid-inputs.js';
export { writePatches, type PatchOptions } from './patch.js';
export { MediaInput, avError } from './media/input.js';
export { MediaOutput, openEncoder, encodeFrame, type EncoderSpec } from './media/output.js';
export { Graph, videoSourceArgs, type GraphSource } from './media/graph.js';
export { decodeVideo, rotationFilters, type Picture } from './media/decode.js';
export { VideoWriter, StillWriter, type Samples, type VideoFormat, type StillFormat, type VideoWriterOptions } from './media/writers.js';
export { colourEnums, colourNames } from './media/colour.js';
export { parseRational, rational, rationalText, type Rational } from './media/rational.js';
export { ingestStage, synthStage, encodeStage, findEncodeInputs } from './stages.js';
