export { type Image, type Affine, createImage, cloneImage } from './types.js';
export { readImage, writePng, encodePng, quantise, type DecodedImage, type ReadOptions, type WriteOptions } from './codec.js';
export { resize } from './resize.js';
export { warpAffine, invertAffine, composeAffine, applyAffine, type WarpOptions } from './affine.js';
export { drawText, textWidth, GLYPH_WIDTH, GLYPH_HEIGHT } from './text.js';
