import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readImage, type Affine, type Image } from '@facecomb/image';
import { descriptorDistance, landmarkJitter, type Box, type Point } from '@facecomb/align';
import { frameName, readJson } from '@facecomb/stage';
import type { FaceReader, FaceReading } from './faces.js';
import { ReadingCache } from './readings.js';
import { identityMean, meanDescriptor, nearest, type IdentityMean } from './identity.js';
import type { ScoreInputs } from './inputs.js';
import type { ScoreParams } from './params.js';
import type { Figures } from './figures.js';
import { maskedMeanAbsDiff, maskedPsnr, maskedSsim } from './metrics.js';
import { seamFigures, seamView, type SeamView } from './seams.js';
import { detailPair, expressionL1, landmarkError, measureDelivered, type DeliveredFigures, type DeliveredFrame, type PlateFace } from './delivered.js';

/** One plate frame's figures (docs: packages/score/README.md). */
export interface FrameScore {
  frame: number;
  /** scored; noFace: the plate's align found no face; missing: the swap has no face for it. */
  status: 'scored' | 'noFace' | 'missing';
  nearest?: string;
  /** Descriptor distance to every identity's mean. */
  distances?: Record<string, number>;
  landmarkError?: number;
  expressionL1?: number;
  /** In-mask mean absolute change from the previous frame (swap, plate); absent on a frame after a gap. */
  change?: number;
  changePlate?: number;
  seam?: number;
  seamPlate?: number;
  /** High-frequency energy, swap and plate. */
  detailMouth?: [number, number];
  detailEyes?: [number, number];
  ssim?: number;
  psnr?: number;
  detected?: boolean;
  detectedPlate?: boolean;
  /** The face found again in the blended frame (with a blend). */
  delivered?: DeliveredFrame;
}

export interface ScoreResult {
  source: string;
  /** The plate's person: a trained identity, or null when none is near enough (then measured against the plate's own faces). */
  target: string | null;
  identities: { name: string; crops: number; distanceToPlate: number }[];
  reconstruction: boolean;
  /** Where the seams were measured (null without a blend). */
  seamsAt: 'plate' | 'crop' | null;
  figures: Figures;
  counts: { frames: number; scored: number; noFace: number; missing: number };
  frames: FrameScore[];
}

interface Loaded {
  frame: number;
  plate: Image;
  swap: Image;
  mask: Image;
  /** With a blend: the blend and the plate around the face, for the seam figures. */
  seams: SeamView | null;
  matrix: Affine;
  /** The crop files (keys of the reading cache). */
  plateFile: string;
  swapFile: string;
}

async function load(inp: ScoreInputs, f: number, matrix: Affine): Promise<Loaded> {
  const name = frameName(f);
  const maskFile = existsSync(join(inp.swap.dir, 'masks', name)) ? join(inp.swap.dir, 'masks', name) : join(inp.align.dir, 'masks', name);
  const plateFile = join(inp.align.dir, 'crops', name), swapFile = join(inp.swap.dir, 'faces', name);
  const [plate, swap, mask] = await Promise.all([
    readImage(plateFile, { channels: 3 }),
    readImage(swapFile, { channels: 3 }),
    readImage(maskFile, { channels: 1 }),
  ]);
  if (swap.width !== plate.width || swap.height !== plate.height) throw new Error(`score: ${join(inp.swap.dir, 'faces', name)} is ${swap.width}x${swap.height} but the plate crop is ${plate.width}x${plate.height}`);
  let seams: SeamView | null = null;
  if (inp.blend) {
    const file = join(inp.blend.dir, 'frames', name);
    if (!existsSync(file)) throw new Error(`score: blend '${inp.blend.name}' has no frame ${f} (${file}); was it made from this swap?`);
    const plateFile = inp.frames ? join(inp.frames.dir, 'frames', name) : null;
    if (plateFile && !existsSync(plateFile)) throw new Error(`score: plate '${inp.frames!.name}' has no frame ${f} (${plateFile})`);
    const [b, p] = await Promise.all([readImage(file, { channels: 3 }), plateFile ? readImage(plateFile, { channels: 3 }) : null]);
    seams = seamView(b, p, plate, mask, matrix);
  }
  return { frame: f, plate, swap, mask, seams, matrix, plateFile, swapFile };
}

const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
/** Share of true among the defined values; null when none is defined. */
const share = (xs: (boolean | undefined)[]): number | null => {
  const d = xs.filter((x) => x !== undefined);
  return d.length ? d.filter(Boolean).length / d.length : null;
};
const ratio = (a: number | null, b: number | null): number | null => (a === null || b === null || !(b > 0) ? null : a / b);

/** Per-frame image figures that need no nets: seams, detail, reconstruction. */
function imageFigures(s: FrameScore, l: Loaded, plateLm: Point[]): void {
  const { width: w } = l.plate;
  if (l.seams) Object.assign(s, seamFigures(l.seams));
  Object.assign(s, detailPair(l.swap, l.plate, plateLm));
  // kept only when the swap is a reconstruction (known once the target is; cheap enough to compute anyway)
  s.ssim = maskedSsim(l.swap, l.plate, l.mask, Math.max(1, Math.round(w / 64)));
  s.psnr = maskedPsnr(l.swap, l.plate, l.mask);
}

const NO_DELIVERED: DeliveredFigures = {
  deliveredRetrieval: null, deliveredDistSource: null, deliveredDistTarget: null, deliveredDetectability: null,
  deliveredLandmarkError: null, deliveredExpressionL1: null, deliveredDetailMouth: null, deliveredDetailEyes: null,
};

export interface ScoreOptions {
  onProgress?: (done: number, total: number, what: string) => void;
  /** Readings of unchanged crop files kept across runs (FACECOMB_STAGE_CACHE); without it every crop is read. */
  readings?: ReadingCache;
}

/** Scores a swap (and its blend) against the plate and the trained identities. */
export async function scoreSwap(reader: FaceReader, inp: ScoreInputs, params: ScoreParams, opts: ScoreOptions = {}): Promise<ScoreResult> {
  const frames = (inp.align.meta.frames ?? []) as number[];
  if (!Array.isArray(frames) || frames.length === 0) throw new Error(`score: align '${inp.align.name}' lists no frames (${join(inp.align.dir, 'meta.json')})`);
  // identities, then the crops, then (with a blend) the blended frames
  const readings = opts.readings ?? await ReadingCache.open(undefined, reader);
  const total = frames.length * (inp.blend ? 2 : 1) + inp.identities.length;
  const means: IdentityMean[] = [];
  for (const id of inp.identities) {
    means.push(await identityMean(reader, id, params.perIdentity, readings));
    opts.onProgress?.(means.length, total, `identity ${id.name}`);
  }

  const scores: FrameScore[] = [];
  const swapDesc: Float32Array[] = [], plateDesc: Float32Array[] = [];
  const swapTrack: (Point[] | null)[] = [], plateTrack: (Point[] | null)[] = [];
  const plateFaces: PlateFace[] = [];
  const boxes = new Map<number, Box>();
  let prev: Loaded | null = null;
  let pending: { s: FrameScore; l: Loaded; n: number }[] = [];
  let nScored = 0;

  const flush = async () => {
    if (!pending.length) return;
    const opt = { detect: pending.map((p) => p.n % params.detectEvery === 0), minScore: params.detectScore };
    const sw: FaceReading[] = await readings.read(reader, pending.map((p) => p.l.swap), pending.map((p) => p.l.swapFile), inp.faceType, opt);
    const pl: FaceReading[] = await readings.read(reader, pending.map((p) => p.l.plate), pending.map((p) => p.l.plateFile), inp.faceType, opt);
    pending.forEach(({ s, l }, i) => {
      s.landmarkError = landmarkError(sw[i].landmarks, pl[i].landmarks);
      s.expressionL1 = expressionL1(sw[i].expression, pl[i].expression);
      s.detected = sw[i].detected;
      s.detectedPlate = pl[i].detected;
      s.distances = Object.fromEntries(means.map((m) => [m.name, descriptorDistance(sw[i].descriptor, m.descriptor)]));
      s.nearest = nearest(means, sw[i].descriptor).name;
      swapDesc.push(sw[i].descriptor);
      plateDesc.push(pl[i].descriptor);
      const idx = scores.indexOf(s);
      swapTrack[idx] = sw[i].landmarks;
      plateTrack[idx] = pl[i].landmarks;
      plateFaces.push({ frame: s.frame, matrix: l.matrix, box: boxes.get(s.frame)!, reading: pl[i], crop: l.plate });
      imageFigures(s, l, pl[i].landmarks);
    });
    pending = [];
  };

  for (const f of frames) {
    const rec = await readJson(join(inp.align.dir, 'faces', frameName(f, 'json')), 'score: the align output');
    const face = rec.face as { matrix?: Affine; box?: Box } | null | undefined;
    const s: FrameScore = { frame: f, status: 'scored' };
    scores.push(s);
    swapTrack.push(null);
    plateTrack.push(null);
    if (!face) { s.status = 'noFace'; prev = null; continue; }
    if (!existsSync(join(inp.swap.dir, 'faces', frameName(f)))) { s.status = 'missing'; prev = null; continue; }
    const l = await load(inp, f, face.matrix as Affine);
    boxes.set(f, face.box as Box);
    if (prev) {
      s.change = maskedMeanAbsDiff(l.swap, prev.swap, l.mask);
      s.changePlate = maskedMeanAbsDiff(l.plate, prev.plate, l.mask);
    }
    prev = l;
    pending.push({ s, l, n: nScored++ });
    if (pending.length === 8) await flush();
    opts.onProgress?.(inp.identities.length + scores.length, total, `frame ${f}`);
  }
  await flush();

  const scored = scores.filter((s) => s.status === 'scored');
  let target = params.target ?? null;
  const plateMean = plateDesc.length ? meanDescriptor(plateDesc) : null;
  const identities = means.map((m) => ({ name: m.name, crops: m.crops, distanceToPlate: plateMean ? descriptorDistance(plateMean, m.descriptor) : NaN }));
  if (target === null && plateMean) {
    const n = nearest(means, plateMean);
    if (n.distance <= params.maxDistance) target = n.name;
  }
  const reconstruction = params.reconstruction === 'auto' ? target === inp.source : params.reconstruction;
  if (!reconstruction) for (const s of scored) { delete s.ssim; delete s.psnr; }

  const targetDesc = target ? means.find((m) => m.name === target)!.descriptor : plateMean;
  const delivered = inp.blend
    ? await measureDelivered(reader, {
      frames: join(inp.blend.dir, 'frames'), align: inp.align.dir, means, source: inp.source, target, minScore: params.detectScore, plate: plateFaces,
      onFrame: (done) => opts.onProgress?.(inp.identities.length + frames.length + done, total, 'blended frames'),
    })
    : null;
  for (const s of scored) if (delivered?.frames.has(s.frame)) s.delivered = delivered.frames.get(s.frame);
  const pick = (k: keyof FrameScore) => scored.map((s) => s[k]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const detail = (k: 'detailMouth' | 'detailEyes') => {
    const v = scored.map((s) => s[k]).filter((x): x is [number, number] => !!x && Number.isFinite(x[0]) && Number.isFinite(x[1]));
    return v.length ? ratio(sum(v.map((x) => x[0])), sum(v.map((x) => x[1]))) : null;
  };
  const paired = scored.filter((s) => s.change !== undefined);
  const jSwap = landmarkJitter(swapTrack), jPlate = landmarkJitter(plateTrack);
  const seam = mean(pick('seam')), seamPlate = mean(pick('seamPlate'));
  const figures: Figures = {
    ...(delivered?.figures ?? NO_DELIVERED),
    identityRetrieval: scored.length ? scored.filter((s) => s.nearest === inp.source).length / scored.length : null,
    distSource: mean(scored.map((s) => s.distances![inp.source])),
    distTarget: targetDesc ? mean(swapDesc.map((d) => descriptorDistance(d, targetDesc))) : null,
    landmarkError: mean(pick('landmarkError')),
    expressionL1: mean(pick('expressionL1')),
    changeRatio: paired.length ? ratio(sum(paired.map((s) => s.change!)), sum(paired.map((s) => s.changePlate!))) : null,
    jitter: jSwap.pairs ? jSwap.jitter : null,
    jitterPlate: jPlate.pairs ? jPlate.jitter : null,
    jitterRatio: jSwap.pairs ? ratio(jSwap.jitter, jPlate.jitter) : null,
    seam, seamPlate, seamRatio: seam === null ? null : ratio(seamPlate! + seam, seamPlate),
    detailMouth: detail('detailMouth'),
    detailEyes: detail('detailEyes'),
    ssim: mean(pick('ssim')),
    psnr: mean(pick('psnr')),
    detectability: share(scored.map((s) => s.detected)),
    detectabilityPlate: share(scored.map((s) => s.detectedPlate)),
  };
  const counts = {
    frames: scores.length, scored: scored.length,
    noFace: scores.filter((s) => s.status === 'noFace').length, missing: scores.filter((s) => s.status === 'missing').length,
  };
  const seamsAt = inp.blend ? (inp.frames ? 'plate' : 'crop') : null;
  return { source: inp.source, target, identities, reconstruction, seamsAt, figures, counts, frames: scores };
}
