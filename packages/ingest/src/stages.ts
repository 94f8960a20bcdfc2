import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { progress, readUpstream, resolveInput, needInput, summary, type StageEnv, type Upstream } from '@facecomb/stage';
import { encodeCompare, compareSheet, encodeVideo, fpsValue, listFrames, type EncodeFormat } from './encode.js';
import { ingest, type FramesMeta } from './ingest.js';
import { synthesize } from './synth.js';
import type { BitDepthParam, FrameRange, ScaleLimit } from './extract.js';

type Params = Record<string, unknown>;

function num(p: Params, key: string, def?: number): number | undefined {
  const v = p[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`param '${key}' must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function str(p: Params, key: string, def?: string): string | undefined {
  const v = p[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'string' || !v) throw new Error(`param '${key}' must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function pair(p: Params, key: string): [number, number] | undefined {
  const v = p[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new Error(`param '${key}' must be a pair of numbers [a, b], got ${JSON.stringify(v)}`);
  }
  return [v[0], v[1]];
}

function reporter(unit: string): (done: number, total: number) => void {
  return (done, total) => progress({ done, total, unit }, done === total);
}

/** Stage `ingest`: params src, range, fps, scale, bitDepth. */
export async function ingestStage(env: StageEnv): Promise<void> {
  const p = env.params;
  const src = str(p, 'src');
  if (!src) throw new Error("param 'src' is required: a video file or an image sequence (shot.%04d.png or a glob)");
  const scaleRaw = p.scale;
  const scale: ScaleLimit | undefined = typeof scaleRaw === 'number' ? scaleRaw : pair(p, 'scale');
  const bd = p.bitDepth ?? 'auto';
  if (bd !== 8 && bd !== 16 && bd !== 'auto') throw new Error(`param 'bitDepth' must be 8, 16 or "auto", got ${JSON.stringify(bd)}`);
  const meta = await ingest({
    src: resolveInput(env, src),
    out: env.out,
    range: pair(p, 'range') as FrameRange | undefined,
    fps: num(p, 'fps'),
    scale,
    bitDepth: bd as BitDepthParam,
    onProgress: reporter('frames'),
  });
  summary({ frames: meta.count, first: meta.first, last: meta.last, fps: meta.fps, width: meta.width, height: meta.height, bitDepth: meta.bitDepth, audio: meta.audio !== null });
}

/** Stage `synth`: params image, frames, fps, size, motion, light, seed, crop. */
export async function synthStage(env: StageEnv): Promise<void> {
  const p = env.params;
  const image = str(p, 'image');
  if (!image) throw new Error("param 'image' is required: the still photo to make a shot from");
  const crop = p.crop;
  if (crop !== undefined && (!Array.isArray(crop) || crop.length !== 4 || !crop.every((x) => typeof x === 'number'))) {
    throw new Error(`param 'crop' must be [x, y, w, h], got ${JSON.stringify(crop)}`);
  }
  const meta = await synthesize({
    image: resolveInput(env, image),
    out: env.out,
    frames: num(p, 'frames'),
    fps: num(p, 'fps'),
    size: pair(p, 'size'),
    motion: num(p, 'motion'),
    light: num(p, 'light'),
    seed: num(p, 'seed'),
    crop: crop as [number, number, number, number] | undefined,
    onProgress: reporter('frames'),
  });
  summary({ frames: meta.count, fps: meta.fps, width: meta.width, height: meta.height });
}

const PLATE_KINDS = new Set(['ingest', 'synth']);

/** Finds the frames stage and the plate stage among the needed stages (docs/ARTIFACTS.md rules). */
export async function findEncodeInputs(env: Pick<StageEnv, 'inputs' | 'stage' | 'params'>): Promise<{ frames: Upstream; plate: Upstream | null }> {
  const all = await readUpstream(env.inputs);
  const p = env.params;
  const framesName = str(p, 'frames');
  const plateName = str(p, 'plate');
  let frames: Upstream | undefined;
  if (framesName) {
    needInput(env, framesName);
    frames = all.find((u) => u.name === framesName);
  } else {
    const blends = all.filter((u) => u.meta.kind === 'blend');
    if (blends.length > 1) throw new Error(`stage '${env.stage}' needs several blend stages (${blends.map((u) => u.name).join(', ')}): say which to encode with 'frames: <stage>'`);
    if (blends.length === 1) frames = blends[0];
    else {
      const plates = all.filter((u) => PLATE_KINDS.has(String(u.meta.kind)) && u.name !== plateName);
      if (plates.length === 1) frames = plates[0];
      else if (plates.length === 0 && plateName) frames = all.find((u) => u.name === plateName);
      else if (plates.length > 1) throw new Error(`stage '${env.stage}' cannot tell which of ${plates.map((u) => u.name).join(', ')} to encode: set 'frames: <stage>'`);
    }
  }
  if (!frames) throw new Error(`stage '${env.stage}' needs a stage with frames/ (a blend, ingest or synth stage) in its needs; it has [${Object.keys(env.inputs).join(', ')}]`);
  let plate: Upstream | null = null;
  if (plateName) {
    needInput(env, plateName);
    plate = all.find((u) => u.name === plateName)!;
    if (!PLATE_KINDS.has(String(plate.meta.kind))) throw new Error(`plate: stage '${plateName}' is a ${plate.meta.kind ?? 'stage without meta.json'}, not an ingest or synth stage`);
  } else {
    const plates = all.filter((u) => PLATE_KINDS.has(String(u.meta.kind)) && u.name !== frames!.name);
    if (plates.length > 1) throw new Error(`stage '${env.stage}' has several plate stages (${plates.map((u) => u.name).join(', ')}): say which one with 'plate: <stage>'`);
    plate = plates[0] ?? (PLATE_KINDS.has(String(frames.meta.kind)) ? frames : null);
  }
  return { frames, plate };
}

/** Stage `encode`: params frames, plate, format, name, crf, compare. */
export async function encodeStage(env: StageEnv): Promise<void> {
  const p = env.params;
  const format = (str(p, 'format', 'mp4') as EncodeFormat);
  if (!['mp4', 'prores', 'png'].includes(format)) throw new Error(`param 'format' must be mp4, prores or png, got ${JSON.stringify(format)}`);
  const name = str(p, 'name', 'shot')!;
  if (/[\\/]/.test(name)) throw new Error(`param 'name' is a file name without folders, got ${JSON.stringify(name)}`);
  const crf = num(p, 'crf', 18)!;
  const compare = p.compare === undefined ? true : p.compare;
  if (typeof compare !== 'boolean') throw new Error(`param 'compare' must be true or false, got ${JSON.stringify(compare)}`);

  const { frames, plate } = await findEncodeInputs(env);
  const framesDir = join(frames.dir, 'frames');
  const listed = await listFrames(framesDir);
  if (listed.length === 0) throw new Error(`stage '${frames.name}' has no frames in ${framesDir}`);
  const plateMeta = plate?.meta as Partial<FramesMeta> | undefined;
  const fps = (plateMeta?.fpsRational as string | undefined) ?? (plateMeta?.fps as number | undefined) ?? (frames.meta.fpsRational as string | undefined) ?? (frames.meta.fps as number | undefined) ?? 25;
  const audio = plate && plateMeta?.audio
    ? { file: join(plate.dir, plateMeta.audio), offset: (listed[0] - (plateMeta.first ?? listed[0])) / fpsValue(fps) }
    : undefined;
  const file = join(env.out, format === 'png' ? name : `${name}${format === 'prores' ? '.mov' : '.mp4'}`);
  const r = await encodeVideo({ framesDir, frames: listed, out: file, fps, format, crf, audio, onProgress: reporter('frames') });
  const files = [format === 'png' ? `${name}/` : file.slice(env.out.length + 1)];

  let comparedFrames: number[] = [];
  if (compare && plate && plate !== frames) {
    const plateDir = join(plate.dir, 'frames');
    const have = new Set(await listFrames(plateDir));
    const common = listed.filter((n) => have.has(n));
    if (common.length === 0) {
      process.stderr.write(`warning: plate '${plate.name}' has none of the frames ${listed[0]}-${listed[listed.length - 1]}: no comparison written\n`);
    } else {
      progress({ done: 0, total: common.length, unit: 'frames', msg: 'compare.mp4' }, true);
      const cAudio = audio ? { file: audio.file, offset: (common[0] - (plateMeta?.first ?? common[0])) / fpsValue(fps) } : undefined;
      await encodeCompare({ plateDir, swapDir: framesDir, frames: common, fps, out: join(env.out, 'compare.mp4'), crf, audio: cAudio, onProgress: (d, t) => progress({ done: d, total: t, unit: 'frames', msg: 'compare.mp4' }, d === t) });
      await compareSheet({ plateDir, swapDir: framesDir, frames: common, out: join(env.out, 'compare.png') });
      files.push('compare.mp4', 'compare.png');
      comparedFrames = common;
    }
  }
  const meta = {
    kind: 'encode', format, codec: r.codec, fps: r.fps, fpsRational: String(fps), count: r.count, duration: r.duration, files,
    audio: r.audio, frames: { stage: frames.name, kind: frames.meta.kind ?? null, first: listed[0], last: listed[listed.length - 1] },
    plate: plate ? plate.name : null, compared: comparedFrames.length,
  };
  await writeFile(join(env.out, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  summary({ files, codec: r.codec, count: r.count, fps: r.fps, duration: r.duration, audio: r.audio });
}
