import type { Image } from '@facecomb/image';
import { MEAN_FACE, TEMPLATE_FIRST, interOcular, type Point } from './template.js';
import { umeyama, transformPoints, decomposeSimilarity } from './umeyama.js';
import { invertAffine } from '@facecomb/image';
import { REFINE_WINDOW, type Box } from './landmarks.js';
import { meanShift } from './stabilise.js';

/**
 * The face box for the next frame, from this frame's landmarks: the square the detector gives on average
 * for such a face (REFINE_WINDOW in template units, mapped back into the plate), axis-aligned, so the first
 * landmark pass sees the framing it gets after a detection.
 */
export function trackBox(landmarks: Point[]): Box {
  const toPlate = invertAffine(umeyama(landmarks.slice(TEMPLATE_FIRST), MEAN_FACE));
  const w = REFINE_WINDOW;
  const [[cx, cy]] = transformPoints(toPlate, [[w.cx, w.cy]]);
  const side = w.side * decomposeSimilarity(toPlate).scale;
  return [cx - side / 2, cy - side / 2, side, side];
}

/** Largest change of the inter-ocular distance between consecutive tracked frames (ratio) still believed. */
export const TRACK_MAX_SCALE = 1.25;

/**
 * Why a tracked frame's landmarks are not to be trusted (then the frame is detected again), or null:
 * non-finite points, a face that shrank or grew by more than TRACK_MAX_SCALE, a jump of more than
 * `cutThreshold` inter-ocular distances from the previous frame, landmarks whose centre left the window
 * they were found in, or a collapsed point set.
 */
export function trackLost(prev: Point[], cur: Point[], box: Box, cutThreshold: number): string | null {
  for (const [x, y] of cur) if (!Number.isFinite(x) || !Number.isFinite(y)) return 'landmarks not finite';
  const a = interOcular(prev), b = interOcular(cur);
  if (!(b > 1) || b / a > TRACK_MAX_SCALE || a / b > TRACK_MAX_SCALE) return `face scale jumped (inter-ocular ${a.toFixed(1)} -> ${b.toFixed(1)} px)`;
  const shift = meanShift(cur, prev);
  if (shift > cutThreshold) return `landmarks jumped ${shift.toFixed(2)} inter-ocular distances`;
  let cx = 0, cy = 0;
  for (const [x, y] of cur) { cx += x; cy += y; }
  cx /= cur.length; cy /= cur.length;
  const [x, y, w, h] = box;
  if (cx < x || cy < y || cx > x + w || cy > y + h) return 'landmarks left the tracked window';
  // the face's eyes are about a third of the window apart; far less is the net answering on no face
  if (b < 0.12 * Math.max(w, h)) return 'landmarks collapsed';
  return null;
}

/** Side of the grey thumbnail used to tell scene cuts. */
const THUMB = 48;
/**
 * Mean absolute difference (0..1) between consecutive frames' grey thumbnails above which the frame is a
 * scene cut: the track is dropped, the detector runs and the smoothing restarts. Measured on the congress
 * footage: within a shot at most 0.055 (median 0.001-0.013); between two of its clips 0.20-0.30.
 */
export const SCENE_CUT_DIFF = 0.12;

/** A THUMB x THUMB grey thumbnail (block means, aspect ignored): cheap, for frame differencing. */
export function thumbnail(img: Image): Float32Array {
  const t = new Float32Array(THUMB * THUMB);
  const n = new Float32Array(THUMB * THUMB);
  const c = img.channels, k = Math.min(c, 3);
  for (let y = 0; y < img.height; y++) {
    const row = Math.min(THUMB - 1, Math.floor((y * THUMB) / img.height)) * THUMB;
    for (let x = 0; x < img.width; x++) {
      const o = (y * img.width + x) * c;
      let s = 0;
      for (let q = 0; q < k; q++) s += img.data[o + q];
      const cell = row + Math.min(THUMB - 1, Math.floor((x * THUMB) / img.width));
      t[cell] += s / k;
      n[cell]++;
    }
  }
  for (let i = 0; i < t.length; i++) t[i] /= Math.max(1, n[i]);
  return t;
}

/** Thumbnail pixels of shift tried by thumbDiff (each ~2 % of the frame). */
const MAX_SHIFT = 2;

/**
 * Mean absolute difference (0..1) of two thumbnails, the least over shifts of up to MAX_SHIFT thumbnail
 * pixels (on their overlap), so camera pans and head moves do not count as a change of shot.
 */
export function thumbDiff(a: Float32Array, b: Float32Array): number {
  let best = Infinity;
  for (let dy = -MAX_SHIFT; dy <= MAX_SHIFT; dy++) {
    for (let dx = -MAX_SHIFT; dx <= MAX_SHIFT; dx++) {
      let s = 0, n = 0;
      for (let y = Math.max(0, -dy); y < Math.min(THUMB, THUMB - dy); y++) {
        const ra = y * THUMB, rb = (y + dy) * THUMB;
        for (let x = Math.max(0, -dx); x < Math.min(THUMB, THUMB - dx); x++) { s += Math.abs(a[ra + x] - b[rb + x + dx]); n++; }
      }
      best = Math.min(best, s / n);
    }
  }
  return best;
}
