import type { Affine } from '@facecomb/image';

type Point = [number, number];

/**
 * Least-squares similarity transform (rotation, uniform scale, translation; no reflection) mapping `src`
 * onto `dst` (Umeyama 1991), as a 2x3 matrix. In 2D the SVD reduces to closed form: with centred points,
 * a = sum(x.x' + y.y'), b = sum(x.y' - y.x'); rotation angle atan2(b, a), scale sqrt(a²+b²)/sum|p|².
 */
export function umeyama(src: Point[], dst: Point[], weights?: number[]): Affine {
  const n = src.length;
  if (n !== dst.length || n < 2) throw new Error(`umeyama needs two point sets of equal length >= 2 (got ${n} and ${dst.length})`);
  let sw = 0, mx = 0, my = 0, nx = 0, ny = 0;
  for (let i = 0; i < n; i++) {
    const w = weights ? weights[i] : 1;
    sw += w;
    mx += w * src[i][0]; my += w * src[i][1];
    nx += w * dst[i][0]; ny += w * dst[i][1];
  }
  mx /= sw; my /= sw; nx /= sw; ny /= sw;
  let a = 0, b = 0, v = 0;
  for (let i = 0; i < n; i++) {
    const w = weights ? weights[i] : 1;
    const x = src[i][0] - mx, y = src[i][1] - my;
    const u = dst[i][0] - nx, t = dst[i][1] - ny;
    a += w * (x * u + y * t);
    b += w * (x * t - y * u);
    v += w * (x * x + y * y);
  }
  if (v < 1e-12) throw new Error('umeyama: source points are all the same point');
  const s = Math.hypot(a, b) / v;
  const th = Math.atan2(b, a);
  const c = s * Math.cos(th), d = s * Math.sin(th);
  // [c -d; d c]
  return [c, -d, nx - (c * mx - d * my), d, c, ny - (d * mx + c * my)];
}

/** Applies a 2x3 matrix to every point. */
export function transformPoints(m: Affine, pts: Point[]): Point[] {
  return pts.map(([x, y]) => [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]]);
}

/** Scale, rotation (radians) and translation of a similarity matrix. */
export function decomposeSimilarity(m: Affine): { scale: number; angle: number; tx: number; ty: number } {
  return { scale: Math.hypot(m[0], m[3]), angle: Math.atan2(m[3], m[0]), tx: m[2], ty: m[5] };
}

export function similarityFrom(scale: number, angle: number, tx: number, ty: number): Affine {
  const c = scale * Math.cos(angle), d = scale * Math.sin(angle);
  return [c, -d, tx, d, c, ty];
}
