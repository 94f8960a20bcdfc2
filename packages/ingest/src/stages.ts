import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { progress, readUpstream, requireOneSource, resolveInput, needInput, summary, type StageEnv, type Upstream } from '@facecomb/stage';
import { displayDescription, type ColourDescription } from '@facecomb/image';
import { encodeCompare, compareSheet, encodeVideo, fpsValue, listFrames, ENCODE_FORMATS, VIDEO_FORMATS, type EncodeFormat, type EncodeResult } from './encode.js';
import { writePatches } from './patch.js';
import { encodeGrid, GRID_TILE } from './grid.js';
import { findGridInputs } from './grid-inputs.js';
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
  const raw = p.src;
  if (raw === undefined || raw === null) throw new Error("param 'src' is required: a video file, a list or glob of video files, or an image sequence (shot.%04d.png or a glob)");
  if (Array.isArray(raw) ? !raw.every((x) => typeof x === 'string' && x) : typeof raw !== 'string' || !raw) {
    throw new Error(`param 'src' must be a file name, a glob or a list of video file names, got ${JSON.stringify(raw)}`);
  }
  const src = Array.isArray(raw) ? (raw as string[]).map((f) => resolveInput(env, f)) : resolveInput(env, raw as string);
  const scaleRaw = p.scale;
  const scale: ScaleLimit | undefined = typeof scaleRaw === 'number' ? scaleRaw : pair(p, 'scale');
  const bd = p.bitDepth ?? 'auto';
  if (bd !== 8 && bd !== 16 && bd !== 'auto') throw new Error(`param 'bitDepth' must be 8, 16 or "auto", got ${JSON.stringify(bd)}`);
  const meta = await ingest({
    src,
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

/** The `format` param: one name or a list of names, each known, none twice. */
function formats(p: Params): EncodeFormat[] {
  const raw = p.format ?? 'mp4';
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw new Error(`param 'format' is an empty list; give one or more of ${ENCODE_FORMATS.join(', ')}`);
  for (const f of list) {
    if (typeof f !== 'string' || !ENCODE_FORMATS.includes(f as EncodeFormat)) throw new Error(`param 'format': ${JSON.stringify(f)} is not a format; use one or a list of ${ENCODE_FORMATS.join(', ')}`);
  }
  if (new Set(list).size !== list.length) throw new Error(`param 'format' lists a format twice: ${JSON.stringify(list)}`);
  return list as EncodeFormat[];
}

/** Where a format's output goes, relative to the stage folder. */
function outputName(format: EncodeFormat, name: string): string {
  if (format === 'mp4') return `${name}.mp4`;
  if (format === 'prores') return `${name}.mov`;
  if (format === 'prores4444') return `${name}_4444.mov`;
  if (format === 'grid') return `${name}_grid.mp4`;
  return `${format}/`;
}

/** Stage `encode`: params frames, plate, format (one or a list), name, crf, compare, tile (grid). */
export async function encodeStage(env: StageEnv): Promise<void> {
  const p = env.params;
  const fmts = formats(p);
  const name = str(p, 'name', 'shot')!;
  if (/[\\/]/.test(name)) throw new Error(`param 'name' is a file name without folders, got ${JSON.stringify(name)}`);
  const crf = num(p, 'crf', 18)!;
  const compare = p.compare === undefined ? true : p.compare;
  if (typeof compare !== 'boolean') throw new Error(`param 'compare' must be true or false, got ${JSON.stringify(compare)}`);
  const tile = num(p, 'tile', GRID_TILE)!;
  if (p.tile !== undefined && !fmts.includes('grid')) throw new Error(`param 'tile' is the tile size of format grid; add grid to 'format' or drop 'tile'`);
  if (!Number.isInteger(tile) || tile < 16 || tile % 2) throw new Error(`param 'tile' must be an even integer >= 16 (px per grid tile), got ${tile}`);

  const { frames, plate } = await findEncodeInputs(env);
  const framesDir = join(frames.dir, 'frames');
  const listed = await listFrames(framesDir);
  if (listed.length === 0) throw new Error(`stage '${frames.name}' has no frames in ${framesDir}`);
  const plateMeta = plate?.meta as Partial<FramesMeta> | undefined;
  const fps = (plateMeta?.fpsRational as string | undefined) ?? (plateMeta?.fps as number | undefined) ?? (frames.meta.fpsRational as string | undefined) ?? (frames.meta.fps as number | undefined) ?? 25;
  const audio = plate && plateMeta?.audio
    ? { file: join(plate.dir, plateMeta.audio), offset: (listed[0] - (plateMeta.first ?? listed[0])) / fpsValue(fps) }
    : undefined;
  // the colour description travels ingest -> blend -> here; the frames' own first, then the plate's
  const colour = ((frames.meta.colour ?? plateMeta?.colour) as ColourDescription | undefined) ?? null;
  // the PNG frames of a scene-linear plate are its sRGB display proxy: videos and stills are tagged as that
  const shown = colour ? displayDescription(colour) : null;
  const mattesDir = existsSync(join(frames.dir, 'mattes')) ? join(frames.dir, 'mattes') : null;
  const linearDir = typeof frames.meta.linear === 'string' ? join(frames.dir, frames.meta.linear) : null;
  const files: string[] = [];
  const outputs: Record<string, { codec: string; count: number; file: string }> = {};
  let grid: Record<string, unknown> | null = null;
  let last: EncodeResult | null = null;
  for (const format of fmts) {
    const rel = outputName(format, name);
    const target = join(env.out, rel);
    const onProgress = (d: number, t: number) => progress({ done: d, total: t, unit: 'frames', msg: format }, d === t);
    if (format === 'patch') {
      const { align, swap } = await findPatchInputs(env);
      const width = Number(frames.meta.width ?? plateMeta?.width), height = Number(frames.meta.height ?? plateMeta?.height);
      const written = await writePatches({ alignDir: align.dir, swapDir: swap.dir, frames: listed, out: target, name, plate: { width, height }, colour: shown, onProgress });
      outputs.patch = { codec: 'png', count: written.length, file: rel };
    } else if (format === 'grid') {
      const g = await findGridInputs(env);
      const identities = g.identities.map((n) => ({ name: n, dir: join(g.swap.dir, 'faces', n) }));
      const r = await encodeGrid({ targetDir: join(g.align.dir, 'crops'), identities, frames: g.frames, fps, out: target, tile, crf, colour: shown, onProgress });
      outputs.grid = { codec: r.codec, count: r.count, file: rel };
      grid = { swap: g.swap.name, align: g.align.name, target: 'crop', identities: g.identities, tile, width: r.layout.width, height: r.layout.height };
    } else {
      const r = await encodeVideo({ framesDir, frames: listed, out: target, fps, format, crf, audio, mattesDir, linearDir, colour: shown, name, onProgress });
      outputs[format] = { codec: r.codec, count: r.count, file: rel };
      last = r;
    }
    files.push(rel);
  }
  const count = listed.length;
  const duration = count / fpsValue(fps);
  const withAudio = !!audio && fmts.some((f) => VIDEO_FORMATS.includes(f as never));

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
      await encodeCompare({ plateDir, swapDir: framesDir, frames: common, fps, out: join(env.out, 'compare.mp4'), crf, audio: cAudio, colour: shown, onProgress: (d, t) => progress({ done: d, total: t, unit: 'frames', msg: 'compare.mp4' }, d === t) });
      await compareSheet({ plateDir, swapDir: framesDir, frames: common, out: join(env.out, 'compare.png') });
      files.push('compare.mp4', 'compare.png');
      comparedFrames = common;
    }
  }
  const meta = {
    kind: 'encode', format: fmts.length === 1 ? fmts[0] : fmts, codec: last?.codec ?? outputs[fmts[0]].codec, outputs,
    fps: fpsValue(fps), fpsRational: String(fps), count, duration, files,
    audio: withAudio, colour, alpha: mattesDir ? 'mattes' : null,
    frames: { stage: frames.name, kind: frames.meta.kind ?? null, first: listed[0], last: listed[listed.length - 1] },
    plate: plate ? plate.name : null, compared: comparedFrames.length,
    ...(grid ? { grid } : {}),
  };
  await writeFile(join(env.out, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  summary({ files, formats: fmts, count, fps: fpsValue(fps), duration, audio: withAudio });
}

/** The align and swap stages a `patch` output needs (by kind among the needs). */
async function findPatchInputs(env: Pick<StageEnv, 'inputs' | 'stage'>): Promise<{ align: Upstream; swap: Upstream }> {
  const all = await readUpstream(env.inputs);
  const one = (kind: string, found = all.filter((u) => u.meta.kind === kind)): Upstream => {
    if (found.length === 0) throw new Error(`stage '${env.stage}': format patch needs the ${kind} stage among its needs (it reads the swapped faces, mattes and matrices); add it to 'needs'`);
    if (found.length > 1) throw new Error(`stage '${env.stage}': format patch found several ${kind} stages (${found.map((u) => u.name).join(', ')}); keep one in 'needs'`);
    return found[0];
  };
  // a swap with source: all (format grid's) is not the patch's: it has no one face per frame
  const swaps = all.filter((u) => u.meta.kind === 'swap');
  const single = swaps.filter((u) => u.meta.source !== 'all');
  if (swaps.length > 0 && single.length === 0) requireOneSource(swaps[0], `stage '${env.stage}' format patch`);
  return { align: one('align'), swap: one('swap', single) };
}
