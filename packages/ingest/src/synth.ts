import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { readImage, resize, warpAffine, writePng, type Affine, type Image } from '@facecomb/image';
import { frameName } from '@facecomb/stage';
import type { FramesMeta } from './ingest.js';
import { assertFile } from './probe.js';

export interface SynthOptions {
  /** The still photo. */
  image: string;
  /** Output folder (frames/, camera.json, meta.json). */
  out: string;
  /** Number of frames (default 48). */
  frames?: number;
  /** Frame rate (default 25). */
  fps?: number;
  /** Output [width, height] (default [512, 512]). */
  size?: [number, number];
  /** Camera move amplitude: pan as a fraction of the frame, zoom as log scale, roll in radians (default 0.05). */
  motion?: number;
  /** Brightness/colour drift amplitude as a fraction of the value (default 0.1). */
  light?: number;
  /** Seed of the smooth random curves (default 1). */
  seed?: number;
  /** Region of the photo to frame, [x, y, w, h] in photo pixels (default: the whole photo). */
  crop?: [number, number, number, number];
  onProgress?: (done: number, total: number) => void;
}

/** One frame's camera: `matrix` maps photo pixels (after the optional pre-shrink by `prescale`) to frame pixels. */
export interface SynthCamera {
  frame: number;
  /** Photo pixel -> frame pixel. */
  matrix: Affine;
  gain: number;
  colour: [number, number, number];
}

/** mulberry32: a small, fast, seedable PRNG (deterministic across platforms). */
export function rng(seed: number): () => number {
  let a = (Math.floor(seed) >>> 0) ^ 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A smooth curve in [-1, 1]: a sum of three low-frequency sines (0.1-0.6 Hz) with random phases. */
function smoothCurve(rand: () => number): (t: number) => number {
  const terms = [0, 1, 2].map((k) => ({ f: 0.1 + rand() * 0.5, p: rand() * Math.PI * 2, w: 1 / (k + 1) }));
  const norm = terms.reduce((s, x) => s + x.w, 0);
  return (t) => terms.reduce((s, x) => s + x.w * Math.sin(2 * Math.PI * x.f * t + x.p), 0) / norm;
}

/** The per-frame cameras for a synth shot (pure function of the params). */
export function synthCameras(opts: {
  photo: [number, number];
  crop: [number, number, number, number];
  frames: number;
  fps: number;
  size: [number, number];
  motion: number;
  light: number;
  seed: number;
}): SynthCamera[] {
  const rand = rng(opts.seed);
  const [px, py, pz, pr, pl, pcr, pcg, pcb] = Array.from({ length: 8 }, () => smoothCurve(rand));
  const [W, H] = opts.size;
  const [cx0, cy0, cw, ch] = opts.crop;
  const m = opts.motion;
  // cover the frame with the crop, with margin for the largest pan/zoom-out/roll so no border shows
  const margin = (1 + 2 * m) * Math.exp(m) * (Math.cos(m) + Math.sin(m) * Math.max(W / H, H / W));
  const base = Math.max(W / cw, H / ch) * margin;
  const scx = cx0 + cw / 2, scy = cy0 + ch / 2;
  const cams: SynthCamera[] = [];
  for (let i = 0; i < opts.frames; i++) {
    const t = i / opts.fps;
    const k = base * Math.exp(m * pz(t));
    const roll = m * pr(t);
    const cos = Math.cos(roll) * k, sin = Math.sin(roll) * k;
    const dx = W / 2 + m * W * px(t), dy = H / 2 + m * H * py(t);
    const matrix: Affine = [cos, -sin, dx - (cos * scx - sin * scy), sin, cos, dy - (sin * scx + cos * scy)];
    const gain = 1 + opts.light * pl(t);
    const colour: [number, number, number] = [1 + 0.5 * opts.light * pcr(t), 1 + 0.5 * opts.light * pcg(t), 1 + 0.5 * opts.light * pcb(t)];
    cams.push({ frame: i + 1, matrix, gain, colour });
  }
  return cams;
}

function scaleMatrix(m: Affine, s: number): Affine {
  // photo pixel p -> shrunk pixel s*p; the frame matrix on shrunk pixels is m * diag(1/s)
  return [m[0] / s, m[1] / s, m[2], m[3] / s, m[4] / s, m[5]];
}

/**
 * Makes a short "shot" from one still photo: a smooth seeded camera move (pan, zoom, roll) and a slow
 * brightness/colour drift. Writes out/frames/NNNNNN.png (from 000001), out/camera.json and out/meta.json.
 * Deterministic: the same params give the same bytes.
 */
export async function synthesize(opts: SynthOptions): Promise<FramesMeta> {
  const image = resolvePath(opts.image);
  const frames = opts.frames ?? 48;
  const fps = opts.fps ?? 25;
  const size = opts.size ?? [512, 512];
  const motion = opts.motion ?? 0.05;
  const light = opts.light ?? 0.1;
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(frames) || frames < 1) throw new Error(`frames must be a whole number >= 1, got ${opts.frames}`);
  if (!(fps > 0)) throw new Error(`fps must be positive, got ${opts.fps}`);
  if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isInteger(v) && v > 0)) throw new Error(`size must be [width, height] in whole pixels, got ${JSON.stringify(opts.size)}`);
  if (!(motion >= 0 && motion < 0.5)) throw new Error(`motion must be in [0, 0.5), got ${opts.motion}`);
  if (!(light >= 0 && light < 1)) throw new Error(`light must be in [0, 1), got ${opts.light}`);
  await assertFile(image, 'synth image');
  const photo = await readImage(image, { channels: 3 });
  const crop = opts.crop ?? [0, 0, photo.width, photo.height];
  if (crop.length !== 4 || crop[2] <= 0 || crop[3] <= 0) throw new Error(`crop must be [x, y, w, h] with w, h > 0, got ${JSON.stringify(opts.crop)}`);
  const cams = synthCameras({ photo: [photo.width, photo.height], crop, frames, fps, size, motion, light, seed });
  // shrink the photo first when the camera shrinks it a lot: bilinear sampling alone would alias
  const maxScale = Math.max(...cams.map((c) => Math.hypot(c.matrix[0], c.matrix[3])));
  let src: Image = photo;
  let pre = 1;
  if (maxScale < 0.7) {
    pre = Math.min(1, maxScale * 1.25);
    src = resize(photo, Math.max(1, Math.round(photo.width * pre)), Math.max(1, Math.round(photo.height * pre)));
    pre = src.width / photo.width;
  }
  const framesDir = join(opts.out, 'frames');
  await mkdir(framesDir, { recursive: true });
  opts.onProgress?.(0, frames);
  for (let i = 0; i < frames; i++) {
    const cam = cams[i];
    const img = warpAffine(src, scaleMatrix(cam.matrix, pre), size[0], size[1], { replicate: true });
    const d = img.data;
    const g0 = cam.gain * cam.colour[0], g1 = cam.gain * cam.colour[1], g2 = cam.gain * cam.colour[2];
    for (let j = 0; j < d.length; j += 3) {
      d[j] *= g0;
      d[j + 1] *= g1;
      d[j + 2] *= g2;
    }
    await writePng(join(framesDir, frameName(cam.frame)), img, { bitDepth: 8, compression: 6 });
    opts.onProgress?.(i + 1, frames);
  }
  await writeFile(join(opts.out, 'camera.json'), `${JSON.stringify({ photo: { width: photo.width, height: photo.height }, crop, cameras: cams }, null, 1)}\n`);
  const meta: FramesMeta = {
    kind: 'synth', source: image, fps, fpsRational: Number.isInteger(fps) ? String(fps) : `${Math.round(fps * 1000)}/1000`,
    width: size[0], height: size[1], bitDepth: 8, frames: cams.map((c) => c.frame), first: 1, last: frames, count: frames,
    audio: null, duration: frames / fps, motion: { amplitude: motion, light, seed, crop }, camera: 'camera.json',
  };
  await writeFile(join(opts.out, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  return meta;
}
