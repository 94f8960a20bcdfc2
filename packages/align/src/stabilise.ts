import { MEAN_FACE, TEMPLATE_FIRST, interOcular, type Point } from './template.js';
import { umeyama, transformPoints, decomposeSimilarity, similarityFrom } from './umeyama.js';
import { invertAffine } from '@facecomb/image';

/**
 * One-euro filter (Casiez, Roussel, Vogel, CHI 2012) on a vector of values: a low-pass whose cutoff rises
 * with the (smoothed) speed, so it removes jitter at rest and follows fast motion with little lag.
 * `groups` lets several coordinates share one speed (x and y of one point).
 */
export class OneEuro {
  private prev: Float64Array | null = null;
  private dPrev: Float64Array | null = null;
  private tPrev = 0;
  constructor(
    readonly minCutoff: number,
    readonly beta: number,
    readonly dCutoff = 1,
    readonly group = 1,
  ) {}

  reset(): void {
    this.prev = null;
    this.dPrev = null;
  }

  private static alpha(cutoff: number, dt: number): number {
    const tau = 1 / (2 * Math.PI * cutoff);
    return 1 / (1 + tau / dt);
  }

  filter(t: number, x: ArrayLike<number>): Float64Array {
    const n = x.length;
    if (!this.prev || !this.dPrev || t <= this.tPrev) {
      this.prev = Float64Array.from(x);
      this.dPrev = new Float64Array(n);
      this.tPrev = t;
      return Float64Array.from(x);
    }
    const dt = t - this.tPrev;
    const ad = OneEuro.alpha(this.dCutoff, dt);
    const out = new Float64Array(n);
    const dx = new Float64Array(n);
    for (let i = 0; i < n; i++) dx[i] = ad * ((x[i] - this.prev[i]) / dt) + (1 - ad) * this.dPrev[i];
    for (let g = 0; g < n; g += this.group) {
      let sp = 0;
      for (let k = g; k < g + this.group; k++) sp += dx[k] * dx[k];
      const a = OneEuro.alpha(this.minCutoff + this.beta * Math.sqrt(sp), dt);
      for (let k = g; k < g + this.group; k++) out[k] = a * x[k] + (1 - a) * this.prev[k];
    }
    this.prev = out;
    this.dPrev = dx;
    this.tPrev = t;
    return Float64Array.from(out);
  }
}

export interface SmoothingParams {
  /** Cutoff at rest, Hz (lower: steadier, more lag on slow drifts). */
  minCutoff: number;
  /** Speed coefficient (higher: less lag on fast motion). Speeds are in inter-ocular distances per second. */
  beta: number;
}

export const DEFAULT_SMOOTHING: SmoothingParams = { minCutoff: 0.7, beta: 1 };
/** The head's placement (position, scale, roll) is followed more tightly than the face's shape. */
const RIGID_FACTOR = { minCutoff: 4, beta: 4 };

/** Mean displacement between two landmark sets, in inter-ocular distances of `b`. */
export function meanShift(a: Point[], b: Point[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.hypot(a[i][0] - b[i][0], a[i][1] - b[i][1]);
  return s / a.length / Math.max(1e-6, interOcular(b));
}

/**
 * Temporal smoothing of a landmark track. Each frame's landmarks are split into the head's similarity
 * transform (position, scale, roll: from Umeyama to the template) and the face's shape in template space;
 * both are one-euro filtered (the shape more strongly: expression changes are slower than head moves and
 * its jitter is what the crop shows), then recombined. A jump larger than `cutThreshold` inter-ocular
 * distances, or a gap in the track, is a cut: the filters restart so nothing lags across it.
 */
export class LandmarkStabiliser {
  private shape: OneEuro;
  private rigid: OneEuro;
  private last: Point[] | null = null;
  private lastFrame = -Infinity;
  private angleRef = 0;
  private unit = 1;

  constructor(
    readonly params: SmoothingParams | false,
    readonly cutThreshold: number,
    readonly fps: number,
  ) {
    const p = params || DEFAULT_SMOOTHING;
    this.shape = new OneEuro(p.minCutoff, p.beta, 1, 2);
    this.rigid = new OneEuro(p.minCutoff * RIGID_FACTOR.minCutoff, p.beta * RIGID_FACTOR.beta, 1, 1);
  }

  reset(): void {
    this.shape.reset();
    this.rigid.reset();
    this.last = null;
  }

  /** Feeds one frame; returns the smoothed landmarks and whether this frame started a new segment. */
  push(frame: number, landmarks: Point[]): { landmarks: Point[]; cut: boolean } {
    const cut = !this.last || frame - this.lastFrame > 2 || meanShift(landmarks, this.last) > this.cutThreshold;
    if (cut) this.reset();
    this.last = landmarks;
    this.lastFrame = frame;
    if (!this.params) return { landmarks, cut };
    const t = frame / this.fps;
    const toT = umeyama(landmarks.slice(TEMPLATE_FIRST), MEAN_FACE);
    const shapePts = transformPoints(toT, landmarks);
    const iodT = interOcular(MEAN_FACE_68);
    const flat = new Float64Array(136);
    shapePts.forEach(([x, y], i) => { flat[2 * i] = x / iodT; flat[2 * i + 1] = y / iodT; });
    const g = decomposeSimilarity(invertAffine(toT)); // template -> plate
    if (cut) {
      this.angleRef = g.angle;
      this.unit = g.scale * iodT; // plate pixels per inter-ocular distance, fixed for the segment
    }
    let ang = g.angle;
    while (ang - this.angleRef > Math.PI) ang -= 2 * Math.PI;
    while (ang - this.angleRef < -Math.PI) ang += 2 * Math.PI;
    this.angleRef = ang;
    const unit = this.unit;
    // translation expressed at the template's centre, so roll and scale changes do not move it
    const [cx, cy] = [0.49 * g.scale * Math.cos(ang) - 0.45 * g.scale * Math.sin(ang) + g.tx, 0.49 * g.scale * Math.sin(ang) + 0.45 * g.scale * Math.cos(ang) + g.ty];
    const r = this.rigid.filter(t, [cx / unit, cy / unit, Math.log(g.scale), ang]);
    const s = this.shape.filter(t, flat);
    const scale = Math.exp(r[2]);
    const a = r[3];
    const fcx = r[0] * unit, fcy = r[1] * unit;
    const tx = fcx - (0.49 * scale * Math.cos(a) - 0.45 * scale * Math.sin(a));
    const ty = fcy - (0.49 * scale * Math.sin(a) + 0.45 * scale * Math.cos(a));
    const back = similarityFrom(scale, a, tx, ty);
    const pts: Point[] = [];
    for (let i = 0; i < 68; i++) pts.push([s[2 * i] * iodT, s[2 * i + 1] * iodT]);
    return { landmarks: transformPoints(back, pts), cut };
  }
}

/** The template placed as 68 points (jaw points unused by the IOD computation: only the eyes matter). */
const MEAN_FACE_68: Point[] = [...Array.from({ length: TEMPLATE_FIRST }, () => [0, 0] as Point), ...MEAN_FACE];
