import { resolve } from 'node:path';
import type { FrameRange } from './extract.js';

/** A problem in an ingest stage's params, at a path inside its `with` (the runner's stages.json `check`). */
export interface IngestProblem {
  path: (string | number)[];
  message: string;
}

/**
 * The ingest kind's check before anything runs: a `range` must lie inside the source (its frame count read by
 * probing the packets, none decoded; an image sequence's file numbers). Without a range there is nothing to
 * probe, and the FFmpeg libraries are not even loaded.
 */
export async function check(params: Record<string, unknown>, ctx: { dir: string }): Promise<IngestProblem[]> {
  const range = params.range as FrameRange | undefined;
  const src = params.src;
  if (!Array.isArray(range) || (typeof src !== 'string' && !Array.isArray(src))) return [];
  const { checkRange, outputFrameCount } = await import('./extract.js');
  const { videoSources } = await import('./ingest.js');
  const { listSequence } = await import('./sequence.js');
  const { probe } = await import('./probe.js');
  try {
    const abs = typeof src === 'string' ? resolve(ctx.dir, src) : src.map((f) => resolve(ctx.dir, String(f)));
    const videos = await videoSources(abs);
    if (!videos) {
      const all = await listSequence(abs as string);
      if (all.length) checkRange(range, all[0].number, all[all.length - 1].number, String(src));
      return [];
    }
    if (videos.length > 1) return [{ path: ['range'], message: `range applies to one video; src names ${videos.length}: cut the clips, or ingest them one by one` }];
    const v = (await probe(videos[0])).video;
    if (v) checkRange(range, 1, outputFrameCount(v), String(src));
    return [];
  } catch (e) {
    const message = (e as Error).message;
    return [{ path: [message.startsWith('range') ? 'range' : 'src'], message }];
  }
}
