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
}

/** A batch: inputs [n, size, size, 4] (RGB + landmark hull) and targets [n, size, size, 1]. */
export interface Batch {
  n: number;
  x: Float32Array;
  y: Float32Array;
}

/** The network input for one frame: RGB and the landmark hull as a fourth channel, interleaved. */
export function packInput(rgb: Float32Array, hull: Float32Array, into: Float32Array, offset: number): void {
  for (let i = 0; i < hull.length; i++) {
    const o = offset + i * 4;
    into[o] = rgb[i * 3];
    into[o + 1] = rgb[i * 3 + 1];
    into[o + 2] = rgb[i * 3 + 2];
    into[o + 3] = hull[i];
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
function sample(set: TrainingSet, r: () => number): { rgb: Float32Array; hull: Float32Array; target: Float32Array } {
  const { size, frames, labelled, textures } = set;
  const pickLabelled = labelled.size > 0 && r() < 0.3;
  const keys = [...labelled.keys()];
  const i = pickLabelled ? keys[Math.floor(r() * keys.length)] : Math.floor(r() * frames.length);
  const f = frames[i];
  const gain = 0.85 + 0.3 * r();
  let rgb: Float32Array = f.rgb.map((v) => Math.min(1, v * gain));
  let hull: Float32Array = f.hull;
  let target: Float32Array = labelled.get(i) ?? f.hull;
  if (r() < set.occluded) {
    const count = r() < 0.25 ? 2 : 1;
    for (let k = 0; k < count; k++) {
      const matte = occluderMatte(r, size);
      // skin cut from another frame's crop makes hand-like fills; plates and photos make object-like ones
      const src: Texture = r() < 0.5 || textures.length === 0 ? { data: frames[Math.floor(r() * frames.length)].rgb, width: size, height: size } : textures[Math.floor(r() * textures.length)];
      composite(rgb, occluderTexture(r, src, size), matte);
      target = visibleTarget(target, matte);
    }
  }
  if (r() < 0.5) {
    rgb = flipRows(rgb, size, 3);
    hull = flipRows(hull, size, 1);
    target = flipRows(target, size, 1);
  }
  return { rgb, hull, target };
}

/** A batch of `n` samples. */
export function makeBatch(set: TrainingSet, n: number, r: () => number): Batch {
  const px = set.size * set.size;
  const x = new Float32Array(n * px * 4);
  const y = new Float32Array(n * px);
  for (let b = 0; b < n; b++) {
    const s = sample(set, r);
    packInput(s.rgb, s.hull, x, b * px * 4);
    y.set(s.target, b * px);
  }
  return { n, x, y };
}
