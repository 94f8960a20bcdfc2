export { type Image, type Affine, createImage, cloneImage } from './types.js';
export { readImage, readSamples, writePng, writePngSamples, encodePngSamples, encodePng, quantise, type DecodedImage, type ImageSamples, type ReadOptions, type WriteOptions } from './codec.js';
export { resize } from './resize.js';
export { warpAffine, invertAffine, composeAffine, applyAffine, type WarpOptions } from './affine.js';
export { readExr, writeExr, encodeExr, decodeExr, halfTable, toHalf, roundToHalf, type ExrImage, type ExrWriteOptions } from './exr.js';
export { srgbToLinear, linearToSrgb, srgbProxy, linearise, srgbDescription, exrDescription, displayDescription, type ColourDescription } from './colour.js';
export { packedFrame } from './avframe.js';
export { drawText, textWidth, GLYPH_WIDTH, GLYPH_HEIGHT } from './text.js';
