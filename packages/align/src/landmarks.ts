import { warpAffine, invertAffine, composeAffine, type Affine, type Image } from '@facecomb/image';
import type { Runtime, Tensor } from './tf.js';
import { MEAN_FACE, TEMPLATE_FIRST, type Point } from './template.js';
import { umeyama, transformPoints } from './umeyama.js';

/** Input side of face-api's 68-point landmark net. */
export const NET_SIZE = 112;

/** An axis-aligned box [x, y, w, h] in plate pixels. */
export type Box = [number, number, number, number];

/**
 * Perturbations of the landmark net's input window, as (dx, dy) in fractions of the window side, a scale
 * factor, and a horizontal mirror. The first is the unperturbed window; `samples` takes the first n.
 * (Mirrored windows are supported but not in the default set: on the congress footage they moved the
 * points ~1 net pixel sideways — the net is not mirror-symmetric — for a 2% gain in steadiness.)
 */
const PERTURB: [number, number, number, boolean][] = [
  [0, 0, 1, false],
  [0.035, 0, 1, false], [-0.035, 0, 1, false], [0, 0.035, 1, false], [0, -0.035, 1, false],
  [0, 0, 1.05, false], [0, 0, 0.95, false],
  [0.025, 0.025, 1.03, false], [-0.025, -0.025, 0.97, false], [0.025, -0.025, 0.97, false], [-0.025, 0.025, 1.03, false],
];
/** 68-point index of each point's mirror image (iBUG layout). */
export const MIRROR_68: number[] = (() => {
  const m = Array.from({ length: 68 }, (_, i) => i);
  const pairs: [number, number][] = [
    [17, 26], [18, 25], [19, 24], [20, 23], [21, 22], [31, 35], [32, 34],
    [36, 45], [37, 44], [38, 43], [39, 42], [40, 47], [41, 46],
    [48, 54], [49, 53], [50, 52], [55, 59], [56, 58], [60, 64], [61, 63], [65, 67],
  ];
  for (let i = 0; i <= 16; i++) pairs.push([i, 16 - i]);
  for (const [a, b] of pairs) { m[a] = b; m[b] = a; }
  return m;
})();
export const MAX_SAMPLES = PERTURB.length;

/**
 * Where the second (refinement) pass puts its window, in units of the mean-face template: the window that
 * SSD MobileNet's face boxes give on average once made square (measured on the congress and White House
 * footage), so that the net sees the framing it was trained on, but upright and at a steady scale.
 */
export const REFINE_WINDOW = { cx: 0.49, cy: 0.445, side: 1.43 };

/** Matrix mapping plate pixels into the net's input for a square window (centre, side, rotation). */
export function windowMatrix(cx: number, cy: number, side: number, angle = 0): Affine {
  const k = NET_SIZE / side;
  const c = Math.cos(-angle) * k, s = Math.sin(-angle) * k;
  // u = k R(-angle) (p - c) + NET_SIZE/2
  return [c, -s, NET_SIZE / 2 - (c * cx - s * cy), s, c, NET_SIZE / 2 - (s * cx + c * cy)];
}

/** The square window face-api itself uses for a detection box: centred, side = the longer box side. */
export function boxWindow(box: Box): Affine {
  const [x, y, w, h] = box;
  return windowMatrix(x + w / 2, y + h / 2, Math.max(w, h));
}

function perturbed(base: Affine, n: number): Affine[] {
  const out: Affine[] = [];
  for (let i = 0; i < Math.min(n, PERTURB.length); i++) {
    const [dx, dy, sc, flip] = PERTURB[i];
    // in net-input space: scale about the centre, then shift (a shift of dx window sides = dx * NET_SIZE px)
    const k = 1 / sc;
    const h = NET_SIZE / 2;
    const p: Affine = [k, 0, h - k * h - dx * NET_SIZE * k, 0, k, h - k * h - dy * NET_SIZE * k];
    const w = composeAffine(p, base);
    // mirror about the window's centre column: u -> (NET_SIZE - 1) - u
    out.push(flip ? composeAffine([-1, 0, NET_SIZE - 1, 0, 1, 0], w) : w);
  }
  return out;
}

/**
 * Runs the 68-point landmark net on the given windows (matrices plate -> 112x112 net input) of one plate
 * and returns each window's landmarks in plate pixels.
 */
export async function landmarksInWindows(rt: Runtime, plate: Image, windows: Affine[]): Promise<Point[][]> {
  const n = windows.length;
  const px = NET_SIZE * NET_SIZE * 3;
  const batch = new Float32Array(n * px);
  for (let i = 0; i < n; i++) {
    const crop = warpAffine(plate, windows[i], NET_SIZE, NET_SIZE, { replicate: true });
    const d = crop.data, o = i * px;
    if (crop.channels === 3) for (let j = 0; j < px; j++) batch[o + j] = d[j] * 255;
    else throw new Error('landmarksInWindows expects an RGB plate');
  }
  const t4 = rt.tf.tensor4d(batch, [n, NET_SIZE, NET_SIZE, 3]);
  const list = rt.tf.unstack(t4);
  let out: Tensor | undefined;
  let rel: Float32Array;
  try {
    out = (await rt.faceapi.nets.faceLandmark68Net.forward(list)) as Tensor;
    rel = (await out.data()) as Float32Array;
  } finally {
    t4.dispose();
    for (const t of list) t.dispose();
    out?.dispose();
  }
  const res: Point[][] = [];
  for (let i = 0; i < n; i++) {
    const w = windows[i];
    const inv = invertAffine(w);
    const mirrored = w[0] * w[4] - w[1] * w[3] < 0;
    const pts: Point[] = new Array(68);
    for (let k = 0; k < 68; k++) {
      const u = rel[i * 136 + 2 * k] * NET_SIZE, v = rel[i * 136 + 2 * k + 1] * NET_SIZE;
      // in a mirrored window the net's point k is the face's point MIRROR_68[k]
      pts[mirrored ? MIRROR_68[k] : k] = [inv[0] * u + inv[1] * v + inv[2], inv[3] * u + inv[4] * v + inv[5]];
    }
    res.push(pts);
  }
  return res;
}

/** Point-wise mean of several landmark sets. */
export function meanLandmarks(sets: Point[][]): Point[] {
  const n = sets.length;
  return sets[0].map((_, k) => {
    let x = 0, y = 0;
    for (const s of sets) { x += s[k][0]; y += s[k][1]; }
    return [x / n, y / n] as Point;
  });
}

export interface LandmarkResult {
  /** One pass of the net on the detector's box: what face-api alone gives. */
  raw: Point[];
  /** Mean over the perturbed detector windows. */
  multi: Point[];
  /** Mean over perturbed windows placed from `multi`, upright and at the template scale (second pass). */
  refined: Point[];
}

/** Windows of the second pass: perturbed copies of the REFINE_WINDOW placed by an estimate's similarity to the template. */
function refineWindows(estimate: Point[], samples: number): Affine[] {
  const toTemplate = umeyama(estimate.slice(TEMPLATE_FIRST), MEAN_FACE);
  const w = REFINE_WINDOW;
  return perturbed(composeAffine(windowMatrix(w.cx, w.cy, w.side), toTemplate), Math.max(1, samples));
}

/**
 * Landmarks for one face: the detector window and `samples - 1` shifted/scaled copies, averaged; then,
 * if `refine`, a second pass in windows aligned to the first estimate (rotation and scale removed),
 * averaged again. Both passes run as one batch each.
 *
 * With `prior` (the previous frame's second-pass landmarks of a tracked face) and `refine`, the first pass
 * is only the one window on `box` (kept as `raw`; `multi` is then `raw`) and the second-pass windows are
 * placed from `prior`: one batch instead of two, and 1 + samples windows instead of 2 x samples.
 */
export async function detectLandmarks(rt: Runtime, plate: Image, box: Box, samples: number, refine: boolean, prior?: Point[]): Promise<LandmarkResult> {
  if (prior && refine) {
    const all = await landmarksInWindows(rt, plate, [boxWindow(box), ...refineWindows(prior, samples)]);
    return { raw: all[0], multi: all[0], refined: meanLandmarks(all.slice(1)) };
  }
  const first = await landmarksInWindows(rt, plate, perturbed(boxWindow(box), Math.max(1, samples)));
  const raw = first[0];
  const multi = meanLandmarks(first);
  if (!refine) return { raw, multi, refined: multi };
  const second = await landmarksInWindows(rt, plate, refineWindows(multi, samples));
  return { raw, multi, refined: meanLandmarks(second) };
}

/** The detector box expressed as a window in template units (used to measure REFINE_WINDOW). */
export function boxInTemplate(box: Box, landmarks: Point[]): { cx: number; cy: number; side: number } {
  const m = umeyama(landmarks.slice(TEMPLATE_FIRST), MEAN_FACE);
  const [x, y, w, h] = box;
  const [c] = transformPoints(m, [[x + w / 2, y + h / 2]]);
  return { cx: c[0], cy: c[1], side: Math.max(w, h) * Math.hypot(m[0], m[3]) };
}
