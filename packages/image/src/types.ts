/**
 * An image as plain typed memory: interleaved channels (HWC), float values in [0, 1].
 * Every package exchanges images in this form; only the codec (sharp) knows about file formats.
 */
export interface Image {
  width: number;
  height: number;
  channels: number;
  data: Float32Array;
}

/** A 2x3 affine matrix [a, b, tx, c, d, ty] mapping (x, y) -> (a x + b y + tx, c x + d y + ty). */
export type Affine = [number, number, number, number, number, number];

export function createImage(width: number, height: number, channels: number, fill = 0): Image {
  const data = new Float32Array(width * height * channels);
  if (fill !== 0) data.fill(fill);
  return { width, height, channels, data };
}

export function cloneImage(img: Image): Image {
  return { ...img, data: new Float32Array(img.data) };
}
