import { eyeCentres, interOcular, type Point } from '@facecomb/align';

/** 1 for the pixels of a w x h grid whose centre lies inside the polygon (even-odd rule). */
export function rasterise(poly: Point[], w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h);
  let y0 = h, y1 = -1;
  for (const [, y] of poly) { y0 = Math.min(y0, Math.floor(y)); y1 = Math.max(y1, Math.ceil(y)); }
  for (let y = Math.max(0, y0); y <= Math.min(h - 1, y1); y++) {
    const xs: number[] = [];
    for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      const [xi, yi] = poly[i], [xj, yj] = poly[j];
      if ((yi > y) !== (yj > y)) xs.push(xi + ((y - yi) / (yj - yi)) * (xj - xi));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      for (let x = Math.max(0, Math.ceil(xs[k])); x <= Math.min(w - 1, Math.floor(xs[k + 1])); x++) out[y * w + x] = 1;
    }
  }
  return out;
}

const scaleAbout = (pts: Point[], k: number): Point[] => {
  const cx = pts.reduce((s, p) => s + p[0], 0) / pts.length, cy = pts.reduce((s, p) => s + p[1], 0) / pts.length;
  return pts.map(([x, y]) => [cx + k * (x - cx), cy + k * (y - cy)]);
};

/** The mouth: the outer lip contour (points 48-59) grown by 15 % about its centre, so teeth and lip edges count. */
export function mouthRegion(l: Point[]): Point[] {
  return scaleAbout(l.slice(48, 60), 1.15);
}

/**
 * Eyes and forehead: from the lower eyelids (36, 41, 40, 39 | 42, 47, 46, 45) up to the brows (26..17)
 * raised by 0.5 inter-ocular distances perpendicular to the eye line: crow's feet, lids, brows and the
 * lower forehead, where wrinkles show.
 */
export function eyesRegion(l: Point[]): Point[] {
  const [a, b] = eyeCentres(l);
  const io = interOcular(l);
  const ux = (b[0] - a[0]) / io, uy = (b[1] - a[1]) / io;
  // "up" is perpendicular to the eye line, towards the brows (y grows downwards)
  const up: Point = [uy, -ux];
  const lower = [36, 41, 40, 39, 42, 47, 46, 45].map((i) => l[i]);
  const upper = [26, 25, 24, 23, 22, 21, 20, 19, 18, 17].map((i): Point => [l[i][0] + 0.5 * io * up[0], l[i][1] + 0.5 * io * up[1]]);
  return [...lower, ...upper];
}
