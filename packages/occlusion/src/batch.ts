import { composite, occluderMatte, occluderTexture, visibleTarget } from './synth.js';
import type { ShotFrame, Texture } from './shot.js';

/** What a training batch is drawn from. */
export interface TrainingSet {
  size: number;
  frames: ShotFrame[];
  /** Frame index -> the labelled visible-face mask at `size` (0..1), for frames the user labelled. */
  labelled: Map<number, Float32Array>;
  /** Fills for object-like occluders (plate frames, photos). */
  textures: Texture[];
  /** Share of samples given synthetic occluders. */
  occluded: number;
  /** The shot's median face (RGB at `size`): what differs from it in a frame may be an occluder. */
  median: Float32Array;
}

/** Input channels: RGB, the landmark hull, and the difference from the shot's median face. */
export const INPUT_CHANNELS = 5;

/** Per-pixel median of the frames' RGB crops (the shot's face without what passes in front of it in a few frames). */
export function medianFace(frames: { rgb: Float32Array }[]): Float32Array {
  const n = frames.length;
  const out = new Float32Array(frames[0].rgb.length);
  const col = new Float32Array(n);
  for (let i = 0; i < out.length; i++) {
    for (let k = 0; k < n; k++) col[k] = frames[k].rgb[i];
    col.sort();
    out[i] = col[n >> 1];
  }
  return out;
}

/** Mean absolute RGB difference per pixel, doubled and clipped to [0, 1]. */
function difference(rgb: Float32Array, median: Float32Array): Float32Array {
  const out = new Float32Array(rgb.length / 3);
  for (let i = 0; i < out.length; i++) {
    const d = Math.abs(rgb[i * 3] - median[i * 3]) + Math.abs(rgb[i * 3 + 1] - median[i * 3 + 1]) + Math.abs(rgb[i * 3 + 2] - median[i * 3 + 2]);
    out[i] = Math.min(1, (2 * d) / 3);
  }
  return out;
}

/** A batch: inputs [n, size, size, INPUT_CHANNELS], targets (1: face uncovered) and loss weights [n, size, size, 1]. */
export interface Batch {
  n: number;
  x: Float32Array;
  y: Float32Array;
  w: Float32Array;
}

/** The network input for one frame, interleaved: RGB, the landmark hull, the difference from the median face. */
export function packInput(rgb: Float32Array, hull: Float32Array, median: Float32Array, into: Float32Array, offset: number): void {
  const diff = difference(rgb, median);
  for (let i = 0; i < hull.length; i++) {
    const o = offset + i * INPUT_CHANNELS;
    into[o] = rgb[i * 3];
    into[o + 1] = rgb[i * 3 + 1];
    into[o + 2] = rgb[i * 3 + 2];
    into[o + 3] = hull[i];
    into[o + 4] = diff[i];
  }
}

function flipRows(a: Float32Array, size: number, ch: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < ch; c++) out[(y * size + x) * ch + c] = a[(y * size + (size - 1 - x)) * ch + c];
    }
  }
  return out;
}

/** One training sample: a frame, maybe occluded by one or two synthetic occluders, maybe mirrored. */
interface Sample { rgb: Float32Array; hull: Float32Array; median: Float32Array; target: Float32Array; weight: Float32Array }

/**
 * The loss weight: the hull (only the face counts), lowered to a fifth where an unlabelled frame says "uncovered"
 * but differs from the median face, since a real hand in the shot may be there (only labels are sure of it).
 */
function weights(hull: Float32Array, rgb: Float32Array, median: Float32Array, labelled: boolean): Float32Array {
  if (labelled) return hull;
  const diff = difference(rgb, median);
  return hull.map((h, i) => (diff[i] > 0.15 ? 0.2 * h : h));
}

function sample(set: TrainingSet, r: () => number): Sample {
  const { size, frames, labelled, textures } = set;
  const pickLabelled = labelled.size > 0 && r() < 0.3;
  const keys = [...labelled.keys()];
  const i = pickLabelled ? keys[Math.floor(r() * keys.length)] : Math.floor(r() * frames.length);
  const f = frames[i];
  const gain = 0.85 + 0.3 * r();
  let rgb: Float32Array = f.rgb.map((v) => Math.min(1, v * gain));
  let hull: Float32Array = f.hull;
  let median = set.median;
  let weight = weights(f.hull, f.rgb, median, labelled.has(i));
  // the target is where the face is uncovered; the loss weighs it by the hull, so only the face counts
  let target: Float32Array = labelled.get(i) ?? new Float32Array(size * size).fill(1);
  if (r() < set.occluded) {
    const count = r() < 0.25 ? 2 : 1;
    for (let k = 0; k < count; k++) {
      const matte = occluderMatte(r, size);
      // skin cut from another frame's crop makes hand-like fills; plates and photos make object-like ones
      const src: Texture = r() < 0.5 || textures.length === 0 ? { data: frames[Math.floor(r() * frames.length)].rgb, width: size, height: size } : textures[Math.floor(r() * textures.length)];
      composite(rgb, occluderTexture(r, src, size), matte);
      target = visibleTarget(target, matte);
      // a synthetic occluder's pixels are sure: full weight there
      weight = weight.map((w, k) => (matte[k] > 0.5 ? hull[k] : w));
    }
  }
  if (r() < 0.5) {
    rgb = flipRows(rgb, size, 3);
    hull = flipRows(hull, size, 1);
    target = flipRows(target, size, 1);
    median = flipRows(median, size, 3);
    weight = flipRows(weight, size, 1);
  }
  return { rgb, hull, median, target, weight };
}

/** A batch of `n` samples. */
export function makeBatch(set: TrainingSet, n: number, r: () => number): Batch {
  const px = set.size * set.size;
  const x = new Float32Array(n * px * INPUT_CHANNELS);
  const y = new Float32Array(n * px);
  const w = new Float32Array(n * px);
  for (let b = 0; b < n; b++) {
    const s = sample(set, r);
    packInput(s.rgb, s.hull, s.median, x, b * px * INPUT_CHANNELS);
    y.set(s.target, b * px);
    w.set(s.weight, b * px);
  }
  return { n, x, y, w };
}
