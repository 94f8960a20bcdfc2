import type { Image } from '@facecomb/image';
import { BufferPool } from './pool.js';

export interface PoissonOptions {
  /** Stop when ‖residual‖₂ ≤ tolerance · ‖rhs‖₂ (default 1e-6). */
  tolerance?: number;
  /** Iteration cap per channel (default 2000). */
  maxIterations?: number;
  pool?: BufferPool;
}

export interface PoissonResult {
  image: Image;
  /** Number of unknowns (mask pixels). */
  unknowns: number;
  /** CG iterations per channel. */
  iterations: number[];
  /** Final relative residual per channel. */
  residual: number[];
}

/**
 * Gradient-domain (seamless) cloning of `face` into `plate` on the pixels where `mask` > 0.
 *
 * Inside the region Ω the result f solves the discrete Poisson equation Δf = div v with f = plate on the
 * pixels around Ω (Dirichlet); v mixes the gradients, v = m̄ ∇face + (1 − m̄) ∇plate with m̄ the larger mask value of
 * each pixel edge (so with a binary mask every edge of Ω takes the face's gradient, the classic cloning), so a feathered mask hands over from the face's gradients to the plate's. The unknown is
 * the correction h = f − face, solved per channel by conjugate gradients with a modified incomplete
 * Cholesky (MIC(0)) preconditioner, in double precision, starting from the solution of the same problem at
 * half resolution (recursively: nested iteration), so most of the smooth correction is there before CG starts.
 * Pixels outside Ω are the plate's, untouched.
 * Image borders are Neumann (no flux), so a face cut by the frame edge still solves.
 */
export function poissonBlend(plate: Image, face: Image, mask: Image, opts: PoissonOptions = {}): PoissonResult {
  const { width: w, height: h, channels: c } = plate;
  if (face.width !== w || face.height !== h || face.channels !== c) throw new Error('poisson: face and plate differ in size or channels');
  if (mask.width !== w || mask.height !== h || mask.channels !== 1) throw new Error('poisson: mask must be 1-channel, plate-sized');
  const pool = opts.pool ?? new BufferPool();
  const out = new Float32Array(plate.data);
  const solved = solve(plate.data, face.data, mask.data, w, h, c, opts.tolerance ?? 1e-6, opts.maxIterations ?? 2000, pool, 0);
  if (!solved) return { image: { width: w, height: h, channels: c, data: out }, unknowns: 0, iterations: [], residual: [] };
  const { hField, n, iterations, residual } = solved;
  const md = mask.data, fd = face.data;
  for (let p = 0; p < w * h; p++) {
    if (md[p] <= 0) continue;
    for (let k = 0; k < c; k++) out[p * c + k] = fd[p * c + k] + hField[p * c + k];
  }
  return { image: { width: w, height: h, channels: c, data: out }, unknowns: n, iterations, residual };
}

/** Regions smaller than this are solved directly; larger ones start from the solution at half resolution. */
const NESTED_MIN = 4096;

/**
 * Solves for the correction field h (w x h x c; h = plate − face outside Ω) on one grid. Large regions first
 * solve the same problem on a 2x2-averaged grid and start from its (bilinearly upsampled) solution: the
 * correction is smooth, so the fine solve only has the fine-scale error left (nested iteration).
 */
function solve(
  pd: Float32Array, fd: Float32Array, md: Float32Array, w: number, h: number, c: number, tol: number, maxIt: number, pool: BufferPool, depth: number,
): { hField: Float32Array; n: number; iterations: number[]; residual: number[] } | null {
  const tag = `ps${depth}.`;
  // number the unknowns in raster order
  const idx = pool.i(tag + 'idx', w * h);
  let n = 0;
  for (let p = 0; p < w * h; p++) idx[p] = md[p] > 0 ? n++ : -1;
  if (n === 0) return null;

  // the coarse solution as a starting point
  let start: Float32Array | null = null;
  if (n >= NESTED_MIN && w >= 16 && h >= 16) {
    const w2 = (w + 1) >> 1, h2 = (h + 1) >> 1;
    const pc = pool.f(tag + 'cP', w2 * h2 * c), fc = pool.f(tag + 'cF', w2 * h2 * c), mc = pool.f(tag + 'cM', w2 * h2);
    downsample(pd, w, h, c, pc);
    downsample(fd, w, h, c, fc);
    downsample(md, w, h, 1, mc);
    const coarse = solve(pc, fc, mc, w2, h2, c, tol, maxIt, pool, depth + 1);
    if (coarse) {
      start = pool.f(tag + 'start', w * h * c);
      upsample(coarse.hField, w2, h2, c, w, h, start);
    }
  }

  const pix = pool.i(tag + 'pix', n);
  const L = pool.i(tag + 'L', n), U = pool.i(tag + 'U', n), R = pool.i(tag + 'R', n), D = pool.i(tag + 'D', n);
  const diag = pool.d(tag + 'diag', n);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const i = idx[p];
      if (i < 0) continue;
      pix[i] = p;
      L[i] = x > 0 ? idx[p - 1] : -1;
      R[i] = x < w - 1 ? idx[p + 1] : -1;
      U[i] = y > 0 ? idx[p - w] : -1;
      D[i] = y < h - 1 ? idx[p + w] : -1;
      diag[i] = (x > 0 ? 1 : 0) + (x < w - 1 ? 1 : 0) + (y > 0 ? 1 : 0) + (y < h - 1 ? 1 : 0);
    }
  }

  // MIC(0) preconditioner (Bridson, "Fluid Simulation for Computer Graphics", 2nd ed., 4.3.4)
  const precon = pool.d(tag + 'precon', n);
  const tau = 0.97, sigma = 0.25;
  for (let i = 0; i < n; i++) {
    let e = diag[i];
    const l = L[i], u = U[i];
    if (l >= 0) {
      const pl = precon[l];
      e -= pl * pl * (1 + (D[l] >= 0 ? tau : 0));
    }
    if (u >= 0) {
      const pu = precon[u];
      e -= pu * pu * (1 + (R[u] >= 0 ? tau : 0));
    }
    if (e < sigma * diag[i]) e = diag[i];
    precon[i] = 1 / Math.sqrt(e);
  }

  const b = pool.d(tag + 'b', n), x = pool.d(tag + 'x', n), r = pool.d(tag + 'r', n), z = pool.d(tag + 'z', n), s = pool.d(tag + 's', n), q = pool.d(tag + 'q', n);
  const hField = pool.f(tag + 'h', w * h * c);
  const iterations: number[] = [];
  const residual: number[] = [];
  const offs = [-1, 1, -w, w];

  for (let ch = 0; ch < c; ch++) {
    // rhs: Σ_q (1 − m̄_pq)(D_p − D_q) + Σ_{q ∉ Ω} D_q, with D = plate − face, m̄_pq = max(m_p, m_q)
    for (let i = 0; i < n; i++) {
      const p = pix[i];
      const px = p % w, py = (p - px) / w;
      const Dp = pd[p * c + ch] - fd[p * c + ch];
      const mp = md[p];
      let acc = 0;
      for (let k = 0; k < 4; k++) {
        if ((k === 0 && px === 0) || (k === 1 && px === w - 1) || (k === 2 && py === 0) || (k === 3 && py === h - 1)) continue;
        const qp = p + offs[k];
        const Dq = pd[qp * c + ch] - fd[qp * c + ch];
        const mq = md[qp];
        const mbar = mq > mp ? mq : mp; // the face's gradient on every edge of Ω, as far as the mask reaches
        acc += (1 - (mbar > 1 ? 1 : mbar)) * (Dp - Dq);
        if (idx[qp] < 0) acc += Dq;
      }
      b[i] = acc;
    }
    if (start) for (let i = 0; i < n; i++) x[i] = start[pix[i] * c + ch];
    else x.fill(0);
    const res = pcg(n, diag, L, U, R, D, precon, b, x, r, z, s, q, tol, maxIt);
    iterations.push(res.iterations);
    residual.push(res.residual);
    for (let p = 0; p < w * h; p++) {
      const i = idx[p];
      hField[p * c + ch] = i >= 0 ? x[i] : pd[p * c + ch] - fd[p * c + ch];
    }
  }
  return { hField, n, iterations, residual };
}

/** 2x2 box average (odd edges replicate): w x h -> ceil(w/2) x ceil(h/2). */
function downsample(src: Float32Array, w: number, h: number, c: number, dst: Float32Array): void {
  const w2 = (w + 1) >> 1, h2 = (h + 1) >> 1;
  for (let y = 0; y < h2; y++) {
    const y0 = 2 * y, y1 = Math.min(h - 1, 2 * y + 1);
    for (let x = 0; x < w2; x++) {
      const x0 = 2 * x, x1 = Math.min(w - 1, 2 * x + 1);
      for (let k = 0; k < c; k++) {
        dst[(y * w2 + x) * c + k] = 0.25 * (src[(y0 * w + x0) * c + k] + src[(y0 * w + x1) * c + k] + src[(y1 * w + x0) * c + k] + src[(y1 * w + x1) * c + k]);
      }
    }
  }
}

/** Bilinear upsampling matching `downsample`'s sample positions (coarse pixel i sits at fine 2i + 0.5). */
function upsample(src: Float32Array, w2: number, h2: number, c: number, w: number, h: number, dst: Float32Array): void {
  for (let y = 0; y < h; y++) {
    let fy = (y - 0.5) / 2;
    fy = fy < 0 ? 0 : fy > h2 - 1 ? h2 - 1 : fy;
    const y0 = Math.floor(fy), y1 = Math.min(h2 - 1, y0 + 1), ty = fy - y0;
    for (let x = 0; x < w; x++) {
      let fx = (x - 0.5) / 2;
      fx = fx < 0 ? 0 : fx > w2 - 1 ? w2 - 1 : fx;
      const x0 = Math.floor(fx), x1 = Math.min(w2 - 1, x0 + 1), tx = fx - x0;
      for (let k = 0; k < c; k++) {
        const a = src[(y0 * w2 + x0) * c + k] * (1 - tx) + src[(y0 * w2 + x1) * c + k] * tx;
        const b = src[(y1 * w2 + x0) * c + k] * (1 - tx) + src[(y1 * w2 + x1) * c + k] * tx;
        dst[(y * w + x) * c + k] = a * (1 - ty) + b * ty;
      }
    }
  }
}

function pcg(
  n: number, diag: Float64Array, L: Int32Array, U: Int32Array, R: Int32Array, D: Int32Array, precon: Float64Array,
  b: Float64Array, x: Float64Array, r: Float64Array, z: Float64Array, s: Float64Array, q: Float64Array, tol: number, maxIt: number,
): { iterations: number; residual: number } {
  // r = b − A x for the starting x
  let bnorm = 0, rnorm = 0;
  for (let i = 0; i < n; i++) {
    let v = diag[i] * x[i];
    const l = L[i], u = U[i], rr = R[i], d = D[i];
    if (l >= 0) v -= x[l];
    if (u >= 0) v -= x[u];
    if (rr >= 0) v -= x[rr];
    if (d >= 0) v -= x[d];
    r[i] = b[i] - v;
    bnorm += b[i] * b[i];
    rnorm += r[i] * r[i];
  }
  bnorm = Math.sqrt(bnorm);
  if (bnorm === 0) {
    x.fill(0);
    return { iterations: 0, residual: 0 };
  }
  if (Math.sqrt(rnorm) <= tol * bnorm) return { iterations: 0, residual: Math.sqrt(rnorm) / bnorm };
  applyPrecon(n, L, U, R, D, precon, r, q, z);
  s.set(z);
  let rz = 0;
  for (let i = 0; i < n; i++) rz += r[i] * z[i];
  let it = 0;
  let rel = 1;
  while (it < maxIt) {
    // q = A s
    for (let i = 0; i < n; i++) {
      let v = diag[i] * s[i];
      const l = L[i], u = U[i], rr = R[i], d = D[i];
      if (l >= 0) v -= s[l];
      if (u >= 0) v -= s[u];
      if (rr >= 0) v -= s[rr];
      if (d >= 0) v -= s[d];
      q[i] = v;
    }
    let sq = 0;
    for (let i = 0; i < n; i++) sq += s[i] * q[i];
    const alpha = rz / sq;
    let rr2 = 0;
    for (let i = 0; i < n; i++) {
      x[i] += alpha * s[i];
      const ri = r[i] - alpha * q[i];
      r[i] = ri;
      rr2 += ri * ri;
    }
    it++;
    rel = Math.sqrt(rr2) / bnorm;
    if (rel <= tol) break;
    applyPrecon(n, L, U, R, D, precon, r, q, z);
    let rzNew = 0;
    for (let i = 0; i < n; i++) rzNew += r[i] * z[i];
    const beta = rzNew / rz;
    rz = rzNew;
    for (let i = 0; i < n; i++) s[i] = z[i] + beta * s[i];
  }
  return { iterations: it, residual: rel };
}

/** z = (L Lᵀ)⁻¹ r for the MIC(0) factor; `t` is scratch. */
function applyPrecon(n: number, L: Int32Array, U: Int32Array, R: Int32Array, D: Int32Array, precon: Float64Array, r: Float64Array, t: Float64Array, z: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let v = r[i];
    const l = L[i], u = U[i];
    if (l >= 0) v += precon[l] * t[l];
    if (u >= 0) v += precon[u] * t[u];
    t[i] = v * precon[i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let v = t[i];
    const rr = R[i], d = D[i];
    if (rr >= 0) v += precon[i] * z[rr];
    if (d >= 0) v += precon[i] * z[d];
    z[i] = v * precon[i];
  }
}
