import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { frameName, readJson } from '@facecomb/stage';

/** What align reads from an ingest/synth artifact (docs/ARTIFACTS.md). */
export interface FrameSource {
  dir: string;
  fps: number;
  width: number;
  height: number;
  frames: number[];
  meta: Record<string, unknown>;
  /** First frame of every clip after the first (ingest of several videos): smoothing and tracking restart there. */
  clipStarts: Set<number>;
}

export async function readMeta(dir: string): Promise<Record<string, unknown>> {
  return readJson(join(dir, 'meta.json'), 'align', `${dir} is not a stage artifact folder`);
}

/** Reads a frames artifact (kind ingest or synth) and checks its first and last frame files exist. */
export async function readFrameSource(dir: string): Promise<FrameSource> {
  const meta = await readMeta(dir);
  if (meta.kind !== 'ingest' && meta.kind !== 'synth') {
    throw new Error(`${join(dir, 'meta.json')}: kind is '${String(meta.kind)}', expected 'ingest' or 'synth' (align needs a frames stage)`);
  }
  const frames = meta.frames;
  if (!Array.isArray(frames) || frames.some((f) => !Number.isInteger(f))) {
    throw new Error(`${join(dir, 'meta.json')}: 'frames' must be an array of frame numbers`);
  }
  const fps = Number(meta.fps);
  if (!(fps > 0)) throw new Error(`${join(dir, 'meta.json')}: 'fps' must be a positive number`);
  for (const f of [frames[0], frames[frames.length - 1]].filter((x) => x !== undefined)) {
    const p = join(dir, 'frames', frameName(f as number));
    await access(p).catch(() => {
      throw new Error(`frame ${f} listed in ${join(dir, 'meta.json')} is missing: ${p}`);
    });
  }
  const clips = Array.isArray(meta.clips) ? (meta.clips as { first?: unknown }[]) : [];
  const clipStarts = new Set(clips.slice(1).map((c) => c.first).filter((f): f is number => Number.isInteger(f)));
  return { dir, fps, width: Number(meta.width), height: Number(meta.height), frames: frames as number[], meta, clipStarts };
}
