export { findFfmpeg, findFfprobe, whichSync, type FoundBinary } from './binaries.js';
export { command, run as runFfmpeg, ffmpegSays, availableEncoders, type RunOptions } from './ffmpeg.js';
export { probe, assertFile, pixFmtBitDepth, type ProbeResult, type VideoStreamInfo, type AudioStreamInfo } from './probe.js';
export { isSequenceSource, listSequence, IMAGE_EXTENSIONS, type SequenceFrame } from './sequence.js';
export {
  extractFrames, extractAudio, convertSequence, frameName, fitSize, checkRange,
  type ExtractOptions, type ExtractResult, type AudioOptions, type SequenceOptions, type SequenceResult,
  type FrameRange, type ScaleLimit, type BitDepthParam,
} from './extract.js';
export { ingest, type IngestOptions, type FramesMeta } from './ingest.js';
export { synthesize, synthCameras, rng, type SynthOptions, type SynthCamera } from './synth.js';
export {
  encodeVideo, encodeCompare, compareSheet, chooseCodec, listFrames, fpsValue,
  type EncodeOptions, type EncodeResult, type EncodeFormat, type CompareOptions, type VideoCodec,
} from './encode.js';
export { ingestStage, synthStage, encodeStage, findEncodeInputs } from './stages.js';
