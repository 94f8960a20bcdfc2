import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { linearise, readExr, readImage, srgbProxy, writeExr, writePng, writePngSamples, type Affine, type ColourDescription, type Image } from '@facecomb/image';
import { chunkFrames, frameName, frameNumber, progress, readUpstream, requireOneSource, summary, type StageEnv } from '@facecomb/stage';
import { blendFace, BLEND_MODES, DEFAULT_CHROMA, DEFAULT_PLATE_CUTOFF, DEFAULT_PLATE_DETAIL, type BlendMode } from './blend.js';
import type { ColourMode } from './colour.js';
import { BufferPool } from './pool.js';
import { keepCovered, occlude, restoreCovered } from './occlusion.js';

export interface BlendParams {
  mode: BlendMode;
  levels: number | 'auto';
  /** Cycles per face width below which the plate gives the face its light (multiband). */
  plateCutoff?: number;
  /** The old multiband's plate levels, for old pipelines (not with plateCutoff). */
  plateLevels?: number;
  contrast: boolean;
  /** Chroma smoothing of the swap crop (Gaussian sigma, crop px); 0: off. */
  chroma: number;
  /** The plate's detail above this multiple of the crop's Nyquist frequency (multiband with plateCutoff); 0: off. */
  plateDetail: number;
  colour: ColourMode;
  feather: number;
  erode: number;
  /** Names of the needed stages to use, when the kinds alone are ambiguous. */
  plate?: string;
  align?: string;
  swap?: string;
}

export interface BlendInputs {
  frames: string;
  align: string;
  swap: string;
  framesMeta: Record<string, unknown>;
  alignMeta: Record<string, unknown>;
  swapMeta: Record<string, unknown>;
  /** An occlusion stage's output, when one is needed: its masks keep the plate where the face is covered. */
  occlusion: string | null;
}

const FRAME_KINDS = ['ingest', 'synth'];

function fail(msg: string): never {
  throw new Error(msg);
}

/** Checks and fills the `with` map (defaults as in stages.json). */
export function parseParams(raw: Record<string, unknown>): BlendParams {
  const known = ['mode', 'levels', 'plateCutoff', 'plateLevels', 'contrast', 'chroma', 'plateDetail', 'colour', 'feather', 'erode', 'plate', 'align', 'swap'];
  for (const k of Object.keys(raw)) if (!known.includes(k)) fail(`blend: unknown param '${k}' (known: ${known.join(', ')})`);
  const mode = (raw.mode ?? 'multiband') as BlendMode;
  if (!BLEND_MODES.includes(mode)) fail(`blend: param 'mode' is '${String(raw.mode)}'; use one of ${BLEND_MODES.join(', ')}`);
  const levels = raw.levels ?? 'auto';
  if (levels !== 'auto' && !(Number.isInteger(levels) && (levels as number) >= 1 && (levels as number) <= 16)) fail(`blend: param 'levels' must be 'auto' or an integer 1-16, got ${JSON.stringify(levels)}`);
  const plateLevels = raw.plateLevels;
  const plateCutoff = raw.plateCutoff;
  if (plateLevels !== undefined && plateCutoff !== undefined) {
    fail(`blend: give 'plateCutoff' or 'plateLevels', not both ('plateLevels' is the old blend, which hands the plate's features back: use 'plateCutoff' alone)`);
  }
  if (plateCutoff !== undefined && !(typeof plateCutoff === 'number' && Number.isFinite(plateCutoff) && plateCutoff >= 0)) {
    fail(`blend: param 'plateCutoff' must be a number >= 0 (cycles per face width below which the plate gives the face its light), got ${JSON.stringify(plateCutoff)}`);
  }
  if (plateLevels !== undefined && (!Number.isInteger(plateLevels) || (plateLevels as number) < 0)) {
    fail(`blend: param 'plateLevels' must be an integer >= 0, got ${JSON.stringify(plateLevels)} (it is the old blend: prefer 'plateCutoff', in cycles per face width)`);
  }
  if (plateLevels !== undefined && levels !== 'auto' && (levels as number) <= (plateLevels as number)) fail(`blend: param 'levels' (${levels}) must exceed 'plateLevels' (${plateLevels})`);
  const contrast = raw.contrast ?? true;
  if (typeof contrast !== 'boolean') fail(`blend: param 'contrast' must be true or false`);
  const chroma = raw.chroma ?? DEFAULT_CHROMA;
  if (typeof chroma !== 'number' || !Number.isFinite(chroma) || chroma < 0 || chroma > 8) {
    fail(`blend: param 'chroma' must be a number 0-8 (Gaussian sigma in crop px of the swap's colour smoothing; 0: off), got ${JSON.stringify(raw.chroma)}`);
  }
  // the old blend (plateLevels) has no plate detail: it takes the plate's coarse levels instead
  const plateDetail = raw.plateDetail ?? (plateLevels === undefined ? DEFAULT_PLATE_DETAIL : 0);
  if (typeof plateDetail !== 'number' || !Number.isFinite(plateDetail) || plateDetail < 0 || plateDetail > 4) {
    fail(`blend: param 'plateDetail' must be a number 0-4 (the plate's detail above this multiple of the crop's Nyquist frequency; 0: off), got ${JSON.stringify(raw.plateDetail)}`);
  }
  if ((plateDetail as number) > 0 && plateLevels !== undefined) fail(`blend: 'plateDetail' works with 'plateCutoff' (the new blend), not with the old 'plateLevels'`);
  const colour = (raw.colour ?? 'none') as ColourMode;
  if (!['none', 'lab', 'histogram'].includes(colour)) fail(`blend: param 'colour' is '${String(raw.colour)}'; use none, lab or histogram`);
  const num = (name: string, def: number): number => {
    const v = raw[name] ?? def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(`blend: param '${name}' must be a number >= 0 (plate px, or < 1 for a fraction of the face size)`);
    return v;
  };
  const name = (k: string): string | undefined => {
    const v = raw[k];
    if (v !== undefined && typeof v !== 'string') fail(`blend: param '${k}' must name a needed stage`);
    return v as string | undefined;
  };
  return {
    mode, levels: levels as number | 'auto', plateCutoff: plateCutoff as number | undefined, plateLevels: plateLevels as number | undefined, contrast, chroma, plateDetail, colour,
    feather: num('feather', 0.04), erode: num('erode', 0), plate: name('plate'), align: name('align'), swap: name('swap'),
  };
}

/** Finds the frames, align and swap stage outputs among the needed stages, by their meta.json kind. */
export async function findInputs(inputs: Record<string, string>, params: Pick<BlendParams, 'plate' | 'align' | 'swap'>): Promise<BlendInputs> {
  const metas = new Map<string, Record<string, unknown>>();
  for (const u of await readUpstream(inputs)) {
    if (!u.hasMeta) fail(`needed stage '${u.name}' has no meta.json at ${join(u.dir, 'meta.json')}: is it a facecomb stage output?`);
    metas.set(u.name, u.meta);
  }
  const pick = (role: string, param: 'plate' | 'align' | 'swap', kinds: string[]): string => {
    const wanted = params[param];
    if (wanted !== undefined) {
      const meta = metas.get(wanted);
      if (!meta) fail(`blend: param '${param}' names stage '${wanted}', which is not among its needs [${[...metas.keys()].join(', ')}]`);
      if (!kinds.includes(String(meta.kind))) fail(`blend: param '${param}' names stage '${wanted}' of kind '${String(meta.kind)}'; it must be of kind ${kinds.join(' or ')}`);
      return wanted;
    }
    const found = [...metas].filter(([, m]) => kinds.includes(String(m.kind))).map(([n]) => n);
    if (found.length === 0) fail(`blend needs a ${role} stage (kind ${kinds.join(' or ')}) in its needs; it has [${[...metas].map(([n, m]) => `${n}: ${String(m.kind)}`).join(', ')}]`);
    if (found.length > 1) fail(`blend: stages ${found.join(' and ')} are both ${role} stages; say which with param '${param}: <stage>'`);
    return found[0];
  };
  const frames = pick('frames', 'plate', FRAME_KINDS);
  const align = pick('align', 'align', ['align']);
  const swap = pick('swap', 'swap', ['swap']);
  requireOneSource({ name: swap, meta: metas.get(swap)! }, 'blend');
  const occl = [...metas].filter(([, m]) => m.kind === 'occlusion').map(([n]) => n);
  if (occl.length > 1) fail(`blend: stages ${occl.join(' and ')} are both occlusion stages; keep one in its needs`);
  return {
    frames: inputs[frames], align: inputs[align], swap: inputs[swap], occlusion: occl.length ? inputs[occl[0]] : null,
    framesMeta: metas.get(frames)!, alignMeta: metas.get(align)!, swapMeta: metas.get(swap)!,
  };
}

async function frameNumbers(dir: string, meta: Record<string, unknown>): Promise<number[]> {
  if (Array.isArray(meta.frames) && meta.frames.every((f) => Number.isInteger(f))) return meta.frames as number[];
  const names = await readdir(join(dir, 'frames')).catch(() => fail(`frames stage output ${dir} has no frames/ folder`));
  return names.filter((n) => /^\d+\.png$/.test(n)).map((n) => Number.parseInt(n, 10)).sort((a, b) => a - b);
}

interface FrameJob {
  n: number;
  plateFile: string;
  /** The scene-linear plate (EXR), when the plate is linear. */
  linearFile: string | null;
  /** null: no face, copy the plate. */
  /** covered: the part of the face an occluder covers (crop space), when an occlusion stage is needed. */
  face: null | { crop: Image; mask: Image; matrix: Affine; covered: Image | null };
  plate: (Image & { bitDepth: 8 | 16 }) | null;
}

/** The folder of the plate's scene-linear frames (ingest of an EXR plate), or null for a display-referred plate. */
function linearDir(inp: BlendInputs): string | null {
  const colour = inp.framesMeta.colour as Partial<ColourDescription> | undefined;
  const rel = inp.framesMeta.linear;
  return colour?.linear && typeof rel === 'string' ? join(inp.frames, rel) : null;
}

async function loadFrame(inp: BlendInputs, n: number, cropSize: number | null): Promise<FrameJob> {
  const plateFile = join(inp.frames, 'frames', frameName(n));
  if (!existsSync(plateFile)) fail(`plate frame ${plateFile} is missing (listed in ${join(inp.frames, 'meta.json')})`);
  const lin = linearDir(inp);
  const linearFile = lin ? join(lin, frameName(n, 'exr')) : null;
  if (linearFile && !existsSync(linearFile)) fail(`linear plate frame ${linearFile} is missing (the plate's meta.json says it is scene-linear)`);
  const faceFile = join(inp.swap, 'faces', frameName(n));
  if (!existsSync(faceFile)) return { n, plateFile, linearFile, face: null, plate: null };
  const alignFile = join(inp.align, 'faces', frameName(n, 'json'));
  let rec: { face?: { matrix?: unknown } | null };
  try {
    rec = JSON.parse(await readFile(alignFile, 'utf8'));
  } catch (e) {
    fail(`swap has a face for frame ${n} but ${alignFile} cannot be read: ${(e as Error).message}`);
  }
  if (!rec.face) fail(`swap has a face for frame ${n} but ${alignFile} says the frame has no face: rerun swap on this align output`);
  const m = rec.face.matrix;
  if (!Array.isArray(m) || m.length !== 6 || !m.every((v) => typeof v === 'number' && Number.isFinite(v))) fail(`${alignFile}: face.matrix must be 6 numbers [a, b, tx, c, d, ty]`);
  let maskFile = join(inp.swap, 'masks', frameName(n));
  if (!existsSync(maskFile)) maskFile = join(inp.align, 'masks', frameName(n));
  if (!existsSync(maskFile)) fail(`no mask for frame ${n}: neither ${join(inp.swap, 'masks', frameName(n))} nor ${maskFile} exists`);
  // a linear plate is blended in linear light: the plate's own values, the face (sRGB-encoded) linearised
  const readPlate = linearFile
    ? readExr(linearFile).then((e) => ({ ...rgb(e), bitDepth: 16 as const }))
    : readImage(plateFile, { channels: 3 });
  const [plate, crop0, mask] = await Promise.all([readPlate, readImage(faceFile, { channels: 3 }), readImage(maskFile, { channels: 1 })]);
  const crop = linearFile ? linearise(crop0) : crop0;
  const covered = inp.occlusion ? await occlude(mask, join(inp.occlusion, 'masks', `${name}.png`), n) : null;
  if (cropSize !== null && (crop.width !== cropSize || crop.height !== cropSize)) fail(`${faceFile} is ${crop.width}x${crop.height} but the align crop size is ${cropSize}: swap and align outputs do not match`);
  if (mask.width !== crop.width || mask.height !== crop.height) fail(`${maskFile} is ${mask.width}x${mask.height} but the face crop ${faceFile} is ${crop.width}x${crop.height}`);
  return { n, plateFile, linearFile, face: { crop, mask, matrix: m as Affine, covered }, plate };
}

function rgb(img: Image): Image {
  if (img.channels === 3) return img;
  const out = new Float32Array(img.width * img.height * 3);
  for (let i = 0, o = 0; o < out.length; i += img.channels, o += 3) out.set(img.data.subarray(i, i + 3), o);
  return { width: img.width, height: img.height, channels: 3, data: out };
}

/** The plate-sized matte (16-bit) of a blend: the prepared mask in its ROI, 0 elsewhere. */
function matteOf(width: number, height: number, r: { roi: { x: number; y: number; width: number; height: number } | null; mask: Image | null }): Uint16Array {
  const out = new Uint16Array(width * height);
  if (!r.roi || !r.mask) return out;
  const { x: x0, y: y0, width: rw, height: rh } = r.roi;
  const md = r.mask.data;
  for (let y = 0; y < rh; y++) {
    for (let x = 0; x < rw; x++) {
      const v = md[y * rw + x] * 65535 + 0.5;
      out[(y + y0) * width + x + x0] = v <= 0 ? 0 : v >= 65535 ? 65535 : v;
    }
  }
  return out;
}

/** The `blend` stage: whole plates with the swapped faces blended in. */
export async function runBlend(env: StageEnv): Promise<void> {
  const params = parseParams(env.params);
  const inp = await findInputs(env.inputs, params);
  // a frame chunk (FACECOMB_FRAMES) blends only its frames: every frame is independent of the others
  const frames = chunkFrames(env, await frameNumbers(inp.frames, inp.framesMeta));
  if (frames.length === 0) fail(`frames stage output ${inp.frames} lists no frames${env.frames ? ` in ${env.frames.first}-${env.frames.last}` : ''}`);
  const cropSize = typeof inp.alignMeta.size === 'number' ? inp.alignMeta.size : null;
  const outDir = join(env.out, 'frames');
  const mattesDir = join(env.out, 'mattes');
  const lin = linearDir(inp);
  const outLinear = lin ? join(env.out, 'linear') : null;
  await mkdir(outDir, { recursive: true });
  await mkdir(mattesDir, { recursive: true });
  if (outLinear) await mkdir(outLinear, { recursive: true });
  const colour = (inp.framesMeta.colour as ColourDescription | undefined) ?? null;
  const pool = new BufferPool();
  const t0 = Date.now();
  let blended = 0;
  let width = Number(inp.framesMeta.width) || 0, height = Number(inp.framesMeta.height) || 0;
  let bitDepth = inp.framesMeta.bitDepth === 16 ? 16 : inp.framesMeta.bitDepth === 8 ? 8 : 0;
  let pendingWrite: Promise<void> = Promise.resolve();
  let next = loadFrame(inp, frames[0], cropSize);
  for (let i = 0; i < frames.length; i++) {
    const job = await next;
    if (i + 1 < frames.length) {
      next = loadFrame(inp, frames[i + 1], cropSize);
      next.catch(() => undefined); // reported when awaited
    }
    const outFile = join(outDir, frameName(job.n));
    const matteFile = join(mattesDir, frameName(job.n));
    await pendingWrite;
    if (!job.face || !job.plate) {
      const size = width && height ? [width, height] : await readImage(job.plateFile).then((p) => [p.width, p.height]);
      [width, height] = size;
      pendingWrite = Promise.all([
        copyFile(job.plateFile, outFile),
        job.linearFile ? copyFile(job.linearFile, join(outLinear!, frameName(job.n, 'exr'))) : null,
        writePngSamples(matteFile, new Uint16Array(width * height), width, height, 1),
      ]).then(() => undefined);
    } else {
      const plate = job.plate;
      const kept = job.face.covered ? keepCovered(plate, job.face.covered, job.face.matrix) : null;
      const r = blendFace(plate, job.face.crop, job.face.mask, job.face.matrix, {
        mode: params.mode, levels: params.levels, plateCutoff: params.plateCutoff, plateLevels: params.plateLevels, contrast: params.contrast, chroma: params.chroma, plateDetail: params.plateDetail,
        colour: params.colour, feather: params.feather, erode: params.erode, inPlace: true, pool,
      });
      if (!width) { width = plate.width; height = plate.height; }
      if (!bitDepth) bitDepth = plate.bitDepth;
      // the matte now: the mask is a view of the pool's buffers, reused by the next frame
      const matte = matteOf(plate.width, plate.height, r);
      const image = r.image;
      if (kept) restoreCovered(image, kept, matte);
      pendingWrite = Promise.all([
        outLinear ? writeExr(join(outLinear, frameName(job.n, 'exr')), image, { sampleType: colour?.sampleType === 'float' ? 'float' : 'half' }) : null,
        writePng(outFile, outLinear ? srgbProxy(image) : image, { bitDepth: plate.bitDepth }),
        writePngSamples(matteFile, matte, plate.width, plate.height, 1),
      ]).then(() => undefined);
      if (r.roi) blended++;
    }
    progress({ done: i + 1, total: frames.length, unit: 'frames', msg: `${frameNumber(job.n)} ${job.face ? params.mode : 'no face, copied'}` }, true);
  }
  await pendingWrite;
  if (!width || !bitDepth) {
    const first = await readImage(join(outDir, frameName(frames[0])));
    width ||= first.width; height ||= first.height; bitDepth ||= first.bitDepth;
  }
  const seconds = (Date.now() - t0) / 1000;
  await writeFile(join(env.out, 'meta.json'), JSON.stringify({
    kind: 'blend', mode: params.mode, fps: inp.framesMeta.fps ?? null, fpsRational: inp.framesMeta.fpsRational ?? null, width, height, frames, bitDepth,
    // the plate's colour description, carried to encode; `light` says which values were blended
    colour, light: outLinear ? 'linear' : 'display', linear: outLinear ? 'linear' : null, mattes: 'mattes', clips: inp.framesMeta.clips ?? null,
    count: frames.length, blended, passthrough: frames.length - blended,
    params: { levels: params.levels, plateCutoff: params.plateLevels === undefined ? params.plateCutoff ?? DEFAULT_PLATE_CUTOFF : undefined, plateLevels: params.plateLevels, contrast: params.contrast, chroma: params.chroma, plateDetail: params.plateDetail, colour: params.colour, feather: params.feather, erode: params.erode },
  }, null, 2) + '\n');
  summary({ frames: frames.length, blended, passthrough: frames.length - blended, mode: params.mode, light: outLinear ? 'linear' : 'display', seconds: Math.round(seconds * 10) / 10, framesPerSecond: Math.round((frames.length / Math.max(seconds, 1e-3)) * 100) / 100 });
}
