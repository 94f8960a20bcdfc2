import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { invertAffine, readImage, warpAffine, type Affine, type Image } from '@facecomb/image';
import {
  ALIGN_DEFAULTS, alignMatrix, descriptorDistance, detectFaces, detectLandmarks, interOcular, transformPoints,
  type Box, type FaceType, type Point,
} from '@facecomb/align';
import { frameName, readJson } from '@facecomb/stage';
import type { FaceReader, FaceReading } from './faces.js';
import { meanDescriptor, nearest, type IdentityMean } from './identity.js';
import { highFrequency, regionMean } from './metrics.js';
import { eyesRegion, mouthRegion, rasterise } from './regions.js';

/** What the score finds in one blended (delivered) frame whose plate has a face. */
export interface DeliveredFrame {
  /** The detector found a face near the plate's face position in the blended frame. */
  detected: boolean;
  /** The detection that was taken (plate pixels) and its score. */
  box?: Box;
  score?: number;
  /** Nearest identity and descriptor distance to every identity's mean (only when detected). */
  nearest?: string;
  distances?: Record<string, number>;
  /** Distance to the target (the target identity's mean, or the plate's own mean descriptor). */
  distTarget?: number;
  /** 68-point distance to the plate's face, in the plate's inter-ocular distances (only when detected). */
  landmarkError?: number;
  expressionL1?: number;
  /** High-frequency energy [blended, plate] in the plate's mouth / eyes regions (measured with or without a detection). */
  detailMouth?: [number, number];
  detailEyes?: [number, number];
}

/** The delivered figures (null where nothing was measured). */
export interface DeliveredFigures {
  deliveredRetrieval: number | null;
  deliveredDistSource: number | null;
  deliveredDistTarget: number | null;
  deliveredDetectability: number | null;
  deliveredLandmarkError: number | null;
  deliveredExpressionL1: number | null;
  deliveredDetailMouth: number | null;
  deliveredDetailEyes: number | null;
}

export interface DeliveredResult {
  figures: DeliveredFigures;
  /** Per plate frame with a face: frame number -> what was found. */
  frames: Map<number, DeliveredFrame>;
  /** The target the distances were measured to: an identity's name, or null for the plate's own faces. */
  target: string | null;
}

/** The plate's face in one frame: its align record and, optionally, the nets' reading of its crop. */
export interface PlateFace {
  frame: number;
  /** Plate -> crop (align's matrix). */
  matrix: Affine;
  /** The detector (or tracking) box of the plate's face, plate pixels. */
  box: Box;
  /** The nets' reading of the plate crop (read here when absent). */
  reading?: FaceReading;
  /** The plate crop (read here when absent). */
  crop?: Image;
}

export interface DeliveredOptions {
  /** Folder of the blended frames (NNNNNN.png, whole plates): a blend stage's `frames/`. */
  frames: string;
  /** The plate's align stage output (faces/, crops/, meta.json). */
  align: string;
  /** The trained identities' mean descriptors (identityMean). */
  means: IdentityMean[];
  /** The source identity (a retrieval counts when the nearest mean is it). */
  source: string;
  /**
   * The plate's person: an identity's name, or null for the plate's own mean descriptor; default: the identity
   * nearest the plate's mean descriptor when within `maxDistance`, else the plate's own mean.
   */
  target?: string | null;
  maxDistance?: number;
  /** Detector score a face must reach in the blended frame (default 0.5). */
  minScore?: number;
  /** The plate's faces, when the caller has already read them (else read from `align`). */
  plate?: PlateFace[];
  onFrame?: (done: number, total: number) => void;
}

const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/**
 * The detection that is the plate's face: the one whose box centre is nearest the plate box's centre, if within
 * half the plate box's side and of a side between half and twice it. Another face elsewhere in the frame is not it.
 */
export function matchDetection<T extends { box: Box }>(dets: T[], plate: Box): T | null {
  const side = Math.max(plate[2], plate[3]);
  const cx = plate[0] + plate[2] / 2, cy = plate[1] + plate[3] / 2;
  let best: T | null = null, bestD = Infinity;
  for (const d of dets) {
    const s = Math.max(d.box[2], d.box[3]);
    const dist = Math.hypot(d.box[0] + d.box[2] / 2 - cx, d.box[1] + d.box[3] / 2 - cy);
    if (dist <= side / 2 && s >= side / 2 && s <= side * 2 && dist < bestD) { best = d; bestD = dist; }
  }
  return best;
}

/** Landmark error of `a` against `b` (both plate pixels), in b's inter-ocular distances. */
export function landmarkError(a: Point[], b: Point[]): number {
  let d = 0;
  for (let k = 0; k < 68; k++) d += Math.hypot(a[k][0] - b[k][0], a[k][1] - b[k][1]);
  return d / 68 / interOcular(b);
}

export const expressionL1 = (a: number[], b: number[]): number => a.reduce((acc, v, k) => acc + Math.abs(v - b[k]), 0);

/** High-frequency energy of two same-geometry crops in the mouth and eyes regions of `landmarks` (crop pixels). */
export function detailPair(img: Image, plate: Image, landmarks: Point[]): { detailMouth: [number, number]; detailEyes: [number, number] } {
  const { width: w, height: h } = plate;
  const r = Math.max(1, Math.round(w / 128));
  const hi = highFrequency(img, r), hp = highFrequency(plate, r);
  const mouth = rasterise(mouthRegion(landmarks), w, h), eyes = rasterise(eyesRegion(landmarks), w, h);
  return { detailMouth: [regionMean(hi, mouth), regionMean(hp, mouth)], detailEyes: [regionMean(hi, eyes), regionMean(hp, eyes)] };
}

const ratioOfSums = (v: ([number, number] | undefined)[]): number | null => {
  const ok = v.filter((x): x is [number, number] => !!x && Number.isFinite(x[0]) && Number.isFinite(x[1]));
  const b = sum(ok.map((x) => x[1]));
  return ok.length && b > 0 ? sum(ok.map((x) => x[0])) / b : null;
};

/** The plate's faces from an align output: every frame whose record has a face (crops and readings not loaded). */
export async function plateFaces(alignDir: string, frames: number[]): Promise<PlateFace[]> {
  const out: PlateFace[] = [];
  for (const f of frames) {
    const file = join(alignDir, 'faces', frameName(f, 'json'));
    const rec = await readJson<{ face?: { matrix: Affine; box: Box } | null }>(file, 'score: the plate\'s align output');
    if (rec.face) out.push({ frame: f, matrix: rec.face.matrix, box: rec.face.box });
  }
  return out;
}

/**
 * Measures the delivered shot: in every blended frame whose plate has a face, face-api's detector and 68
 * landmarks find the face again (as the align stage does: detect, landmarks with the align stage's samples and
 * refine, similarity alignment to the template at its crop size and face type), and the same nets as for the
 * swap crops read that crop: identity (distance to each identity's mean, retrieval), landmarks and expression
 * against the plate's face. Detail is measured in the blended frame warped into the plate crop's geometry.
 * A frame where no face is found near the plate's face position counts as not detected and not retrieved.
 */
export async function measureDelivered(reader: FaceReader, opts: DeliveredOptions): Promise<DeliveredResult> {
  const meta = await readJson(join(opts.align, 'meta.json'), "score: the plate's align output");
  const size = Number(meta.size);
  const faceType = (meta.faceType ?? 'wholeface') as FaceType;
  const ap = (meta.params ?? {}) as { samples?: number; refine?: boolean };
  const samples = ap.samples ?? ALIGN_DEFAULTS.samples, refine = ap.refine ?? ALIGN_DEFAULTS.refine;
  const plate = opts.plate ?? await plateFaces(opts.align, (meta.frames ?? []) as number[]);
  for (const p of plate) p.crop ??= await readImage(join(opts.align, 'crops', frameName(p.frame)), { channels: 3 });
  const unread = plate.filter((p) => !p.reading);
  for (let i = 0; i < unread.length; i += 8) {
    const batch = unread.slice(i, i + 8);
    const rs = await reader.read(batch.map((p) => p.crop!), faceType);
    batch.forEach((p, k) => { p.reading = rs[k]; });
  }

  const frames = new Map<number, DeliveredFrame>();
  const found: { frame: number; crop: Image; matrix: Affine }[] = [];
  let done = 0;
  for (const p of plate) {
    const file = join(opts.frames, frameName(p.frame));
    if (!existsSync(file)) throw new Error(`score: no blended frame ${p.frame} (${file}), though the plate's align found a face there: was the blend made from this plate?`);
    const img = await readImage(file, { channels: 3 });
    const rec: DeliveredFrame = { detected: false, ...detailPair(warpAffine(img, p.matrix, size, size, { replicate: true }), p.crop!, p.reading!.landmarks) };
    const det = matchDetection(await detectFaces(reader.rt, img, opts.minScore ?? 0.5), p.box);
    if (det) {
      const lm = await detectLandmarks(reader.rt, img, det.box, samples, refine);
      const matrix = alignMatrix(lm.refined, size, faceType);
      found.push({ frame: p.frame, crop: warpAffine(img, matrix, size, size, { replicate: true }), matrix });
      Object.assign(rec, { detected: true, box: det.box.map((v) => Math.round(v * 10) / 10) as Box, score: Math.round(det.score * 1e4) / 1e4 });
    }
    frames.set(p.frame, rec);
    opts.onFrame?.(++done, plate.length);
  }

  const byFrame = new Map(plate.map((p) => [p.frame, p]));
  const readings = new Map<number, FaceReading>();
  for (let i = 0; i < found.length; i += 8) {
    const batch = found.slice(i, i + 8);
    const rs = await reader.read(batch.map((b) => b.crop), faceType);
    batch.forEach((b, k) => readings.set(b.frame, rs[k]));
  }

  // the target: a named identity, the nearest to the plate's faces, or the plate's own faces
  const plateMean = plate.length ? meanDescriptor(plate.map((p) => p.reading!.descriptor)) : null;
  let target = opts.target;
  if (target === undefined) {
    const n = plateMean && opts.means.length ? nearest(opts.means, plateMean) : null;
    target = n && n.distance <= (opts.maxDistance ?? 0.6) ? n.name : null;
  }
  const targetDesc = target !== null ? opts.means.find((m) => m.name === target)?.descriptor ?? null : plateMean;
  if (target !== null && !targetDesc) throw new Error(`score: target '${target}' is not one of the identities [${opts.means.map((m) => m.name).join(', ')}]`);

  for (const b of found) {
    const r = readings.get(b.frame)!, p = byFrame.get(b.frame)!, rec = frames.get(b.frame)!;
    rec.distances = Object.fromEntries(opts.means.map((m) => [m.name, descriptorDistance(r.descriptor, m.descriptor)]));
    rec.nearest = nearest(opts.means, r.descriptor).name;
    if (targetDesc) rec.distTarget = descriptorDistance(r.descriptor, targetDesc);
    // both sets of landmarks back in plate pixels: each was read in its own aligned crop
    const toPlate = (m: Affine, pts: Point[]) => transformPoints(invertAffine(m), pts);
    rec.landmarkError = landmarkError(toPlate(b.matrix, r.landmarks), toPlate(p.matrix, p.reading!.landmarks));
    rec.expressionL1 = expressionL1(r.expression, p.reading!.expression);
  }
  return { figures: deliveredFigures([...frames.values()], opts.source), frames, target };
}

/** The summary over the frames whose plate has a face; a frame with no face found counts against detectability and retrieval. */
export function deliveredFigures(fr: DeliveredFrame[], source: string): DeliveredFigures {
  const det = fr.filter((f) => f.detected);
  const pick = (k: 'landmarkError' | 'expressionL1' | 'distTarget') => mean(det.map((f) => f[k]).filter((v): v is number => typeof v === 'number'));
  return {
    deliveredRetrieval: fr.length ? det.filter((f) => f.nearest === source).length / fr.length : null,
    deliveredDistSource: mean(det.map((f) => f.distances?.[source]).filter((v): v is number => typeof v === 'number')),
    deliveredDistTarget: pick('distTarget'),
    deliveredDetectability: fr.length ? det.length / fr.length : null,
    deliveredLandmarkError: pick('landmarkError'),
    deliveredExpressionL1: pick('expressionL1'),
    deliveredDetailMouth: ratioOfSums(fr.map((f) => f.detailMouth)),
    deliveredDetailEyes: ratioOfSums(fr.map((f) => f.detailEyes)),
  };
}
