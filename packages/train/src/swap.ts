/** Inference: encode aligned target crops, decode them with the source identity's decoder. */
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readImage, resize, writePng } from '@facecomb/image';
import { CombModel } from './model.js';
import { loadCheckpoint, readCard } from './checkpoint.js';
import { infer } from './preview.js';

export interface SwapOptions {
  /** A model folder (the train stage's model/, or a checkpoint folder). */
  modelDir: string;
  /** An align artifact folder: meta.json, faces/, crops/, masks/. */
  alignDir: string;
  out: string;
  /** Identity whose decoder renders the faces. */
  source: string;
  batch?: number;
  engine: string;
  /** A frame chunk: only the align frames in [first, last] (each frame is rendered on its own). */
  range?: { first: number; last: number };
  onProgress?: (done: number, total: number) => void;
}

export interface SwapResult {
  frames: number[];
  noFace: number[];
  size: number;
  resolution: number;
}

const pad6 = (n: number) => String(n).padStart(6, '0');

async function readJson(file: string, what: string): Promise<Record<string, unknown>> {
  const text = await readFile(file, 'utf8').catch(() => {
    throw new Error(`${what}: ${file} is missing`);
  });
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${what}: ${file} is not valid JSON (${(e as Error).message})`);
  }
}

export async function swapFaces(opts: SwapOptions): Promise<SwapResult> {
  const card = await readCard(opts.modelDir);
  const cfg = card.config;
  const src = cfg.identities.indexOf(opts.source);
  if (src < 0) throw new Error(`swap param 'source' = '${opts.source}' is not an identity of the model; it has [${cfg.identities.join(', ')}]`);
  const meta = await readJson(join(opts.alignDir, 'meta.json'), 'align input');
  if (meta.kind !== 'align') throw new Error(`${join(opts.alignDir, 'meta.json')}: kind is ${JSON.stringify(meta.kind)}, expected "align"`);
  const size = Number(meta.size);
  const all = (meta.frames ?? []) as number[];
  if (!Number.isInteger(size) || size <= 0 || !Array.isArray(all)) throw new Error(`${join(opts.alignDir, 'meta.json')}: needs 'size' and 'frames'`);
  const r0 = opts.range;
  const frames = r0 ? all.filter((f) => f >= r0.first && f <= r0.last) : all;

  const model = new CombModel(cfg);
  try {
    await loadCheckpoint(opts.modelDir, model, null);
    const r = card.resolution;
    const alpha = card.alpha;
    const batchSize = Math.max(1, opts.batch ?? 8);
    const withFace: number[] = [];
    const noFace: number[] = [];
    for (const f of frames) {
      const face = await readJson(join(opts.alignDir, 'faces', `${pad6(f)}.json`), `align frame ${f}`);
      if (face.face === null || face.face === undefined) noFace.push(f);
      else withFace.push(f);
    }
    await mkdir(join(opts.out, 'faces'), { recursive: true });
    await mkdir(join(opts.out, 'masks'), { recursive: true });
    let done = 0;
    for (let i = 0; i < withFace.length; i += batchSize) {
      const chunk = withFace.slice(i, i + batchSize);
      const x = new Float32Array(chunk.length * r * r * 3);
      await Promise.all(
        chunk.map(async (f, k) => {
          const file = join(opts.alignDir, 'crops', `${pad6(f)}.png`);
          const img = await readImage(file, { channels: 3 });
          x.set(img.width === r && img.height === r ? img.data : resize(img, r, r).data, k * r * r * 3);
        }),
      );
      const [y] = await infer(model, x, chunk.length, r, alpha, [src]);
      await Promise.all(
        chunk.map(async (f, k) => {
          const face = { width: r, height: r, channels: 3, data: y.slice(k * r * r * 3, (k + 1) * r * r * 3) };
          await writePng(join(opts.out, 'faces', `${pad6(f)}.png`), r === size ? face : resize(face, size, size));
          const mask = join(opts.alignDir, 'masks', `${pad6(f)}.png`);
          if (await stat(mask).then(() => true, () => false)) await copyFile(mask, join(opts.out, 'masks', `${pad6(f)}.png`));
        }),
      );
      done += chunk.length;
      opts.onProgress?.(done, withFace.length);
    }
    await writeFile(
      join(opts.out, 'meta.json'),
      JSON.stringify({ kind: 'swap', source: opts.source, size, frames: withFace, noFace, resolution: r, modelStep: card.step, engine: opts.engine }, null, 1),
    );
    return { frames: withFace, noFace, size, resolution: r };
  } finally {
    model.dispose();
  }
}
