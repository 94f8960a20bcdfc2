/** Inference: encode aligned target crops, decode them with the source identity's decoder (or every decoder). */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { frameName, readJson } from '@facecomb/stage';
import { CombModel } from './model.js';
import { storedConfig } from './config.js';
import { loadCheckpoint, readCard } from './checkpoint.js';
import { renderFaces } from './swap-render.js';

export interface SwapOptions {
  /** A model folder (the train stage's model/, or a checkpoint folder). */
  modelDir: string;
  /** An align artifact folder: meta.json, faces/, crops/, masks/. */
  alignDir: string;
  out: string;
  /** Identity whose decoder renders the faces, or 'all': every identity's decoder, faces/<identity>/NNNNNN.png. */
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
  /** The identities rendered (one, or all of the model's for `source: all`). */
  identities: string[];
}

/** The `source` that renders the target through every identity's decoder (faces/<identity>/NNNNNN.png). */
export const ALL_SOURCES = 'all';

/** The identities a swap renders, in decoder order: the one `source` names, or every one for `source: all`. */
export function swapSources(identities: string[], source: string): string[] {
  if (source === ALL_SOURCES) {
    if (identities.includes(ALL_SOURCES)) throw new Error(`swap param 'source' = 'all' is ambiguous: the model has an identity named 'all'; rename that dataset stage's 'name' to render every identity`);
    return [...identities];
  }
  if (!identities.includes(source)) throw new Error(`swap param 'source' = '${source}' is not an identity of the model; it has [${identities.join(', ')}] (or 'all' renders every one)`);
  return [source];
}

export async function swapFaces(opts: SwapOptions): Promise<SwapResult> {
  const card = await readCard(opts.modelDir);
  const cfg = storedConfig(card.config as unknown as Record<string, unknown>);
  const sources = swapSources(cfg.model.identities, opts.source);
  const every = opts.source === ALL_SOURCES;
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
    const withFace: number[] = [];
    const noFace: number[] = [];
    for (const f of frames) {
      const face = await readJson(join(opts.alignDir, 'faces', frameName(f, 'json')), `align frame ${f}`);
      if (face.face === null || face.face === undefined) noFace.push(f);
      else withFace.push(f);
    }
    // one source keeps the flat faces/ layout that blend, score and encode's patch read
    const decoders = sources.map((name) => ({ index: cfg.model.identities.indexOf(name), dir: every ? join(opts.out, 'faces', name) : join(opts.out, 'faces') }));
    await mkdir(join(opts.out, 'faces'), { recursive: true });
    await renderFaces({
      model, alignDir: opts.alignDir, frames: withFace, resolution: r, alpha: card.alpha, size,
      batch: Math.max(1, opts.batch ?? 8), decoders, masksDir: join(opts.out, 'masks'), onProgress: opts.onProgress,
    });
    const which = every ? { source: ALL_SOURCES, identities: sources } : { source: opts.source };
    await writeFile(
      join(opts.out, 'meta.json'),
      JSON.stringify({ kind: 'swap', ...which, size, frames: withFace, noFace, resolution: r, modelStep: card.step, engine: opts.engine }, null, 1),
    );
    return { frames: withFace, noFace, size, resolution: r, identities: sources };
  } finally {
    model.dispose();
  }
}
