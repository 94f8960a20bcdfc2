import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readImage, writePng, warpAffine, type Affine, type Image } from '@facecomb/image';
import { initRuntime, type Runtime } from './tf.js';
import { detectFaces, referenceDescriptor, selectFace, type Selection } from './detect.js';
import { detectLandmarks, type Box, type LandmarkResult } from './landmarks.js';
import { trackBox, trackLost, thumbnail, thumbDiff, SCENE_CUT_DIFF } from './track.js';
import { LandmarkStabiliser } from './stabilise.js';
import { alignMatrix, type Point } from './template.js';
import { transformPoints } from './umeyama.js';
import { hullMask, maskPolygon } from './mask.js';
import { meshRecord, visibleFace, type VisibleFace } from './mesh/visible.js';
import { contactSheet, type ContactCell } from './contact.js';
import { frameName } from '@facecomb/stage';
import type { FrameSource } from './frames.js';
import type { AlignParams } from './params.js';
import type { ClipSpan } from './dataset.js';

/** faces/NNNNNN.json (docs/ARTIFACTS.md). */
export interface FaceRecord {
  frame: number;
  face: null | {
    box: Box;
    score: number;
    landmarksRaw: Point[];
    landmarks: Point[];
    matrix: Affine;
  };
}

/** A frame's record plus what is only kept in memory (for benchmarks and diagnostics). */
export interface FrameResult extends FaceRecord {
  /** Mean of the multi-sample first pass. */
  multi?: Point[];
  /** After the second pass, before temporal smoothing. */
  refined?: Point[];
  /** The stabiliser restarted here (cut, first frame, or after a gap). */
  cut?: boolean;
  /** Why there is no face. */
  reason?: string;
  /** Descriptor distance to the reference (select: reference; on a tracked frame, that of the last detection). */
  distance?: number;
  /** The face window came from the previous frame's landmarks (the detector did not run on this frame). */
  tracked?: boolean;
  /** The frame differs from the previous one like a change of shot: the detector ran, the smoothing restarted. */
  sceneCut?: boolean;
  /** Why tracking was given up on this frame (it was then detected again). */
  lost?: string;
}

export interface AlignRun {
  results: FrameResult[];
  backend: string;
  why: string;
  /** Which engine ran face detection and landmarks (a log line). */
  detection: string;
  seconds: number;
  /** Frames per second of the whole per-frame loop (detection, landmarks, crops, writing). */
  fps: number;
  /** Seconds spent per part of the loop, summed over frames. */
  timings: { read: number; detect: number; landmarks: number; cropMask: number; write: number };
  /** Frames on which the face detector ran (the others were tracked). */
  detections: number;
}

export interface AlignOptions {
  backend?: string;
  onFrame?: (done: number, total: number) => void;
  /**
   * A frame chunk: write only the frames in [first, last]. Tracking and smoothing are causal, so the run starts
   * `warmup` frames earlier (rounded down to the detector's schedule of an unchunked run) and discards those.
   * A chunk writes no contact sheet.
   */
  range?: { first: number; last: number };
  warmup?: number;
}

/** Frames run before a chunk's first frame so its tracking and smoothing state matches an unchunked run's. */
export const CHUNK_WARMUP = 24;

const round = (v: number, k = 1000) => Math.round(v * k) / k;
const roundPts = (pts: Point[]): Point[] => pts.map(([x, y]) => [round(x), round(y)]);

function evenly(n: number, k: number): Set<number> {
  const s = new Set<number>();
  if (k <= 0 || n <= 0) return s;
  if (k >= n) for (let i = 0; i < n; i++) s.add(i);
  else for (let i = 0; i < k; i++) s.add(Math.round((i * (n - 1)) / Math.max(1, k - 1)));
  return s;
}

/**
 * Aligns every frame of a frames artifact into `out`: faces/NNNNNN.json, crops/NNNNNN.png,
 * masks/NNNNNN.png, contact.png and meta.json (kind "align"). A frame without a (selected) face gets a
 * record with face: null and no crop; it never stops the run.
 */
export async function alignFrames(src: FrameSource, out: string, params: AlignParams, opts: AlignOptions = {}): Promise<AlignRun> {
  const rt: Runtime = await initRuntime(opts.backend ?? 'auto');
  let selection: Selection = { kind: 'largest' };
  if (params.select === 'reference') {
    selection = { kind: 'reference', descriptor: await referenceDescriptor(rt, params.reference!), maxDistance: params.maxDistance };
  }
  const dirs = ['faces', 'crops', 'masks', ...(params.mask.source === 'mesh' || params.mask.hands ? ['mesh'] : [])];
  await Promise.all(dirs.map((d) => mkdir(join(out, d), { recursive: true })));
  const meshFallback: number[] = [];
  const handFrames: Record<string, number> = {};
  const stab = new LandmarkStabiliser(params.smoothing, params.cutThreshold, src.fps);
  const size = params.size;
  const range = opts.range;
  const columns = params.contact === false || range ? 0 : params.contact;
  // [lo, hi): the indices written; from `start`: the indices run (warm-up first)
  const lo = range ? src.frames.findIndex((f) => f >= range.first) : 0;
  const hi = range ? src.frames.length - [...src.frames].reverse().findIndex((f) => f <= range.last) : src.frames.length;
  if (range && (lo < 0 || hi <= lo || hi > src.frames.length)) throw new Error(`frames ${range.first}-${range.last}: none of them is in the frames stage's ${src.frames.length} frames (${src.frames[0]}-${src.frames.at(-1)})`);
  const warm = range ? Math.max(0, lo - (opts.warmup ?? CHUNK_WARMUP)) : 0;
  const start = warm - (warm % params.detectEvery);
  const sheetPick = evenly(src.frames.length, columns * columns);
  const cells: ContactCell[] = [];
  const results: FrameResult[] = [];
  const timings = { read: 0, detect: 0, landmarks: 0, cropMask: 0, write: 0 };
  let tick = performance.now();
  const lap = (k: keyof typeof timings) => { const now = performance.now(); timings[k] += (now - tick) / 1000; tick = now; };
  const t0 = performance.now();
  // tracking state: the last frame's per-frame landmarks (second pass), its detection score, frames since
  // the detector last ran, and the previous frame's thumbnail (scene cuts)
  let track: { landmarks: Point[]; score: number; distance?: number } | null = null;
  let sinceDetect = 0;
  let prevThumb: Float32Array | null = null;
  let detections = 0;
  for (let i = start; i < hi; i++) {
    tick = performance.now();
    const frame = src.frames[i];
    const write = i >= lo;
    const file = join(src.dir, 'frames', frameName(frame));
    const img: Image = await readImage(file, { channels: 3 });
    const thumb = thumbnail(img);
    // a new clip of a multi-clip ingest is a cut whatever the pictures look like
    const sceneCut = prevThumb !== null && (src.clipStarts.has(frame) || thumbDiff(thumb, prevThumb) > SCENE_CUT_DIFF);
    prevThumb = thumb;
    lap('read');
    let det: { box: Box; score: number } | null = null;
    let lm: LandmarkResult | null = null;
    let distance: number | undefined;
    let reason: string | undefined;
    let lost: string | undefined;
    if (track && !sceneCut && sinceDetect < params.detectEvery) {
      const box = trackBox(track.landmarks);
      const got = await detectLandmarks(rt, img, box, params.samples, params.refine, track.landmarks);
      lap('landmarks');
      const why = trackLost(track.landmarks, got.refined, box, params.cutThreshold);
      if (why) lost = why;
      else { det = { box, score: track.score }; lm = got; distance = track.distance; }
    }
    const tracked = det !== null;
    if (!tracked) {
      const faces = await detectFaces(rt, img, params.minScore, selection.kind === 'reference');
      lap('detect');
      detections++;
      sinceDetect = 0;
      const pick = selectFace(faces, selection);
      distance = pick.distance;
      if (pick.face) {
        det = pick.face;
        lm = await detectLandmarks(rt, img, det.box, params.samples, params.refine);
        lap('landmarks');
      } else reason = pick.reason;
    }
    sinceDetect++;
    let res: FrameResult;
    if (!det || !lm) {
      stab.reset();
      track = null;
      res = { frame, face: null, reason, distance, sceneCut, lost };
    } else {
      if (sceneCut) stab.reset();
      track = { landmarks: lm.refined, score: det.score, distance };
      const { landmarks, cut } = stab.push(frame, lm.refined);
      const matrix = alignMatrix(landmarks, size, params.faceType);
      const crop = warpAffine(img, matrix, size, size, { replicate: true });
      const inCrop = transformPoints(matrix, landmarks);
      let mask: Image;
      let visible: VisibleFace | null = null;
      // the mesh and hand models run only on frames written (not on a chunk's warm-up frames)
      if (!write || (params.mask.source === 'hull' && !params.mask.hands)) mask = hullMask(maskPolygon(inCrop, params.faceType), size, params.mask);
      else {
        visible = await visibleFace(rt, img, crop, det.box, matrix, inCrop, params);
        mask = visible.mask;
        if (visible.source === 'hull' && params.mask.source === 'mesh') meshFallback.push(frame);
        if (visible.hands.length) handFrames[frame] = visible.hands.length;
      }
      lap('cropMask');
      if (write) {
        await Promise.all([writePng(join(out, 'crops', frameName(frame)), crop), writePng(join(out, 'masks', frameName(frame)), mask)]);
        if (visible) await writeFile(join(out, 'mesh', frameName(frame, 'json')), JSON.stringify(meshRecord(frame, visible)));
      }
      res = {
        frame,
        face: { box: det.box.map((v) => round(v)) as Box, score: round(det.score, 1e5), landmarksRaw: roundPts(lm.raw), landmarks: roundPts(landmarks), matrix: matrix.map((v) => round(v, 1e8)) as Affine },
        multi: lm.multi,
        refined: lm.refined,
        cut: cut || sceneCut,
        distance,
        tracked,
        sceneCut,
        lost,
      };
      if (sheetPick.has(i)) cells.push({ crop, landmarks: inCrop, raw: transformPoints(matrix, lm.raw) });
    }
    if (!write) continue;
    const record: FaceRecord = { frame, face: res.face };
    await writeFile(join(out, 'faces', frameName(frame, 'json')), JSON.stringify(record));
    lap('write');
    results.push(res);
    opts.onFrame?.(i + 1 - lo, hi - lo);
  }
  const seconds = (performance.now() - t0) / 1000;
  if (columns > 0 && cells.length > 0) await writePng(join(out, 'contact.png'), contactSheet(cells, columns, Math.min(size, 128)));
  const withFace = results.filter((r) => r.face).map((r) => r.frame);
  const noFace = results.filter((r) => !r.face).map((r) => r.frame);
  const meta = {
    kind: 'align',
    size,
    faceType: params.faceType,
    fps: src.fps,
    frames: src.frames.slice(lo, hi),
    withFace,
    noFace,
    noFaceReasons: Object.fromEntries(results.filter((r) => !r.face).map((r) => [r.frame, r.reason ?? 'no face'])),
    source: { width: src.width, height: src.height, fps: src.fps },
    // the frames' clip boundaries, whole in every chunk: a dataset splits train/held-out by them
    clips: Array.isArray(src.meta.clips) ? (src.meta.clips as ClipSpan[]).map((c) => ({ source: c.source, first: c.first, last: c.last })) : null,
    select: params.select,
    engine: rt.backend,
    contact: columns > 0 && cells.length > 0 ? 'contact.png' : null,
    // with mesh/: the frames whose mask fell back to the landmark hull (no mesh found), and the frames where
    // hands were taken out (frame -> hands); a frame list and a frame map, so chunks merge
    ...(dirs.includes('mesh') ? { meshFallback, handFrames } : {}),
    params: { ...params, reference: params.reference ?? null },
  };
  await writeFile(join(out, 'meta.json'), JSON.stringify(meta, null, 2));
  return { results, backend: rt.backend, why: rt.why, detection: rt.detection, seconds, fps: (hi - start) / Math.max(seconds, 1e-9), timings, detections };
}
