import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writePng } from '@facecomb/image';
import { initEngine } from '@facecomb/engine';
import { engine, progress, readUpstream, resolveInput, summary, type StageEnv } from '@facecomb/stage';
import { INPUT_CHANNELS, medianFace, packInput } from './batch.js';
import { readLabels, rasteriseLabels } from './labels.js';
import { contactSheet, writeMasks } from './masks.js';
import { parseParams, WIDTHS, type OcclusionParams } from './params.js';
import { alignedFrames, readShot, readTextures, samplePhotos, type ShotFrame } from './shot.js';
import { predict, trainSegmenter, writeCheckpoint } from './train.js';

const FRAME_KINDS = ['ingest', 'synth'];

/** The needed frames stage and align stage (exactly one of each). */
async function findInputs(inputs: Record<string, string>): Promise<{ frames: string; align: string; alignName: string; alignMeta: Record<string, unknown> }> {
  const ups = await readUpstream(inputs);
  const one = (what: string, kinds: string[]) => {
    const found = ups.filter((u) => u.kind !== undefined && kinds.includes(u.kind));
    if (found.length !== 1) {
      const have = ups.map((u) => `${u.name} (${u.kind ?? 'no meta.json'})`).join(', ') || 'none';
      throw new Error(`occlusion needs exactly one ${what} stage (kind ${kinds.join(' or ')}) in 'needs'; it has: ${have}`);
    }
    return found[0];
  };
  const frames = one('frames', FRAME_KINDS);
  const align = one('align', ['align']);
  return { frames: frames.dir, align: align.dir, alignName: align.name, alignMeta: align.meta };
}

/** The labelled frames' masks at `size`, by index into `frames`; errors name the labels file. */
async function labelMasks(env: StageEnv, p: OcclusionParams, frames: ShotFrame[], size: number): Promise<{ file: string | null; masks: Map<number, Float32Array> }> {
  const masks = new Map<number, Float32Array>();
  if (!p.labels) return { file: null, masks };
  const file = resolveInput(env, p.labels);
  const labels = await readLabels(file, frames.map((f) => f.name));
  frames.forEach((f, i) => {
    const polys = labels.frames[f.name];
    if (polys?.length) masks.set(i, Float32Array.from(rasteriseLabels(polys, size), (v) => v / 255));
  });
  return { file, masks };
}

export async function runOcclusion(env: StageEnv): Promise<void> {
  const p = parseParams(env.params);
  const inp = await findInputs(env.inputs);
  const e = await initEngine({ backend: env.backend as 'auto', log: () => undefined });
  engine(e.name, e.why);
  const numbers = await alignedFrames(inp.align, inp.alignMeta);
  if (numbers.length === 0) throw new Error(`align output ${inp.align} has no frame with a face: nothing to segment`);
  const frames = await readShot(inp.align, numbers, p.size);
  const labels = await labelMasks(env, p, frames, p.size);
  const textures = await readTextures(inp.frames, numbers, samplePhotos(), 12, 2 * p.size);
  const set = { size: p.size, frames, labelled: labels.masks, textures, occluded: p.occluded, median: medianFace(frames) };
  const trained = await trainSegmenter(set, {
    steps: p.steps, batch: p.batch, rate: p.rate, seed: p.seed, widths: WIDTHS, resume: env.resume, every: 50,
    onStep: (step, loss) => progress({ done: step, total: p.steps, unit: 'steps', msg: `loss ${loss.toFixed(4)}` }),
  });
  const t0 = performance.now();
  const px = p.size * p.size;
  const packed = new Float32Array(frames.length * px * INPUT_CHANNELS);
  frames.forEach((f, i) => packInput(f.rgb, f.hull, set.median, packed, i * px * INPUT_CHANNELS));
  const pred = await predict(trained.net, packed, frames.length);
  const applySeconds = (performance.now() - t0) / 1000;
  const fallbacks = await writeMasks(env.out, inp.align, frames, pred, p.size, labels.masks, p);
  await writeCheckpoint(trained.net, env.out, { step: p.steps, loss: trained.loss, key: 'final' });
  if (p.contact !== false) await writePng(join(env.out, 'contact.png'), contactSheet(frames, pred, p.size, p.contact));
  const report = {
    frames: frames.length, labelled: labels.masks.size, fallbacks: fallbacks.length, fallbackFrames: fallbacks,
    loss: Number(trained.loss.toFixed(5)), steps: p.steps, resumedFrom: trained.resumedFrom,
    trainSeconds: Number(trained.seconds.toFixed(2)), applyFps: Number((frames.length / Math.max(applySeconds, 1e-9)).toFixed(1)), engine: e.name,
  };
  await writeFile(join(env.out, 'occlusion.json'), JSON.stringify(report, null, 2));
  // `align` names the align stage these masks belong to, so dataset can pair them with it
  const meta = { kind: 'occlusion', ...report, align: inp.alignName, frames: numbers, count: frames.length, size: p.size, cropSize: frames[0].cropSize, masks: 'masks', contact: p.contact !== false ? 'contact.png' : null, labels: labels.file, params: p };
  await writeFile(join(env.out, 'meta.json'), JSON.stringify(meta, null, 2));
  summary({ frames: report.frames, labelled: report.labelled, fallbacks: report.fallbacks, loss: report.loss, trainSeconds: report.trainSeconds, applyFps: report.applyFps });
}
