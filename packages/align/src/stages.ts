import { engine, progress, resolveInput, summary, type StageEnv } from '@facecomb/stage';
import { alignFrames } from './align.js';
import { readFrameSource, readMeta } from './frames.js';
import { parseAlignParams } from './params.js';
import { buildDataset, parseDatasetParams } from './dataset.js';

/** The `align` stage: one frames stage (ingest or synth) in, aligned faces out. */
export async function alignStage(env: StageEnv): Promise<void> {
  const params = parseAlignParams(env.params);
  if (params.reference) params.reference = resolveInput(env, params.reference);
  const framesDirs: string[] = [];
  for (const [name, dir] of Object.entries(env.inputs)) {
    const m = await readMeta(dir);
    if (m.kind === 'ingest' || m.kind === 'synth') framesDirs.push(name);
  }
  if (framesDirs.length !== 1) {
    throw new Error(`align stage '${env.stage}' needs exactly one frames stage (kind ingest or synth) in its needs; found ${framesDirs.length}${framesDirs.length ? ` (${framesDirs.join(', ')})` : ''}`);
  }
  const src = await readFrameSource(env.inputs[framesDirs[0]]);
  const run = await alignFrames(src, env.out, params, {
    backend: env.backend,
    range: env.frames,
    onFrame: (done, total) => progress({ done, total, unit: 'frames' }, done === total),
  });
  engine(run.backend, run.why);
  process.stdout.write(`align: ${run.detection}\n`);
  const noFace = run.results.filter((r) => !r.face).length;
  summary({ frames: run.results.length, withFace: run.results.length - noFace, noFace, detections: run.detections, fps: Math.round(run.fps * 100) / 100, size: params.size, faceType: params.faceType });
}

/** The `dataset` stage: align stages of one person (one per clip) into one identity set. */
export async function datasetStage(env: StageEnv): Promise<void> {
  const params = parseDatasetParams(env.params);
  const clips: Record<string, string> = {};
  const occluded: Record<string, string> = {};
  for (const [name, dir] of Object.entries(env.inputs)) {
    const m = await readMeta(dir);
    if (m.kind === 'align') clips[name] = dir;
    // an occlusion stage's masks apply to the align stage it was made from (its meta's `align`)
    if (m.kind === 'occlusion') occluded[String(m.align)] = dir;
  }
  if (Object.keys(clips).length === 0) throw new Error(`dataset stage '${env.stage}' needs one or more align stages in its needs; found none`);
  for (const a of Object.keys(occluded)) {
    if (!(a in clips)) throw new Error(`dataset stage '${env.stage}': an occlusion stage in its needs was made from align stage '${a}', which is not in its needs (${Object.keys(clips).join(', ')}); add it or remove the occlusion stage`);
  }
  const res = await buildDataset(clips, env.out, params, occluded);
  progress({ done: res.items.length, total: res.items.length, unit: 'crops' }, true);
  summary({ name: params.name, clips: res.clips.length, ...res.counts, usable: res.counts.train + res.counts.heldout });
}
