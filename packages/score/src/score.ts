import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readImage, warpAffine, type Affine, type Image } from '@facecomb/image';
import { descriptorDistance, frameName, interOcular, landmarkJitter, type Point } from '@facecomb/align';
import type { FaceReader, FaceReading } from './faces.js';
import { identityMean, meanDescriptor, nearest, type IdentityMean } from './identity.js';
import type { ScoreInputs } from './inputs.js';
import type { ScoreParams } from './params.js';
import type { Figures } from './figures.js';
import { edgeBand, gradient, highFrequency, maskedMeanAbsDiff, maskedPsnr, maskedSsim, regionMean } from './metrics.js';
import { eyesRegion, mouthRegion, rasterise } from './regions.js';

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
}

export interface ScoreResult {
  source: string;
  /** The plate's person: a trained identity, or null when none is near enough (then measured against the plate's own faces). */
  target: string | null;
  identities: { name: string; crops: number; distanceToPlate: number }[];
  reconstruction: boolean;
  figures: Figures;
  counts: { frames: number; scored: number; noFace: number; missing: number };
  frames: FrameScore[];
}

interface Loaded {
  frame: number;
  plate: Image;
  swap: Image;
  mask: Image;
  blend: Image | null;
}

async function readJson(file: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`score: cannot read ${file}: ${(e as Error).message}`);
  }
}

async function load(inp: ScoreInputs, f: number, matrix: Affine): Promise<Loaded> {
  const name = frameName(f);
  const maskFile = existsSync(join(inp.swap.dir, 'masks', name)) ? join(inp.swap.dir, 'masks', name) : join(inp.align.dir, 'masks', name);
  const [plate, swap, mask] = await Promise.all([
    readImage(join(inp.align.dir, 'crops', name), { channels: 3 }),
    readImage(join(inp.swap.dir, 'faces', name), { channels: 3 }),
    readImage(maskFile, { channels: 1 }),
  ]);
  if (swap.width !== plate.width || swap.height !== plate.height) throw new Error(`score: ${join(inp.swap.dir, 'faces', name)} is ${swap.width}x${swap.height} but the plate crop is ${plate.width}x${plate.height}`);
  let blend: Image | null = null;
  if (inp.blend) {
    const file = join(inp.blend.dir, 'frames', name);
    if (!existsSync(file)) throw new Error(`score: blend '${inp.blend.name}' has no frame ${f} (${file}); was it made from this swap?`);
    // the blended plate seen in crop space: the same warp align made the plate crop with
    blend = warpAffine(await readImage(file, { channels: 3 }), matrix, plate.width, plate.height, { replicate: true });
  }
  return { frame: f, plate, swap, mask, blend };
}

const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const ratio = (a: number | null, b: number | null): number | null => (a === null || b === null || !(b > 0) ? null : a / b);

function landmarkError(a: Point[], b: Point[]): number {
  let d = 0;
  for (let k = 0; k < 68; k++) d += Math.hypot(a[k][0] - b[k][0], a[k][1] - b[k][1]);
  return d / 68 / interOcular(b);
}

/** Per-frame image figures that need no nets: seams, detail, reconstruction. */
function imageFigures(s: FrameScore, l: Loaded, plateLm: Point[]): void {
  const { width: w, height: h } = l.plate;
  if (l.blend) {
    const band = edgeBand(l.mask, Math.max(1, Math.round(w * 0.02)));
    s.seam = regionMean(gradient(l.blend), band) * 255;
    s.seamPlate = regionMean(gradient(l.plate), band) * 255;
  }
  const r = Math.max(1, Math.round(w / 128));
  const hs = highFrequency(l.swap, r), hp = highFrequency(l.plate, r);
  const mouth = rasterise(mouthRegion(plateLm), w, h), eyes = rasterise(eyesRegion(plateLm), w, h);
  s.detailMouth = [regionMean(hs, mouth), regionMean(hp, mouth)];
  s.detailEyes = [regionMean(hs, eyes), regionMean(hp, eyes)];
  // kept only when the swap is a reconstruction (known once the target is; cheap enough to compute anyway)
  s.ssim = maskedSsim(l.swap, l.plate, l.mask, Math.max(1, Math.round(w / 64)));
  s.psnr = maskedPsnr(l.swap, l.plate, l.mask);
}

export interface ScoreOptions {
  onProgress?: (done: number, total: number, what: string) => void;
}

/** Scores a swap (and its blend) against the plate and the trained identities. */
export async function scoreSwap(reader: FaceReader, inp: ScoreInputs, params: ScoreParams, opts: ScoreOptions = {}): Promise<ScoreResult> {
  const frames = (inp.align.meta.frames ?? []) as number[];
  if (!Array.isArray(frames) || frames.length === 0) throw new Error(`score: align '${inp.align.name}' lists no frames (${join(inp.align.dir, 'meta.json')})`);
  const total = frames.length + inp.identities.length;
  const means: IdentityMean[] = [];
  for (const id of inp.identities) {
    means.push(await identityMean(reader, id, params.perIdentity));
    opts.onProgress?.(means.length, total, `identity ${id.name}`);
  }
  if (params.target !== undefined && !means.some((m) => m.name === params.target)) {
    throw new Error(`score: param 'target' is '${params.target}', not one of the identities [${means.map((m) => m.name).join(', ')}]`);
  }

  const scores: FrameScore[] = [];
  const swapDesc: Float32Array[] = [], plateDesc: Float32Array[] = [];
  const swapTrack: (Point[] | null)[] = [], plateTrack: (Point[] | null)[] = [];
  let prev: Loaded | null = null;
  let pending: { s: FrameScore; l: Loaded }[] = [];

  const flush = async () => {
    if (!pending.length) return;
    const opt = { detect: true, minScore: params.detectScore };
    const sw: FaceReading[] = await reader.read(pending.map((p) => p.l.swap), inp.faceType, opt);
    const pl: FaceReading[] = await reader.read(pending.map((p) => p.l.plate), inp.faceType, opt);
    pending.forEach(({ s, l }, i) => {
      s.landmarkError = landmarkError(sw[i].landmarks, pl[i].landmarks);
      s.expressionL1 = sw[i].expression.reduce((acc, v, k) => acc + Math.abs(v - pl[i].expression[k]), 0);
      s.detected = sw[i].detected;
      s.detectedPlate = pl[i].detected;
      s.distances = Object.fromEntries(means.map((m) => [m.name, descriptorDistance(sw[i].descriptor, m.descriptor)]));
      s.nearest = nearest(means, sw[i].descriptor).name;
      swapDesc.push(sw[i].descriptor);
      plateDesc.push(pl[i].descriptor);
      const idx = scores.indexOf(s);
      swapTrack[idx] = sw[i].landmarks;
      plateTrack[idx] = pl[i].landmarks;
      imageFigures(s, l, pl[i].landmarks);
    });
    pending = [];
  };

  for (const f of frames) {
    const rec = await readJson(join(inp.align.dir, 'faces', frameName(f).replace('.png', '.json')));
    const face = rec.face as { matrix?: Affine } | null | undefined;
    const s: FrameScore = { frame: f, status: 'scored' };
    scores.push(s);
    swapTrack.push(null);
    plateTrack.push(null);
    if (!face) { s.status = 'noFace'; prev = null; continue; }
    if (!existsSync(join(inp.swap.dir, 'faces', frameName(f)))) { s.status = 'missing'; prev = null; continue; }
    const l = await load(inp, f, face.matrix as Affine);
    if (prev) {
      s.change = maskedMeanAbsDiff(l.swap, prev.swap, l.mask);
      s.changePlate = maskedMeanAbsDiff(l.plate, prev.plate, l.mask);
    }
    prev = l;
    pending.push({ s, l });
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
  const pick = (k: keyof FrameScore) => scored.map((s) => s[k]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const detail = (k: 'detailMouth' | 'detailEyes') => {
    const v = scored.map((s) => s[k]).filter((x): x is [number, number] => !!x && Number.isFinite(x[0]) && Number.isFinite(x[1]));
    return v.length ? ratio(sum(v.map((x) => x[0])), sum(v.map((x) => x[1]))) : null;
  };
  const paired = scored.filter((s) => s.change !== undefined);
  const jSwap = landmarkJitter(swapTrack), jPlate = landmarkJitter(plateTrack);
  const seam = mean(pick('seam')), seamPlate = mean(pick('seamPlate'));
  const figures: Figures = {
    identityRetrieval: scored.length ? scored.filter((s) => s.nearest === inp.source).length / scored.length : null,
    distSource: mean(scored.map((s) => s.distances![inp.source])),
    distTarget: targetDesc ? mean(swapDesc.map((d) => descriptorDistance(d, targetDesc))) : null,
    landmarkError: mean(pick('landmarkError')),
    expressionL1: mean(pick('expressionL1')),
    changeRatio: paired.length ? ratio(sum(paired.map((s) => s.change!)), sum(paired.map((s) => s.changePlate!))) : null,
    jitter: jSwap.pairs ? jSwap.jitter : null,
    jitterPlate: jPlate.pairs ? jPlate.jitter : null,
    jitterRatio: jSwap.pairs ? ratio(jSwap.jitter, jPlate.jitter) : null,
    seam, seamPlate, seamRatio: ratio(seam, seamPlate),
    detailMouth: detail('detailMouth'),
    detailEyes: detail('detailEyes'),
    ssim: mean(pick('ssim')),
    psnr: mean(pick('psnr')),
    detectability: scored.length ? scored.filter((s) => s.detected).length / scored.length : null,
    detectabilityPlate: scored.length ? scored.filter((s) => s.detectedPlate).length / scored.length : null,
  };
  const counts = {
    frames: scores.length, scored: scored.length,
    noFace: scores.filter((s) => s.status === 'noFace').length, missing: scores.filter((s) => s.status === 'missing').length,
  };
  return { source: inp.source, target, identities, reconstruction, figures, counts, frames: scores };
}
