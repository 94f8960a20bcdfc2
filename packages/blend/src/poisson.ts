import type { Image } from '@facecomb/image';
import { BufferPool } from './pool.js';

export interface PoissonOptions {
  /** Stop when ‖residual‖₂ ≤ tolerance · ‖rhs‖₂ (default 1e-6). */
  tolerance?: number;
  /** Iteration cap per channel (default 200). */
  maxIterations?: number;
  pool?: BufferPool;
}

export interface PoissonResult {
  image: Image;
  /** Number of unknowns (mask pixels). */
  unknowns: number;
  /** Multigrid-preconditioned CG iterations (one V-cycle each) per channel. */
  iterations: number[];
  /** Final relative residual per channel. */
  residual: number[];
}

/**
 * Gradient-domain (seamless) cloning of `face` into `plate` on the pixels where `mask` > 0.
 *
 * Inside the region Ω the result f solves the discrete Poisson equation Δf = div v with f = plate on the
 * pixels around Ω (Dirichlet); v mixes the gradients, v = m̄ ∇face + (1 − m̄) ∇plate with m̄ the larger mask value
 * of each pixel edge (so with a binary mask every edge of Ω takes the face's gradient, the classic cloning), so a
 * feathered mask hands over from the face's gradients to the plate's.
 *
 * The unknown is the correction membrane h = f − face: with D = plate − face it solves Δh = div((1 − m̄)∇D) in Ω,
 * h = D around Ω. With a binary mask that is the Laplace equation (h harmonic, the plate − face mismatch on the
 * boundary spread smoothly inwards), so it is smooth and multigrid resolves it in a few cycles whatever its size.
 * The solver is conjugate gradients preconditioned by one geometric multigrid V-cycle per iteration (cell-centred
 * 2x coarsening, a coarse pixel in Ω where all of its children are, the 5-point Laplacian rediscretised on every
 * grid with Dirichlet zero outside its Ω; two red-black Gauss-Seidel sweeps forwards before and backwards after the
 * coarse correction, plus extra sweeps on a 3 px band along Ω's edge, where the coarse grids see Ω worst;
 * bilinear prolongation and its transpose as restriction, so the preconditioner is symmetric). It starts from
 * the same problem solved at half resolution (nested iteration) and runs all channels in one pass, each with its
 * own CG recurrence, in double precision (the V-cycle in single).
 * Pixels outside Ω are the plate's, untouched.
 * Image borders are Neumann (no flux), so a face cut by the frame edge still solves.
 */
export function poissonBlend(plate: Image, face: Image, mask: Image, opts: PoissonOptions = {}): PoissonResult {
  const { width: w, height: h, channels: c } = plate;
  if (c !== 3) throw new Error(`poisson: the plate has ${c} channel(s); the solver is written for RGB (the blend stage reads every image as RGB)`);
  if (face.width !== w || face.height !== h || face.channels !== c) throw new Error('poisson: face and plate differ in size or channels');
  if (mask.width !== w || mask.height !== h || mask.channels !== 1) throw new Error('poisson: mask must be 1-channel, plate-sized');
  const pool = opts.pool ?? new BufferPool();
  const out = new Float32Array(plate.data);
  const md = mask.data, fd = face.data, pd = plate.data;
  let n = 0;
  for (let p = 0; p < w * h; p++) if (md[p] > 0) n++;
  if (n === 0) return { image: { width: w, height: h, channels: c, data: out }, unknowns: 0, iterations: [], residual: [] };

  const { x, W, iterations, residual } = solveField(pd, fd, md, w, h, c, opts.tolerance ?? 1e-6, opts.maxIterations ?? 200, pool, 0);
  for (let y = 0; y < h; y++) {
    for (let xx = 0; xx < w; xx++) {
      const p = y * w + xx;
      if (md[p] <= 0) continue;
      const o = ((y + 1) * W + xx + 1) * c;
      for (let k = 0; k < c; k++) out[p * c + k] = fd[p * c + k] + x[o + k];
    }
  }
  return { image: { width: w, height: h, channels: c, data: out }, unknowns: n, iterations, residual };
}

/** Regions smaller than this are solved from zero; larger ones start from the solution at half resolution. */
const NESTED_MIN = 4096;

/**
 * Solves for the correction h on Ω (returned on the framed grid of width W, 0 outside Ω). Large regions first
 * solve the same problem on a 2x2-averaged grid (to a looser tolerance) and start from its bilinearly upsampled
 * solution (nested iteration): the smooth bulk of the correction is there before the fine solve starts.
 */
function solveField(
  pd: Float32Array, fd: Float32Array, md: Float32Array, w: number, h: number, c: number, tol: number, maxIt: number, pool: BufferPool, depth: number,
): { x: Float64Array; W: number; iterations: number[]; residual: number[] } {
  const tag = `pm${depth}.`;
  const levels = buildLevels(md, w, h, c, pool, tag);
  const L0 = levels[0];
  const W = L0.W;
  // rhs: Σ_q (1 − m̄_pq)(D_p − D_q) + Σ_{q ∉ Ω} D_q over the in-image neighbours q, D = plate − face;
  // D and the mask on the framed grid first (mask −1 on the frame: no neighbour there)
  const N = L0.size * c;
  const Df = pool.f(tag + 'D', N, true), mf = pool.f(tag + 'M', L0.size);
  mf.fill(-1);
  for (let y = 0; y < h; y++) {
    for (let x = 0, p = y * w, f = (y + 1) * W + 1; x < w; x++, p++, f++) {
      mf[f] = md[p];
      for (let k = 0; k < c; k++) Df[f * c + k] = pd[p * c + k] - fd[p * c + k];
    }
  }
  const b = pool.d(tag + 'b', N, true);
  const offs = [-1, 1, -W, W];
  for (const list of [L0.red, L0.black]) {
    for (let i = 0; i < list.length; i++) {
      const p = list[i], mp = mf[p], o = p * c;
      for (let j = 0; j < 4; j++) {
        const qp = p + offs[j], mq = mf[qp];
        if (mq < 0) continue; // the image border: no flux
        const mbar = mq > mp ? mq : mp; // the face's gradient on every edge of Ω, as far as the mask reaches
        const g = 1 - (mbar > 1 ? 1 : mbar);
        const outside = mq <= 0 ? 1 : 0, oq = qp * c;
        for (let k = 0; k < c; k++) b[o + k] += g * (Df[o + k] - Df[oq + k]) + outside * Df[oq + k];
      }
    }
  }
  const x = pool.d(tag + 'x', L0.size * c, true);
  const n = L0.red.length + L0.black.length;
  if (n >= NESTED_MIN && w >= 16 && h >= 16) {
    const w2 = (w + 1) >> 1, h2 = (h + 1) >> 1;
    const pc = pool.f(tag + 'cP', w2 * h2 * c), fc = pool.f(tag + 'cF', w2 * h2 * c), mc = pool.f(tag + 'cM', w2 * h2);
    downsample(pd, w, h, c, pc);
    downsample(fd, w, h, c, fc);
    downsample(md, w, h, 1, mc);
    const coarse = solveField(pc, fc, mc, w2, h2, c, Math.max(tol, NESTED_TOL), maxIt, pool, depth + 1);
    // the coarse correction, with D = plate − face outside its Ω (the boundary values it interpolates towards)
    const hc = pool.f(tag + 'cH', w2 * h2 * c), hf = pool.f(tag + 'start', w * h * c);
    for (let y = 0; y < h2; y++) for (let xx = 0; xx < w2; xx++) {
      const p = y * w2 + xx, o = ((y + 1) * coarse.W + xx + 1) * c;
      for (let k = 0; k < c; k++) hc[p * c + k] = mc[p] > 0 ? coarse.x[o + k] : pc[p * c + k] - fc[p * c + k];
    }
    upsample(hc, w2, h2, c, w, h, hf);
    for (let y = 0; y < h; y++) {
      for (let xx = 0, q = y * w * c, f = (y + 1) * W + 1; xx < w; xx++, q += c, f++) {
        if (mf[f] > 0) for (let k = 0; k < c; k++) x[f * c + k] = hf[q + k];
      }
    }
  }
  const { iterations, residual } = mgpcg(levels, c, b, x, tol, maxIt, pool, tag);
  return { x, W, iterations, residual };
}

/** The tolerance of the half-resolution solve that gives the starting point. */
const NESTED_TOL = 1e-3;

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
 * One grid of the hierarchy, stored with a one-pixel frame of zeros around it ((w + 2) x (h + 2), index
 * (y + 1)·W + x + 1), so the 5-point stencil needs no edge tests: frame and outside-Ω pixels hold 0.
 */
interface Level {
  w: number; h: number; W: number; size: number;
  /** Ω pixels (framed indices) of each colour, (x + y) even and odd. */
  red: Int32Array; black: Int32Array;
  /** The Ω pixels within BAND px of its edge, each colour: relaxed extra where the coarse grids see Ω worst. */
  bandRed: Int32Array; bandBlack: Int32Array;
  /** 1 / (number of in-image neighbours) per framed pixel (Neumann at the image border). */
  inv: Float64Array;
  diag: Float64Array;
  /** Fine → next coarser grid: for each fine column / row the two coarse ones it interpolates from and their weights. */
  cx0: Int32Array; cx1: Int32Array; wx: Float64Array; cy0: Int32Array; cy1: Int32Array; wy: Float64Array;
  /** Ω membership per framed pixel. */
  inside: Uint8Array;
  /** The V-cycle's vectors, in single precision (a preconditioner needs no more). */
  e: Float32Array; rhs: Float32Array;
}

const COARSEST = 12;
/** Symmetric Gauss-Seidel sweeps (each way) on the coarsest grid, and on every grid (each way) per V-cycle. */
const COARSE_SWEEPS = 24;
const SMOOTH = 2;
/** Width of the band along Ω's edge that gets extra relaxation, and how many extra sweeps (each way). */
const BAND = 3;
const BAND_SWEEPS = 8;

function buildLevels(md: Float32Array, w: number, h: number, c: number, pool: BufferPool, prefix: string): Level[] {
  const levels: Level[] = [];
  let prevInside: Uint8Array | null = null;
  let pw = 0, pWf = 0, ph = 0;
  for (let l = 0; ; l++) {
    const W = w + 2, size = W * (h + 2);
    const tag = `${prefix}${l}.`;
    const ins = new Uint8Array(size);
    if (l === 0) {
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (md[y * w + x] > 0) ins[(y + 1) * W + x + 1] = 1;
    } else {
      const pi = prevInside!;
      for (let y = 0; y < ph; y++) for (let x = 0; x < pw; x++) {
        if (pi[(y + 1) * pWf + x + 1]) ins[((y >> 1) + 1) * W + (x >> 1) + 1]++;
      }
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        const p = (y + 1) * W + x + 1;
        const kids = (2 * x + 1 < pw ? 2 : 1) * (2 * y + 1 < ph ? 2 : 1);
        ins[p] = ins[p] === kids ? 1 : 0;
      }
    }
    let nr = 0, nb = 0;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (ins[(y + 1) * W + x + 1]) { if (((x + y) & 1) === 0) nr++; else nb++; }
    const red = pool.i(tag + 'red', nr), black = pool.i(tag + 'black', nb);
    const inv = pool.d(tag + 'inv', size, true), diag = pool.d(tag + 'diag', size, true);
    nr = 0; nb = 0;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const p = (y + 1) * W + x + 1;
      if (!ins[p]) continue;
      if (((x + y) & 1) === 0) red[nr++] = p; else black[nb++] = p;
      const d = (x > 0 ? 1 : 0) + (x < w - 1 ? 1 : 0) + (y > 0 ? 1 : 0) + (y < h - 1 ? 1 : 0);
      diag[p] = d;
      inv[p] = d > 0 ? 1 / d : 0;
    }
    const near = new Uint8Array(size);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const p = (y + 1) * W + x + 1;
      // the Dirichlet pixels next to Ω
      if (ins[p] || !(ins[p - 1] || ins[p + 1] || ins[p - W] || ins[p + W])) continue;
      for (let dy = -BAND; dy <= BAND; dy++) for (let dx = -BAND; dx <= BAND; dx++) {
        const xx = x + dx, yy = y + dy;
        if (xx >= 0 && yy >= 0 && xx < w && yy < h) near[(yy + 1) * W + xx + 1] = 1;
      }
    }
    const br: number[] = [], bb: number[] = [];
    for (const p of red) if (near[p]) br.push(p);
    for (const p of black) if (near[p]) bb.push(p);
    const lev: Level = {
      w, h, W, size, red, black, bandRed: Int32Array.from(br), bandBlack: Int32Array.from(bb), inv, diag, inside: ins,
      cx0: new Int32Array(0), cx1: new Int32Array(0), wx: new Float64Array(0), cy0: new Int32Array(0), cy1: new Int32Array(0), wy: new Float64Array(0),
      e: pool.f(tag + 'e', size * c), rhs: pool.f(tag + 'rhs', size * c),
    };
    levels.push(lev);
    if (Math.min(w, h) <= COARSEST || nr + nb <= 64) break;
    const w2 = (w + 1) >> 1, h2 = (h + 1) >> 1;
    [lev.cx0, lev.cx1, lev.wx] = interp(w, w2);
    [lev.cy0, lev.cy1, lev.wy] = interp(h, h2);
    prevInside = ins; pw = w; ph = h; pWf = W;
    w = w2; h = h2;
  }
  return levels;
}

/**
 * Cell-centred bilinear interpolation weights from n2 coarse to n fine samples (coarse i at fine 2i + 0.5):
 * fine j takes (1 − t)·coarse a + t·coarse b, clamped at the ends.
 */
function interp(n: number, n2: number): [Int32Array, Int32Array, Float64Array] {
  const a = new Int32Array(n), b = new Int32Array(n), t = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let f = (j - 0.5) / 2;
    f = f < 0 ? 0 : f > n2 - 1 ? n2 - 1 : f;
    const i0 = Math.floor(f);
    a[j] = i0; b[j] = Math.min(n2 - 1, i0 + 1); t[j] = f - i0;
  }
  return [a, b, t];
}

/** Gauss-Seidel on the pixels `list`: u_p = (rhs_p + Σ neighbours) / diag_p, the three channels. */
function sweep(list: Int32Array, W: number, inv: Float64Array, rhs: Float32Array, u: Float32Array): void {
  const W3 = 3 * W;
  for (let i = 0; i < list.length; i++) {
    const p = list[i], o = 3 * p, d = inv[p];
    u[o] = (rhs[o] + u[o - 3] + u[o + 3] + u[o - W3] + u[o + W3]) * d;
    u[o + 1] = (rhs[o + 1] + u[o - 2] + u[o + 4] + u[o + 1 - W3] + u[o + 1 + W3]) * d;
    u[o + 2] = (rhs[o + 2] + u[o - 1] + u[o + 5] + u[o + 2 - W3] + u[o + 2 + W3]) * d;
  }
}

/** e ≈ A⁻¹ rhs on level l by one V-cycle from e = 0 (a fixed symmetric linear map of rhs). */
function vcycle(levels: Level[], l: number, c: number): void {
  const lev = levels[l];
  const { e, rhs, W, inv, red, black } = lev;
  e.fill(0);
  if (l === levels.length - 1) {
    for (let s = 0; s < COARSE_SWEEPS; s++) { sweep(red, W, inv, rhs, e); sweep(black, W, inv, rhs, e); }
    for (let s = 0; s < COARSE_SWEEPS; s++) { sweep(black, W, inv, rhs, e); sweep(red, W, inv, rhs, e); }
    return;
  }
  for (let s = 0; s < SMOOTH; s++) { sweep(red, W, inv, rhs, e); sweep(black, W, inv, rhs, e); }
  for (let s = 0; s < BAND_SWEEPS; s++) { sweep(lev.bandRed, W, inv, rhs, e); sweep(lev.bandBlack, W, inv, rhs, e); }
  const co = levels[l + 1];
  restrict(lev, co, c);
  // coarse cells outside the coarse Ω got some weight: they are not unknowns there, and stay 0 in e
  vcycle(levels, l + 1, c);
  prolongAdd(lev, co, c);
  for (let s = 0; s < BAND_SWEEPS; s++) { sweep(lev.bandBlack, W, inv, rhs, e); sweep(lev.bandRed, W, inv, rhs, e); }
  for (let s = 0; s < SMOOTH; s++) { sweep(black, W, inv, rhs, e); sweep(red, W, inv, rhs, e); }
}

/** Coarse rhs = Pᵀ (fine residual rhs − A e on Ω): the transpose of `prolongAdd`. */
function restrict(lev: Level, co: Level, c: number): void {
  const { W, e, rhs, diag } = lev;
  const Wf = W * c;
  const crhs = co.rhs, Wc = co.W;
  crhs.fill(0);
  const { cx0, cx1, wx, cy0, cy1, wy, w, h, inside } = lev;
  // restriction = transpose of the prolongation below, over the fine pixels of Ω
  for (let y = 0; y < h; y++) {
    const ra = (cy0[y] + 1) * Wc + 1, rb = (cy1[y] + 1) * Wc + 1, ty = wy[y];
    for (let x = 0; x < w; x++) {
      const p = (y + 1) * W + x + 1;
      if (!inside[p]) continue;
      const tx = wx[x], a = cx0[x], b = cx1[x];
      const w00 = (1 - ty) * (1 - tx), w01 = (1 - ty) * tx, w10 = ty * (1 - tx), w11 = ty * tx;
      const q00 = (ra + a) * c, q01 = (ra + b) * c, q10 = (rb + a) * c, q11 = (rb + b) * c, o = p * c;
      const d = diag[p];
      const r0 = rhs[o] - (d * e[o] - e[o - 3] - e[o + 3] - e[o - Wf] - e[o + Wf]);
      const r1 = rhs[o + 1] - (d * e[o + 1] - e[o - 2] - e[o + 4] - e[o + 1 - Wf] - e[o + 1 + Wf]);
      const r2 = rhs[o + 2] - (d * e[o + 2] - e[o - 1] - e[o + 5] - e[o + 2 - Wf] - e[o + 2 + Wf]);
      crhs[q00] += w00 * r0; crhs[q00 + 1] += w00 * r1; crhs[q00 + 2] += w00 * r2;
      crhs[q01] += w01 * r0; crhs[q01 + 1] += w01 * r1; crhs[q01 + 2] += w01 * r2;
      crhs[q10] += w10 * r0; crhs[q10 + 1] += w10 * r1; crhs[q10 + 2] += w10 * r2;
      crhs[q11] += w11 * r0; crhs[q11 + 1] += w11 * r1; crhs[q11 + 2] += w11 * r2;
    }
  }
}

/** Fine e += P (coarse e) on Ω: cell-centred bilinear. */
function prolongAdd(lev: Level, co: Level, c: number): void {
  const { W, e } = lev;
  const Wc = co.W;
  const { cx0, cx1, wx, cy0, cy1, wy, w, h, inside } = lev;
  const ce = co.e;
  for (let y = 0; y < h; y++) {
    const ra = (cy0[y] + 1) * Wc + 1, rb = (cy1[y] + 1) * Wc + 1, ty = wy[y];
    for (let x = 0; x < w; x++) {
      const p = (y + 1) * W + x + 1;
      if (!inside[p]) continue;
      const tx = wx[x], a = cx0[x], b = cx1[x];
      const w00 = (1 - ty) * (1 - tx), w01 = (1 - ty) * tx, w10 = ty * (1 - tx), w11 = ty * tx;
      const q00 = (ra + a) * c, q01 = (ra + b) * c, q10 = (rb + a) * c, q11 = (rb + b) * c, o = p * c;
      e[o] += w00 * ce[q00] + w01 * ce[q01] + w10 * ce[q10] + w11 * ce[q11];
      e[o + 1] += w00 * ce[q00 + 1] + w01 * ce[q01 + 1] + w10 * ce[q10 + 1] + w11 * ce[q11 + 1];
      e[o + 2] += w00 * ce[q00 + 2] + w01 * ce[q01 + 2] + w10 * ce[q10 + 2] + w11 * ce[q11 + 2];
    }
  }
}

/**
 * Conjugate gradients preconditioned by one V-cycle, on `c` interleaved right-hand sides at once (vectors on
 * level 0's framed grid). Each channel runs its own recurrence (its own α, β) exactly as if solved alone; a
 * channel that has converged stops moving (α = 0) while the others go on.
 */
function mgpcg(levels: Level[], c: number, b: Float64Array, x: Float64Array, tol: number, maxIt: number, pool: BufferPool, tag: string): { iterations: number[]; residual: number[] } {
  const lev = levels[0];
  const N = lev.size * c;
  const r = pool.d(tag + 'r', N, true), s = pool.d(tag + 's', N, true), q = pool.d(tag + 'q', N, true);
  const bnorm = new Float64Array(c), rz = new Float64Array(c), acc = new Float64Array(c);
  const alpha = new Float64Array(c), beta = new Float64Array(c);
  const iterations = new Array<number>(c).fill(0), residual = new Array<number>(c).fill(0);
  const active = new Array<boolean>(c).fill(true);
  // every vector is 0 outside Ω (r starts as b, the rest are built from it), so the vector operations run
  // over the whole grid: contiguous, no index lists
  // r = b − A x
  applyA(lev, x, q);
  for (let o = 0; o < N; o++) r[o] = b[o] - q[o];
  dot64(b, b, N, bnorm);
  dot64(r, r, N, acc);
  let live = 0;
  for (let k = 0; k < c; k++) {
    bnorm[k] = Math.sqrt(bnorm[k]);
    if (bnorm[k] === 0) {
      for (let o = k; o < N; o += c) x[o] = 0;
      active[k] = false;
    } else if (Math.sqrt(acc[k]) <= tol * bnorm[k]) {
      residual[k] = Math.sqrt(acc[k]) / bnorm[k];
      active[k] = false;
    } else { residual[k] = Math.sqrt(acc[k]) / bnorm[k]; live++; }
  }
  if (live === 0) return { iterations, residual };
  const z = lev.e;
  lev.rhs.set(r);
  vcycle(levels, 0, c);
  s.set(z);
  dotZ(r, z, N, rz);
  let it = 0;
  while (it < maxIt) {
    // q = A s, and s·q
    applyA(lev, s, q);
    dot64(s, q, N, acc);
    for (let k = 0; k < c; k++) alpha[k] = active[k] ? rz[k] / acc[k] : 0;
    stepXR(x, r, s, q, alpha, N, acc, lev.rhs);
    it++;
    for (let k = 0; k < c; k++) {
      if (!active[k]) continue;
      iterations[k] = it;
      residual[k] = Math.sqrt(acc[k]) / bnorm[k];
      if (residual[k] <= tol) { active[k] = false; live--; }
    }
    if (live === 0) break;
    vcycle(levels, 0, c);
    dotZ(r, z, N, acc);
    for (let k = 0; k < c; k++) {
      beta[k] = active[k] ? acc[k] / rz[k] : 0;
      rz[k] = acc[k];
    }
    stepS(s, z, beta, N);
  }
  return { iterations, residual };
}

/** out[k] = Σ u·v per channel. */
function dot64(u: Float64Array, v: Float64Array, N: number, out: Float64Array): void {
  let e0 = 0, e1 = 0, e2 = 0;
  for (let o = 0; o < N; o += 3) { e0 += u[o] * v[o]; e1 += u[o + 1] * v[o + 1]; e2 += u[o + 2] * v[o + 2]; }
  out[0] = e0; out[1] = e1; out[2] = e2;
}

/** x += α s, r −= α q per channel (r32: r again, the V-cycle's input), and acc[k] = Σ r² after. */
function stepXR(x: Float64Array, r: Float64Array, s: Float64Array, q: Float64Array, alpha: Float64Array, N: number, acc: Float64Array, r32: Float32Array): void {
  const a0 = alpha[0], a1 = alpha[1], a2 = alpha[2];
  let e0 = 0, e1 = 0, e2 = 0;
  for (let o = 0; o < N; o += 3) {
    x[o] += a0 * s[o]; x[o + 1] += a1 * s[o + 1]; x[o + 2] += a2 * s[o + 2];
    const r0 = r[o] - a0 * q[o], r1 = r[o + 1] - a1 * q[o + 1], r2 = r[o + 2] - a2 * q[o + 2];
    r[o] = r0; r[o + 1] = r1; r[o + 2] = r2;
    r32[o] = r0; r32[o + 1] = r1; r32[o + 2] = r2;
    e0 += r0 * r0; e1 += r1 * r1; e2 += r2 * r2;
  }
  acc[0] = e0; acc[1] = e1; acc[2] = e2;
}

/** s = z + β s per channel. */
function stepS(s: Float64Array, z: Float32Array, beta: Float64Array, N: number): void {
  const b0 = beta[0], b1 = beta[1], b2 = beta[2];
  for (let o = 0; o < N; o += 3) { s[o] = z[o] + b0 * s[o]; s[o + 1] = z[o + 1] + b1 * s[o + 1]; s[o + 2] = z[o + 2] + b2 * s[o + 2]; }
}

/** out[k] = Σ r·z per channel (z the preconditioned residual, in single precision). */
function dotZ(r: Float64Array, z: Float32Array, N: number, out: Float64Array): void {
  let e0 = 0, e1 = 0, e2 = 0;
  for (let o = 0; o < N; o += 3) { e0 += r[o] * z[o]; e1 += r[o + 1] * z[o + 1]; e2 += r[o + 2] * z[o + 2]; }
  out[0] = e0; out[1] = e1; out[2] = e2;
}

/** q = A u on Ω (elsewhere untouched). */
function applyA(lev: Level, u: Float64Array, q: Float64Array): void {
  const Wc = lev.W * 3, diag = lev.diag;
  for (let y = 0; y < lev.h; y++) {
    for (let p = (y + 1) * lev.W + 1, o = 3 * p, end = p + lev.w; p < end; p++, o += 3) {
      if (!lev.inside[p]) continue;
      const d = diag[p];
      q[o] = d * u[o] - u[o - 3] - u[o + 3] - u[o - Wc] - u[o + Wc];
      q[o + 1] = d * u[o + 1] - u[o - 2] - u[o + 4] - u[o + 1 - Wc] - u[o + 1 + Wc];
      q[o + 2] = d * u[o + 2] - u[o - 1] - u[o + 5] - u[o + 2 - Wc] - u[o + 2 + Wc];
    }
  }
}
