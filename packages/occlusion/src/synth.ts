/**
 * Synthetic occluders for training the segmenter: hand-, bar-, blob- and glasses-like shapes drawn as soft
 * alpha mattes, filled with texture cut from other frames or photos, composited onto a crop. The matte is known
 * exactly, so the visible-face target is the face mask times (1 - matte).
 */

/** A seeded generator of floats in [0, 1) (splitmix32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const between = (r: Rand, a: number, b: number): number => a + (b - a) * r();

/** Distance from (x, y) to the segment (ax, ay)-(bx, by). */
function segDist(x: number, y: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy || 1)));
  return Math.hypot(x - (ax + t * dx), y - (ay + t * dy));
}

/** A capsule: a segment with a radius; coordinates in [0, 1] crop units. */
interface Capsule { ax: number; ay: number; bx: number; by: number; r: number }

/** A point on the crop's border and the inward direction, so occluders come in from outside like hands do. */
function fromEdge(r: Rand): { x: number; y: number; angle: number } {
  const side = Math.floor(r() * 4);
  const t = between(r, 0.1, 0.9);
  const spread = between(r, -0.6, 0.6);
  if (side === 0) return { x: t, y: 1.05, angle: -Math.PI / 2 + spread }; // bottom, the most common
  if (side === 1) return { x: -0.05, y: t, angle: spread };
  if (side === 2) return { x: 1.05, y: t, angle: Math.PI + spread };
  return { x: t, y: 1.05, angle: -Math.PI / 2 + spread };
}

/** A hand: a palm capsule reaching in from an edge and three to five fingers fanned at its end. */
function hand(r: Rand): Capsule[] {
  const e = fromEdge(r);
  const reach = between(r, 0.3, 0.75);
  const px = e.x + Math.cos(e.angle) * reach;
  const py = e.y + Math.sin(e.angle) * reach;
  const palm = between(r, 0.08, 0.16);
  const out: Capsule[] = [{ ax: e.x, ay: e.y, bx: px, by: py, r: palm }];
  const fingers = 3 + Math.floor(r() * 3);
  for (let i = 0; i < fingers; i++) {
    const a = e.angle + ((i - (fingers - 1) / 2) / fingers) * between(r, 0.6, 1.4);
    const len = between(r, 0.1, 0.25);
    out.push({ ax: px, ay: py, bx: px + Math.cos(a) * len, by: py + Math.sin(a) * len, r: palm * between(r, 0.25, 0.4) });
  }
  return out;
}

/** A bar: a microphone, a pen, a cup edge: one capsule from an edge. */
function bar(r: Rand): Capsule[] {
  const e = fromEdge(r);
  const len = between(r, 0.3, 0.9);
  return [{ ax: e.x, ay: e.y, bx: e.x + Math.cos(e.angle) * len, by: e.y + Math.sin(e.angle) * len, r: between(r, 0.03, 0.12) }];
}

/** Glasses frames: two rings of short capsules around the eyes and a bridge (the lenses stay visible). */
function glasses(r: Rand): Capsule[] {
  const cy = between(r, 0.36, 0.46);
  const dx = between(r, 0.15, 0.2);
  const rx = between(r, 0.1, 0.14);
  const ry = rx * between(r, 0.6, 0.9);
  const w = between(r, 0.008, 0.025);
  const out: Capsule[] = [{ ax: 0.5 - dx + rx, ay: cy, bx: 0.5 + dx - rx, by: cy, r: w }];
  for (const cx of [0.5 - dx, 0.5 + dx]) {
    for (let i = 0; i < 12; i++) {
      const a0 = (i / 12) * 2 * Math.PI;
      const a1 = ((i + 1) / 12) * 2 * Math.PI;
      out.push({ ax: cx + rx * Math.cos(a0), ay: cy + ry * Math.sin(a0), bx: cx + rx * Math.cos(a1), by: cy + ry * Math.sin(a1), r: w });
    }
  }
  return out;
}

/** A blob: an object of irregular outline (star-like polygon of capsules filled by a thick core). */
function blob(r: Rand): Capsule[] {
  const cx = between(r, 0.1, 0.9);
  const cy = between(r, 0.2, 1);
  const rad = between(r, 0.08, 0.22);
  const out: Capsule[] = [];
  for (let i = 0; i < 5; i++) {
    const a = r() * 2 * Math.PI;
    const l = rad * between(r, 0.3, 1.2);
    out.push({ ax: cx, ay: cy, bx: cx + Math.cos(a) * l, by: cy + Math.sin(a) * l, r: rad * between(r, 0.4, 0.8) });
  }
  return out;
}

export const OCCLUDER_SHAPES = { hand, bar, glasses, blob } as const;
export type OccluderShape = keyof typeof OCCLUDER_SHAPES;

/** The soft matte (size x size, [0, 1]) of a random occluder; `soft` is the edge width in pixels. */
export function occluderMatte(r: Rand, size: number, shape?: OccluderShape): Float32Array {
  const names = Object.keys(OCCLUDER_SHAPES) as OccluderShape[];
  const pick = shape ?? (r() < 0.45 ? 'hand' : names[Math.floor(r() * names.length)]);
  const caps = OCCLUDER_SHAPES[pick](r);
  const soft = between(r, 0.5, 2);
  const m = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const u = (x + 0.5) / size;
      const v = (y + 0.5) / size;
      let d = Infinity;
      for (const c of caps) d = Math.min(d, segDist(u, v, c.ax, c.ay, c.bx, c.by) - c.r);
      m[y * size + x] = Math.max(0, Math.min(1, 0.5 - (d * size) / soft));
    }
  }
  return m;
}

/**
 * An occluder's fill: a random window of `source` (RGB, sw x sh) scaled onto size x size, its colour shifted
 * per channel, so skin from another frame makes a hand-like fill and a photo an object-like one.
 */
export function occluderTexture(r: Rand, source: { data: Float32Array; width: number; height: number }, size: number): Float32Array {
  const { data, width: sw, height: sh } = source;
  const win = between(r, 0.25, 0.8) * Math.min(sw, sh);
  const ox = r() * (sw - win);
  const oy = r() * (sh - win);
  const gain = [0, 1, 2].map(() => between(r, 0.7, 1.3));
  const bias = between(r, -0.1, 0.1);
  const out = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const sy = Math.min(sh - 1, Math.floor(oy + ((y + 0.5) / size) * win));
    for (let x = 0; x < size; x++) {
      const sx = Math.min(sw - 1, Math.floor(ox + ((x + 0.5) / size) * win));
      for (let c = 0; c < 3; c++) out[(y * size + x) * 3 + c] = Math.max(0, Math.min(1, data[(sy * sw + sx) * 3 + c] * gain[c] + bias));
    }
  }
  return out;
}

/** Composites `tex` over `img` (RGB, size x size) through `matte`, in place. */
export function composite(img: Float32Array, tex: Float32Array, matte: Float32Array): void {
  for (let i = 0; i < matte.length; i++) {
    const a = matte[i];
    if (a === 0) continue;
    for (let c = 0; c < 3; c++) img[i * 3 + c] = img[i * 3 + c] * (1 - a) + tex[i * 3 + c] * a;
  }
}

/** The visible-face target: the face mask where no occluder covers it. */
export function visibleTarget(face: Float32Array, matte: Float32Array): Float32Array {
  const out = new Float32Array(face.length);
  for (let i = 0; i < face.length; i++) out[i] = face[i] * (1 - matte[i]);
  return out;
}
