/**
 * Test fixtures from the real footage: ~20 frames from each of 3 congress clips, a fixed face box per clip
 * (the faces are large and centred), resized with @facecomb/image and written as `dataset` artifacts
 * (crops/, masks/ with an elliptic face mask, items.json, meta.json) under the OS temp folder.
 * Built once and reused across test files.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile, rename } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readImage, resize, writePng, type Image } from '@facecomb/image';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

export const FOOTAGE = fileURLToPath(new URL('../../../../shared/footage', import.meta.url));

/** Clip, identity name, face box as fractions of the frame: centre x, centre y, side. */
export const CLIPS = [
  { clip: 'congress/aoc-a.mp4', name: 'aoc', box: [0.55, 0.5, 0.62] },
  { clip: 'congress/katiehill.mp4', name: 'katie', box: [0.5, 0.48, 0.62] },
  { clip: 'congress/speaker-1.mp4', name: 'speaker1', box: [0.54, 0.3, 0.4] },
] as const;

export function requireFootage(): void {
  for (const c of CLIPS) {
    if (!existsSync(join(FOOTAGE, c.clip))) {
      throw new Error(`test footage ${join(FOOTAGE, c.clip)} is missing: ../shared/footage (beside the repository) is required`);
    }
  }
}

export function ffmpegPath(): string {
  return (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
}

/** Extracts `count` frames spread over the clip as PNGs into dir. */
export async function extractFrames(clip: string, dir: string, count: number, every = 6): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  await run(ffmpegPath(), ['-v', 'error', '-y', '-i', clip, '-vf', `select='not(mod(n\\,${every}))'`, '-vsync', '0', '-frames:v', String(count), join(dir, '%06d.png')]);
  return (await readdir(dir)).filter((f) => f.endsWith('.png')).sort().map((f) => join(dir, f));
}

export function cropBox(img: Image, box: readonly number[]): Image {
  const side = Math.round(box[2] * Math.min(img.width, img.height));
  const x0 = Math.max(0, Math.min(img.width - side, Math.round(box[0] * img.width - side / 2)));
  const y0 = Math.max(0, Math.min(img.height - side, Math.round(box[1] * img.height - side / 2)));
  const c = img.channels;
  const data = new Float32Array(side * side * c);
  for (let y = 0; y < side; y++) data.set(img.data.subarray(((y0 + y) * img.width + x0) * c, ((y0 + y) * img.width + x0 + side) * c), y * side * c);
  return { width: side, height: side, channels: c, data };
}

/** A soft ellipse covering the face region of a crop. */
export function ellipseMask(size: number): Image {
  const data = new Float32Array(size * size);
  const cx = (size - 1) / 2, cy = size * 0.52, rx = size * 0.38, ry = size * 0.46;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const d = Math.hypot((x - cx) / rx, (y - cy) / ry);
      data[y * size + x] = Math.max(0, Math.min(1, (1.1 - d) / 0.2));
    }
  }
  return { width: size, height: size, channels: 1, data };
}

export interface Fixture {
  root: string;
  /** Dataset folders by identity name. */
  datasets: Record<string, string>;
  /** Raw extracted frames per identity. */
  frames: Record<string, string[]>;
  size: number;
}

/** Builds (once) the three `dataset` folders at `size` px. */
export async function datasetFixture(size = 48, perClip = 20): Promise<Fixture> {
  requireFootage();
  const root = join(tmpdir(), `facecomb-train-fixture-${size}-${perClip}`);
  const datasets: Record<string, string> = {};
  const frames: Record<string, string[]> = {};
  for (const c of CLIPS) {
    const dir = join(root, 'datasets', c.name);
    datasets[c.name] = dir;
    const frameDir = join(root, 'frames', c.name);
    if (existsSync(join(dir, 'meta.json')) && existsSync(frameDir)) {
      frames[c.name] = (await readdir(frameDir)).filter((f) => f.endsWith('.png')).sort().map((f) => join(frameDir, f));
      continue;
    }
    await rm(frameDir, { recursive: true, force: true });
    frames[c.name] = await extractFrames(join(FOOTAGE, c.clip), frameDir, perClip);
    if (frames[c.name].length < perClip) throw new Error(`ffmpeg gave ${frames[c.name].length} frames of ${c.clip}, expected ${perClip}`);
    const tmp = `${dir}.tmp-${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    const mask = ellipseMask(size);
    const clipName = c.name;
    const items = [];
    for (const [k, f] of frames[c.name].entries()) {
      const img = await readImage(f, { channels: 3 });
      const crop = resize(cropBox(img, c.box), size, size);
      const frame = k * 6 + 1;
      const base = `${clipName}_${String(frame).padStart(6, '0')}.png`;
      await writePng(join(tmp, 'crops', base), crop);
      await writePng(join(tmp, 'masks', base), mask);
      items.push({ crop: `crops/${base}`, mask: `masks/${base}`, clip: clipName, frame, split: k % 10 === 9 ? 'heldout' : 'train' });
    }
    const counts = { train: items.filter((i) => i.split === 'train').length, heldout: items.filter((i) => i.split === 'heldout').length, rejected: 0 };
    await writeFile(join(tmp, 'items.json'), JSON.stringify(items, null, 1));
    await writeFile(join(tmp, 'meta.json'), JSON.stringify({ kind: 'dataset', name: c.name, size, counts }, null, 1));
    await rm(dir, { recursive: true, force: true });
    await mkdir(join(root, 'datasets'), { recursive: true });
    await rename(tmp, dir);
  }
  return { root, datasets, frames, size };
}

/** An `align`-layout folder of target crops from an identity's frames, with one frame marked as faceless. */
export async function alignFixture(fx: Fixture, name: string, count: number): Promise<string> {
  const c = CLIPS.find((x) => x.name === name)!;
  const dir = join(fx.root, `align-${name}-${count}`);
  if (existsSync(join(dir, 'meta.json'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(join(tmp, 'faces'), { recursive: true });
  const frames: number[] = [];
  const withFace: number[] = [];
  const noFace: number[] = [];
  for (let k = 0; k < count; k++) {
    const frame = k + 1;
    const base = String(frame).padStart(6, '0');
    frames.push(frame);
    if (k === 1) {
      noFace.push(frame);
      await writeFile(join(tmp, 'faces', `${base}.json`), JSON.stringify({ frame, face: null }));
      continue;
    }
    withFace.push(frame);
    const img = await readImage(fx.frames[name][k], { channels: 3 });
    await writePng(join(tmp, 'crops', `${base}.png`), resize(cropBox(img, c.box), fx.size, fx.size));
    await writePng(join(tmp, 'masks', `${base}.png`), ellipseMask(fx.size));
    const s = fx.size;
    await writeFile(join(tmp, 'faces', `${base}.json`), JSON.stringify({ frame, face: { box: [0, 0, s, s], score: 1, landmarksRaw: [], landmarks: [], matrix: [1, 0, 0, 0, 1, 0] } }));
  }
  await writeFile(join(tmp, 'meta.json'), JSON.stringify({ kind: 'align', size: fx.size, faceType: 'whole_face', fps: 25, frames, withFace, noFace, source: { width: fx.size, height: fx.size, fps: 25 } }, null, 1));
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  return dir;
}
