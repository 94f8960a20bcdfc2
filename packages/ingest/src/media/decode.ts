import type { Frame } from 'node-av/lib';
import { Graph, filterFrames, videoSourceArgs } from './graph.js';
import { MediaInput } from './input.js';

/** Picture samples handed out by decodeVideo: packed RGB (8 or 16 bit, native order) or planar float. */
export interface Picture {
  width: number;
  height: number;
  data: Buffer;
}

/** The filters that turn a stream upright, as the ffmpeg CLI's autorotate does. */
export function rotationFilters(rotation: number): string[] {
  if (rotation === 90) return ['transpose=clock'];
  if (rotation === 180) return ['hflip', 'vflip'];
  if (rotation === 270) return ['transpose=cclock'];
  return [];
}

/**
 * Decodes the first video stream of `src` through `filters` (FFmpeg filter names, in order) and a final
 * conversion to `pixFmt`, handing each picture to `onPicture` in order. `onPicture` may return a promise
 * (e.g. a file write): up to `inFlight` of them run at once.
 */
export async function decodeVideo(src: string, filters: string[], pixFmt: string, onPicture: (index: number, pic: Picture) => Promise<void> | void, inFlight = 6): Promise<number> {
  const input = await MediaInput.open(src, 'cannot decode video');
  const stream = input.video();
  if (!stream) {
    await input.close();
    throw new Error(`${src} has no video stream`);
  }
  let count = 0;
  const pending: Promise<void>[] = [];
  const take = async (graph: Graph) => {
    for await (const f of graph.pull()) {
      const pic = { width: f.width, height: f.height, data: f.toBuffer() };
      const done = Promise.resolve(onPicture(count++, pic));
      done.catch(() => undefined); // reported when awaited below
      pending.push(done);
      if (pending.length >= inFlight) await pending.shift();
    }
  };
  try {
    const open = (f: Frame) => Graph.create([{ video: videoSourceArgs(f, stream.timeBase) }], `[src0]${[...filters, `format=${pixFmt}`].join(',')}`);
    await filterFrames(input.frames(stream), open, take);
    await Promise.all(pending);
  } finally {
    await input.close();
  }
  return count;
}
