import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readImage, resize, type Image } from '@facecomb/image';

/** One aligned frame at the segmenter's size: RGB crop and the align stage's (landmark hull) mask. */
export interface ShotFrame {
  frame: number;
  /** Crop name without ".png" (six digits), as labels name it. */
  name: string;
  rgb: Float32Array;
  hull: Float32Array;
  /** The align crop's side in pixels (masks are written at it). */
  cropSize: number;
}

/** A texture source for occluders: an RGB image. */
export type Texture = { data: Float32Array; width: number; height: number };

const pad = (n: number): string => String(n).padStart(6, '0');

function fit(img: Image, size: number): Float32Array {
  return (img.width === size && img.height === size ? img : resize(img, size, size)).data;
}

/** The frames of an align output that have a face, from its meta.json `withFace` (or its crops/ folder). */
export async function alignedFrames(alignDir: string, meta: Record<string, unknown>): Promise<number[]> {
  if (Array.isArray(meta.withFace) && meta.withFace.every((f) => Number.isInteger(f))) return meta.withFace as number[];
  const names = await readdir(join(alignDir, 'crops')).catch(() => {
    throw new Error(`align output ${alignDir} has no crops/ folder: run the align stage first`);
  });
  return names.filter((n) => /^\d{6}\.png$/.test(n)).map((n) => Number.parseInt(n, 10)).sort((a, b) => a - b);
}

/** Reads every aligned crop and hull mask of `frames`, resized to `size`. */
export async function readShot(alignDir: string, frames: number[], size: number): Promise<ShotFrame[]> {
  return Promise.all(
    frames.map(async (frame) => {
      const name = pad(frame);
      const cropFile = join(alignDir, 'crops', `${name}.png`);
      const maskFile = join(alignDir, 'masks', `${name}.png`);
      if (!existsSync(cropFile) || !existsSync(maskFile)) throw new Error(`align output is missing ${cropFile} or ${maskFile} (listed as a face frame in ${join(alignDir, 'meta.json')})`);
      const [crop, mask] = await Promise.all([readImage(cropFile, { channels: 3 }), readImage(maskFile, { channels: 1 })]);
      return { frame, name, rgb: fit(crop, size), hull: fit(mask, size), cropSize: crop.width };
    }),
  );
}

/** The face-api sample photos that ship in node_modules: object-like occluder fills. */
export function samplePhotos(): string[] {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
  return [1, 2, 3, 4, 5, 6].map((i) => join(dir, `sample${i}.jpg`)).filter((f) => existsSync(f));
}

/** Textures for occluders: up to `count` whole frames of the plate (evenly spaced) and the given photos, at `side` px. */
export async function readTextures(framesDir: string, frames: number[], photos: string[], count: number, side: number): Promise<Texture[]> {
  const step = Math.max(1, Math.floor(frames.length / count));
  const plates = frames.filter((_, i) => i % step === 0).slice(0, count).map((f) => join(framesDir, 'frames', `${pad(f)}.png`)).filter((f) => existsSync(f));
  return Promise.all(
    [...plates, ...photos].map(async (file) => {
      const img = await readImage(file, { channels: 3 });
      const k = side / Math.max(img.width, img.height);
      const small = resize(img, Math.max(8, Math.round(img.width * k)), Math.max(8, Math.round(img.height * k)));
      return { data: small.data, width: small.width, height: small.height };
    }),
  );
}
