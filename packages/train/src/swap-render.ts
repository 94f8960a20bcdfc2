/**
 * The rendering loop of the swap stage: each target crop is encoded once by the shared encoder and decoded by
 * every decoder asked for (one for `source: <identity>`, all of them for `source: all`), so the faces of the
 * identities of one frame come from the same latent code.
 */
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readImage, resize, writePng } from '@facecomb/image';
import { frameName } from '@facecomb/stage';
import type { CombModel } from './model.js';
import { infer } from './preview.js';

export interface RenderJob {
  model: CombModel;
  /** The align folder: crops/ and masks/ of the frames. */
  alignDir: string;
  /** Frames with a face, rendered in this order. */
  frames: number[];
  /** Model resolution and fade-in alpha (the card's). */
  resolution: number;
  alpha: number;
  /** Size of the written faces (the align crop size). */
  size: number;
  batch: number;
  /** Decoder indices and, for each, the folder its faces go to. */
  decoders: Array<{ index: number; dir: string }>;
  /** Where the align masks are copied (once per frame, whatever the number of decoders). */
  masksDir: string;
  onProgress?: (done: number, total: number) => void;
}

/** Renders every frame of `job` through each of its decoders; writes faces/…/NNNNNN.png and the masks. */
export async function renderFaces(job: RenderJob): Promise<void> {
  const r = job.resolution;
  const px = r * r * 3;
  for (const d of job.decoders) await mkdir(d.dir, { recursive: true });
  await mkdir(job.masksDir, { recursive: true });
  let done = 0;
  for (let i = 0; i < job.frames.length; i += job.batch) {
    const chunk = job.frames.slice(i, i + job.batch);
    const x = new Float32Array(chunk.length * px);
    await Promise.all(
      chunk.map(async (f, k) => {
        const img = await readImage(join(job.alignDir, 'crops', frameName(f)), { channels: 3 });
        x.set(img.width === r && img.height === r ? img.data : resize(img, r, r).data, k * px);
      }),
    );
    const ys = await infer(job.model, x, chunk.length, r, job.alpha, job.decoders.map((d) => d.index));
    await Promise.all(
      chunk.map(async (f, k) => {
        await Promise.all(
          job.decoders.map(async (d, j) => {
            const face = { width: r, height: r, channels: 3, data: ys[j].slice(k * px, (k + 1) * px) };
            await writePng(join(d.dir, frameName(f)), r === job.size ? face : resize(face, job.size, job.size));
          }),
        );
        const mask = join(job.alignDir, 'masks', frameName(f));
        if (await stat(mask).then(() => true, () => false)) await copyFile(mask, join(job.masksDir, frameName(f)));
      }),
    );
    done += chunk.length;
    job.onProgress?.(done, job.frames.length);
  }
}
