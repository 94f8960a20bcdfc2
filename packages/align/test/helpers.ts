import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

/** The shared real footage, beside the repository. */
export function footage(...parts: string[]): string {
  const dir = fileURLToPath(new URL('../../../../shared/footage', import.meta.url));
  if (!existsSync(dir)) throw new Error(`the real footage folder ../shared/footage (beside the repository, here ${dir}) is required for these tests`);
  return join(dir, ...parts);
}

export function ffmpegPath(): string {
  return (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
}

export async function tmp(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `facecomb-align-${prefix}-`));
}

/**
 * Extracts `count` frames starting at source frame `start` (1-based) of a video into an ingest-layout
 * folder (frames/NNNNNN.png numbered by source frame, meta.json kind "ingest"), scaled to `width` if given.
 */
export async function ingestClip(video: string, dir: string, start: number, count: number, width?: number): Promise<{ dir: string; frames: number[]; fps: number; width: number; height: number }> {
  const fps = 25;
  await mkdir(join(dir, 'frames'), { recursive: true });
  const vf = [`select=between(n\\,${start - 1}\\,${start + count - 2})`];
  if (width) vf.push(`scale=${width}:-2`);
  await run(ffmpegPath(), ['-v', 'error', '-i', video, '-vf', vf.join(','), '-vsync', '0', '-frames:v', String(count), '-start_number', String(start), join(dir, 'frames', '%06d.png')]);
  const files = (await readdir(join(dir, 'frames'))).filter((f) => f.endsWith('.png')).sort();
  if (files.length !== count) throw new Error(`ffmpeg gave ${files.length} frames of ${video}, expected ${count}`);
  const frames = files.map((f) => Number(f.slice(0, 6)));
  const m = await sharp(join(dir, 'frames', files[0])).metadata();
  await writeMeta(dir, { source: video, fps, width: m.width!, height: m.height!, frames });
  return { dir, frames, fps, width: m.width!, height: m.height! };
}

export async function writeMeta(dir: string, m: { source: string; fps: number; width: number; height: number; frames: number[] }): Promise<void> {
  await writeFile(
    join(dir, 'meta.json'),
    JSON.stringify({ kind: 'ingest', ...m, bitDepth: 8, first: m.frames[0], last: m.frames[m.frames.length - 1], count: m.frames.length, audio: null, duration: m.frames.length / m.fps }),
  );
}

/** Renumbers nothing; moves a frame file (used to build sequences). */
export { rename };
