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
 * the correction h = f − face, solved for all channels in one pass (each channel its own recurrence) by
 * conjugate gradients with a modified incomplete Cholesky (MIC(0)) preconditioner, in double precision,
 * starting from the solution of the same problem at
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

  // all channels at once, interleaved (x[i·c + k]): one pass over the matrix serves every channel, and the
  // channels' independent recurrences in the triangular solves overlap
  const N = n * c;
  const b = pool.d(tag + 'b', N), x = pool.d(tag + 'x', N), r = pool.d(tag + 'r', N), z = pool.d(tag + 'z', N), s = pool.d(tag + 's', N), q = pool.d(tag + 'q', N);
  const hField = pool.f(tag + 'h', w * h * c);
  const offs = [-1, 1, -w, w];

  // rhs: Σ_q (1 − m̄_pq)(D_p − D_q) + Σ_{q ∉ Ω} D_q, with D = plate − face, m̄_pq = max(m_p, m_q)
  for (let ch = 0; ch < c; ch++) {
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
      b[i * c + ch] = acc;
    }
  }
  if (start) for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) x[i * c + ch] = start[pix[i] * c + ch];
  else x.fill(0);
  const { iterations, residual } = pcg(n, c, diag, L, U, R, D, precon, b, x, r, z, s, q, tol, maxIt);
  for (let p = 0; p < w * h; p++) {
    const i = idx[p];
    for (let ch = 0; ch < c; ch++) hField[p * c + ch] = i >= 0 ? x[i * c + ch] : pd[p * c + ch] - fd[p * c + ch];
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

/**
 * Preconditioned conjugate gradients on `c` interleaved right-hand sides at once (vectors of n·c, element
 * i·c + k for channel k). Each channel runs its own recurrence (its own α, β) exactly as if solved alone;
 * a channel that has converged stops moving (α = 0) while the others go on.
 */
function pcg(
  n: number, c: number, diag: Float64Array, L: Int32Array, U: Int32Array, R: Int32Array, D: Int32Array, precon: Float64Array,
  b: Float64Array, x: Float64Array, r: Float64Array, z: Float64Array, s: Float64Array, q: Float64Array, tol: number, maxIt: number,
): { iterations: number[]; residual: number[] } {
  const bnorm = new Float64Array(c), rnorm = new Float64Array(c), rz = new Float64Array(c), acc = new Float64Array(c);
  const alpha = new Float64Array(c), beta = new Float64Array(c);
  const iterations = new Array<number>(c).fill(0), residual = new Array<number>(c).fill(0);
  const active = new Array<boolean>(c).fill(true);
  // r = b − A x for the starting x
  for (let i = 0; i < n; i++) {
    const l = L[i] * c, u = U[i] * c, rr = R[i] * c, d = D[i] * c, di = diag[i], o = i * c;
    for (let k = 0; k < c; k++) {
      let v = di * x[o + k];
      if (l >= 0) v -= x[l + k];
      if (u >= 0) v -= x[u + k];
      if (rr >= 0) v -= x[rr + k];
      if (d >= 0) v -= x[d + k];
      const bi = b[o + k], ri = bi - v;
      r[o + k] = ri;
      bnorm[k] += bi * bi;
      rnorm[k] += ri * ri;
    }
  }
  let live = 0;
  for (let k = 0; k < c; k++) {
    bnorm[k] = Math.sqrt(bnorm[k]);
    if (bnorm[k] === 0) {
      for (let i = 0; i < n; i++) x[i * c + k] = 0;
      active[k] = false;
    } else if (Math.sqrt(rnorm[k]) <= tol * bnorm[k]) {
      residual[k] = Math.sqrt(rnorm[k]) / bnorm[k];
      active[k] = false;
    } else {
      residual[k] = 1;
      live++;
    }
  }
  if (live === 0) return { iterations, residual };
  applyPrecon(n, c, L, U, R, D, precon, r, q, z);
  s.set(z);
  dots(r, z, n, c, rz);
  let it = 0;
  while (it < maxIt) {
    // q = A s, and s·q
    acc.fill(0);
    if (c === 3) matvec3(n, diag, L, U, R, D, s, q, acc);
    else for (let i = 0; i < n; i++) {
      const l = L[i] * c, u = U[i] * c, rr = R[i] * c, d = D[i] * c, di = diag[i], o = i * c;
      for (let k = 0; k < c; k++) {
        const si = s[o + k];
        let v = di * si;
        if (l >= 0) v -= s[l + k];
        if (u >= 0) v -= s[u + k];
        if (rr >= 0) v -= s[rr + k];
        if (d >= 0) v -= s[d + k];
        q[o + k] = v;
        acc[k] += si * v;
      }
    }
    for (let k = 0; k < c; k++) alpha[k] = active[k] ? rz[k] / acc[k] : 0;
    acc.fill(0);
    if (c === 3) {
      const a0 = alpha[0], a1 = alpha[1], a2 = alpha[2];
      let e0 = 0, e1 = 0, e2 = 0;
      for (let o = 0; o < 3 * n; o += 3) {
        x[o] += a0 * s[o]; x[o + 1] += a1 * s[o + 1]; x[o + 2] += a2 * s[o + 2];
        const r0 = r[o] - a0 * q[o], r1 = r[o + 1] - a1 * q[o + 1], r2 = r[o + 2] - a2 * q[o + 2];
        r[o] = r0; r[o + 1] = r1; r[o + 2] = r2;
        e0 += r0 * r0; e1 += r1 * r1; e2 += r2 * r2;
      }
      acc[0] = e0; acc[1] = e1; acc[2] = e2;
    } else for (let o = 0; o < n * c; o += c) {
      for (let k = 0; k < c; k++) {
        const a = alpha[k];
        x[o + k] += a * s[o + k];
        const ri = r[o + k] - a * q[o + k];
        r[o + k] = ri;
        acc[k] += ri * ri;
      }
    }
    it++;
    for (let k = 0; k < c; k++) {
      if (!active[k]) continue;
      iterations[k] = it;
      residual[k] = Math.sqrt(acc[k]) / bnorm[k];
      if (residual[k] <= tol) { active[k] = false; live--; }
    }
    if (live === 0) break;
    applyPrecon(n, c, L, U, R, D, precon, r, q, z);
    dots(r, z, n, c, acc);
    for (let k = 0; k < c; k++) {
      beta[k] = active[k] ? acc[k] / rz[k] : 0;
      rz[k] = acc[k];
    }
    if (c === 3) {
      const b0 = beta[0], b1 = beta[1], b2 = beta[2];
      for (let o = 0; o < 3 * n; o += 3) {
        s[o] = z[o] + b0 * s[o]; s[o + 1] = z[o + 1] + b1 * s[o + 1]; s[o + 2] = z[o + 2] + b2 * s[o + 2];
      }
    } else for (let o = 0; o < n * c; o += c) for (let k = 0; k < c; k++) s[o + k] = z[o + k] + beta[k] * s[o + k];
  }
  return { iterations, residual };
}

/** out[k] = Σ_i a[i·c + k] · b[i·c + k]. */
function dots(a: Float64Array, b: Float64Array, n: number, c: number, out: Float64Array): void {
  out.fill(0);
  if (c === 3) {
    let e0 = 0, e1 = 0, e2 = 0;
    for (let o = 0; o < 3 * n; o += 3) { e0 += a[o] * b[o]; e1 += a[o + 1] * b[o + 1]; e2 += a[o + 2] * b[o + 2]; }
    out[0] = e0; out[1] = e1; out[2] = e2;
    return;
  }
  for (let o = 0; o < n * c; o += c) for (let k = 0; k < c; k++) out[k] += a[o + k] * b[o + k];
}

/** z = (L Lᵀ)⁻¹ r for the MIC(0) factor, every channel; `t` is scratch. */
function applyPrecon(n: number, c: number, L: Int32Array, U: Int32Array, R: Int32Array, D: Int32Array, precon: Float64Array, r: Float64Array, t: Float64Array, z: Float64Array): void {
  if (c === 3) {
    applyPrecon3(n, L, U, R, D, precon, r, t, z);
    return;
  }
  for (let i = 0; i < n; i++) {
    const l = L[i], u = U[i], o = i * c, pi = precon[i];
    const pl = l >= 0 ? precon[l] : 0, pu = u >= 0 ? precon[u] : 0;
    for (let k = 0; k < c; k++) {
      let v = r[o + k];
      if (l >= 0) v += pl * t[l * c + k];
      if (u >= 0) v += pu * t[u * c + k];
      t[o + k] = v * pi;
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    const rr = R[i], d = D[i], o = i * c, pi = precon[i];
    for (let k = 0; k < c; k++) {
      let v = t[o + k];
      if (rr >= 0) v += pi * z[rr * c + k];
      if (d >= 0) v += pi * z[d * c + k];
      z[o + k] = v * pi;
    }
  }
}

/** `applyPrecon` for 3 channels, unrolled. */
function applyPrecon3(n: number, L: Int32Array, U: Int32Array, R: Int32Array, D: Int32Array, precon: Float64Array, r: Float64Array, t: Float64Array, z: Float64Array): void {
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const l = L[i], u = U[i], pi = precon[i];
    let v0 = r[o], v1 = r[o + 1], v2 = r[o + 2];
    if (l >= 0) { const pl = precon[l], j = 3 * l; v0 += pl * t[j]; v1 += pl * t[j + 1]; v2 += pl * t[j + 2]; }
    if (u >= 0) { const pu = precon[u], j = 3 * u; v0 += pu * t[j]; v1 += pu * t[j + 1]; v2 += pu * t[j + 2]; }
    t[o] = v0 * pi; t[o + 1] = v1 * pi; t[o + 2] = v2 * pi;
  }
  for (let i = n - 1, o = 3 * (n - 1); i >= 0; i--, o -= 3) {
    const rr = R[i], d = D[i], pi = precon[i];
    let v0 = t[o], v1 = t[o + 1], v2 = t[o + 2];
    if (rr >= 0) { const j = 3 * rr; v0 += pi * z[j]; v1 += pi * z[j + 1]; v2 += pi * z[j + 2]; }
    if (d >= 0) { const j = 3 * d; v0 += pi * z[j]; v1 += pi * z[j + 1]; v2 += pi * z[j + 2]; }
    z[o] = v0 * pi; z[o + 1] = v1 * pi; z[o + 2] = v2 * pi;
  }
}

/** q = A s for 3 channels, and acc[k] = Σ s·q per channel. */
function matvec3(n: number, diag: Float64Array, L: Int32Array, U: Int32Array, R: Int32Array, D: Int32Array, s: Float64Array, q: Float64Array, acc: Float64Array): void {
  let e0 = 0, e1 = 0, e2 = 0;
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const l = L[i], u = U[i], rr = R[i], d = D[i], di = diag[i];
    const s0 = s[o], s1 = s[o + 1], s2 = s[o + 2];
    let v0 = di * s0, v1 = di * s1, v2 = di * s2;
    if (l >= 0) { const j = 3 * l; v0 -= s[j]; v1 -= s[j + 1]; v2 -= s[j + 2]; }
    if (u >= 0) { const j = 3 * u; v0 -= s[j]; v1 -= s[j + 1]; v2 -= s[j + 2]; }
    if (rr >= 0) { const j = 3 * rr; v0 -= s[j]; v1 -= s[j + 1]; v2 -= s[j + 2]; }
    if (d >= 0) { const j = 3 * d; v0 -= s[j]; v1 -= s[j + 1]; v2 -= s[j + 2]; }
    q[o] = v0; q[o + 1] = v1; q[o + 2] = v2;
    e0 += s0 * v0; e1 += s1 * v1; e2 += s2 * v2;
  }
  acc[0] = e0; acc[1] = e1; acc[2] = e2;
}
