/**
 * One WGSL generator for the implicit-GEMM kernel family: C[M,N] = sum_k A[m,k] * B[k,n], where A and B are
 * never materialised: each kernel supplies `loadA(m, k)` / `loadB(k, n)` that read its tensors directly
 * (the conv forward pass, its input gradient and its filter gradient are three such GEMMs, see conv.ts).
 *
 * Tiling: a workgroup computes a BM x BN tile of C with TX x TY threads, each holding TM x 4 outputs in
 * registers (the 4 along n as one vec4). Per step it stages a BK-deep slice of A and B in workgroup memory
 * (at most 16 KB, the WebGPU default). Split-K: workgroup z sums only its own KC-long slice of k and writes a
 * partial tile into a [S, M*N] buffer; a second, elementwise pass (`reduceSource`) adds the S slices and
 * applies the epilogue. All geometry is baked into the shader as constants (each layer shape gets its own
 * pipeline; integer divisions by constants compile to multiplies), so loop bounds are uniform.
 *
 * Precision 'f16' (needs the device feature shader-f16): the tensors stay f32 in memory (tfjs has no float16
 * dtype); the loaders' values are converted to f16 when staged in workgroup memory (half the bytes: BK 16 where
 * f32 fits only 8), multiplied as vec4<f16>, summed in f16 over one BK slice (<= 16 terms) and that slice's sum added
 * into f32 accumulators. A value beyond f16's range becomes +-inf (not an indeterminate value), so an overflow
 * always shows as a non-finite result (what loss scaling checks for).
 */

import { flags, type Precision } from '../flags.js';

export type { Precision } from '../flags.js';

export type Activation = 'linear' | 'relu' | 'relu6' | 'leakyrelu' | 'elu' | 'sigmoid';

export interface Epilogue {
  /** A 'bias' input of N values is added before the activation. */
  bias: boolean;
  activation: Activation;
  leakyreluAlpha: number;
}

export interface GemmSpec {
  /** Unique for everything baked into the loaders (kernel kind and geometry). */
  key: string;
  M: number;
  N: number;
  K: number;
  /** WGSL statements of `fn loadA(m: i32, k: i32) -> f32`, called only for m < M, k < K. */
  loadA: string;
  /** WGSL statements of `fn loadB(k: i32, n: i32) -> f32`, called only for k < K, n < N. */
  loadB: string;
  /** Whether consecutive k are adjacent in memory for A (then threads load along k, coalesced). */
  aAlongK: boolean;
  /**
   * Optional (with aAlongK only) WGSL of `fn loadA4(m: i32, k: i32) -> vec4<f32>`: A[m, k..k+3] with one index
   * decode; only when K and every group of four stay within one pixel (channel counts divisible by 4).
   */
  loadA4?: string;
  /** Same for B (otherwise consecutive n are adjacent). */
  bAlongK: boolean;
  /** Optional WGSL helper functions the loaders call (e.g. a prologue applied to an input as it is read). */
  prelude?: string;
}

export interface GemmTiling {
  BM: number; BN: number; BK: number; TM: number; TX: number; TY: number;
  /** Split-K slices and the k-length of each (a multiple of BK). */
  S: number; KC: number;
  tiles: number;
  /** Workgroups along x (the flat tile index is y * DX + x, to stay under the 65535 limit per dimension). */
  DX: number;
  /** Operand type of the inner product (staged tiles and multiplies); accumulation and outputs stay f32. */
  precision: Precision;
}

const THREADS = 256;

function pow2Floor(n: number): number {
  return 2 ** Math.floor(Math.log2(Math.max(1, n)));
}

/** Tile shape for a problem size: 4-wide vec4 columns, TM rows per thread, about 256 threads. */
export function chooseTiling(M: number, N: number, K: number, splitK: boolean, precision: Precision = 'f32'): GemmTiling {
  const BN = Math.min(64, 4 * Math.ceil(N / 4));
  const TX = BN / 4;
  const TM = M >= 8192 && BN >= 64 ? 8 : 4; // 8x4 outputs per thread for large layers (128x64 tiles)
  // no taller tile than M needs (a 1x1 filter gradient has M = Ci rows: a 256-row tile was 90% idle)
  const TY = Math.min(64, pow2Floor(THREADS / TX), 2 ** Math.ceil(Math.log2(Math.max(1, Math.ceil(M / TM)))));
  const BM = TY * TM;
  // 16 KB of staged tiles: 4096 f32 or 8192 f16 values (BK stays <= 16: the f16 partial sums stay short)
  const BK = Math.min(16, pow2Floor((precision === 'f16' ? 8192 : 4096) / (BM + BN)));
  const tiles = Math.ceil(M / BM) * Math.ceil(N / BN);
  let S = 1;
  // split-K until about flags.splitKTarget workgroups run (a few per SM of a large GPU)
  if (splitK && tiles < flags.splitKTarget) S = Math.max(1, Math.min(Math.ceil(flags.splitKTarget / tiles), Math.floor(K / (8 * BK))));
  const KC = Math.ceil(Math.ceil(K / S) / BK) * BK;
  S = Math.ceil(K / KC);
  const DX = Math.min(tiles, 32768);
  return { BM, BN, BK, TM, TX, TY, S, KC, tiles, DX, precision };
}

/** A WGSL f32 literal. */
export function f(x: number): string {
  const s = String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** WGSL of `fn epilogue(v: f32, n: i32) -> f32`: bias then activation. */
export function epilogueSource(e: Epilogue): string {
  const bias = e.bias ? 'let x = v + bias[n];' : 'let x = v;';
  const act: Record<Activation, string> = {
    linear: 'return x;',
    relu: 'return max(x, 0.0);',
    relu6: 'return clamp(x, 0.0, 6.0);',
    leakyrelu: `return select(x * ${f(e.leakyreluAlpha)}, x, x >= 0.0);`,
    elu: 'return select(exp(x) - 1.0, x, x >= 0.0);',
    sigmoid: 'return 1.0 / (1.0 + exp(-x));',
  };
  return `fn epilogue(v: f32, n: i32) -> f32 { ${bias} ${act[e.activation]} }`;
}

export function epilogueKey(e: Epilogue | null): string {
  return e ? `${e.bias ? 'b' : ''}${e.activation}${e.activation === 'leakyrelu' ? e.leakyreluAlpha : ''}` : 'raw';
}

/** WGSL statements staging one BK slice of A and of B in workgroup memory (converted to f16 when t.precision is). */
function stagingSource(s: GemmSpec, t: GemmTiling): { aLoad: string; bLoad: string } {
  const h = t.precision === 'f16';
  const cvt = h ? 'h' : ''; // staging conversion (f16: h() / h4() below)
  const aIdx = s.aAlongK ? 'let kk = e % BK; let mm = e / BK;' : 'let kk = e / BM; let mm = e % BM;';
  const aLoad = !s.loadA4
    ? `for (var e = tid; e < BK * BM; e += NT) {
      ${aIdx}
      let k = kbase + kk; let m = m0 + mm;
      var v = 0.0;
      if (k < K && m < M) { v = loadA(m, k); }
      As[kk * BM + mm] = ${cvt}(v);
    }`
    : `for (var e = tid; e < BK * BM / 4; e += NT) {
      let kk = (e % (BK / 4)) * 4; let mm = e / (BK / 4);
      let k = kbase + kk; let m = m0 + mm;
      var v = vec4<f32>(0.0);
      if (k < K && m < M) { v = loadA4(m, k); }
      for (var c = 0; c < 4; c++) { As[(kk + c) * BM + mm] = ${cvt}(v[c]); }
    }`;
  // B is stored as vec4 along n; when n is contiguous each thread loads one vec4 of 4 neighbours.
  const bLoad = s.bAlongK
    ? `for (var e = tid; e < BK * BN; e += NT) {
        let kk = e % BK; let nn = e / BK;
        let k = kbase + kk; let n = n0 + nn;
        var v = 0.0;
        if (k < K && n < N) { v = loadB(k, n); }
        Bs[kk * BN4 + nn / 4][nn % 4] = ${cvt}(v);
      }`
    : `for (var e = tid; e < BK * BN4; e += NT) {
        let kk = e / BN4; let n4 = e % BN4;
        let k = kbase + kk; let n = n0 + n4 * 4;
        var v = vec4<f32>(0.0);
        if (k < K) {
          for (var c = 0; c < 4; c++) { if (n + c < N) { v[c] = loadB(k, n + c); } }
        }
        Bs[e] = ${h ? 'h4' : ''}(v);
      }`;
  return { aLoad, bLoad };
}

/** WGSL of the inner product over one staged slice, unrolled by hand (registers, not an indexed array). */
function innerSource(t: GemmTiling, rows: number[]): string {
  // f16: each BK slice is summed in f16 registers (hN), then added into the f32 accumulators (accN)
  return t.precision === 'f16'
    ? `${rows.map((i) => `var h${i} = vec4<f16>(0.0);`).join(' ')}
    for (var kk = 0; kk < BK; kk++) {
      let b = Bs[kk * BN4 + tx];
      let ab = kk * BM + ty * TM;
      ${rows.map((i) => `h${i} = fma(vec4<f16>(As[ab + ${i}]), b, h${i});`).join('\n      ')}
    }
    ${rows.map((i) => `acc${i} += vec4<f32>(h${i});`).join(' ')}`
    : `for (var kk = 0; kk < BK; kk++) {
      let b = Bs[kk * BN4 + tx];
      let ab = kk * BM + ty * TM;
      ${rows.map((i) => `acc${i} = fma(vec4<f32>(As[ab + ${i}]), b, acc${i});`).join('\n      ')}
    }`;
}

const F16_HELPERS = `enable f16;
// f32 -> f16 with +-inf beyond f16's range (a plain conversion of an out-of-range value is indeterminate);
// the infinity's bits are read from a variable: a constant infinity is a shader-creation error
var<private> HALF_INF: u32 = 0x7c007c00u;
fn h(v: f32) -> f16 {
  if (abs(v) > 65504.0) { return bitcast<vec2<f16>>(HALF_INF).x * f16(sign(v)); }
  return f16(v);
}
fn h4(v: vec4<f32>) -> vec4<f16> { return vec4<f16>(h(v.x), h(v.y), h(v.z), h(v.w)); }`;

/**
 * The GEMM's user code (tfjs prepends bindings: `result` is the output, inputs by their variable names).
 * With t.S > 1 it writes partial sums ([S, M*N]); otherwise C with `epi` applied (null: raw C).
 */
export function gemmSource(s: GemmSpec, t: GemmTiling, epi: Epilogue | null): string {
  if (s.loadA4 && !s.aAlongK) throw new Error(`${s.key}: loadA4 needs A contiguous along k`);
  const { BM, BN, BK, TM, TX, TY, KC, DX } = t;
  const NT = TX * TY;
  const BN4 = BN / 4;
  const tilesN = Math.ceil(s.N / BN);
  const final = t.S === 1 && epi !== null;
  const T = t.precision === 'f16' ? 'f16' : 'f32';
  const { aLoad, bLoad } = stagingSource(s, t);
  const store = final
    ? 'result[m * N + n] = epilogue(v[c], n);'
    : 'result[kz * M * N + m * N + n] = v[c];';
  const rows = Array.from({ length: TM }, (_, i) => i);
  return `${t.precision === 'f16' ? F16_HELPERS : ''}
const M = ${s.M}; const N = ${s.N}; const K = ${s.K};
const BM = ${BM}; const BN = ${BN}; const BN4 = ${BN4}; const BK = ${BK}; const TM = ${TM};
const TX = ${TX}; const NT = ${NT}; const KC = ${KC}; const TILES_N = ${tilesN}; const DX = ${DX};
var<workgroup> As: array<${T}, ${BK * BM}>;
var<workgroup> Bs: array<vec4<${T}>, ${BK * BN4}>;
${s.prelude ?? ''}
fn loadA(m: i32, k: i32) -> f32 { ${s.loadA} }
fn loadB(k: i32, n: i32) -> f32 { ${s.loadB} }
${s.loadA4 ? `fn loadA4(m: i32, k: i32) -> vec4<f32> { ${s.loadA4} }` : ''}
${final ? epilogueSource(epi!) : ''}
fn store(m: i32, n4: i32, kz: i32, v: vec4<f32>) {
  if (m < M) {
    for (var c = 0; c < 4; c++) {
      let n = n4 + c;
      if (n < N) { ${store} }
    }
  }
}
fn main() {
  _ = uniforms.NAN; // keeps tfjs's uniform binding in the auto layout (every size here is a constant)
  let tid = i32(localIndex);
  let tx = tid % TX;
  let ty = tid / TX;
  let tile = i32(workgroupId.y) * DX + i32(workgroupId.x);
  let m0 = (tile / TILES_N) * BM;
  let n0 = (tile % TILES_N) * BN;
  let kz = i32(workgroupId.z);
  ${rows.map((i) => `var acc${i} = vec4<f32>(0.0);`).join(' ')}
  for (var kt = 0; kt < KC; kt += BK) {
    let kbase = kz * KC + kt;
${aLoad}
    ${bLoad}
    workgroupBarrier();
    ${innerSource(t, rows)}
    workgroupBarrier();
  }
  ${rows.map((i) => `store(m0 + ty * TM + ${i}, n0 + tx * 4, kz, acc${i});`).join('\n  ')}
}
`;
}

/** Elementwise pass: out[i] = epilogue(sum over the S slices of partial[s, i]). */
export function reduceSource(M: number, N: number, S: number, epi: Epilogue): string {
  return `
${epilogueSource(epi)}
fn main(index: i32) {
  _ = uniforms.NAN;
  if (index < ${M * N}) {
    var v = 0.0;
    for (var s = 0; s < ${S}; s++) { v += partial[s * ${M * N} + index]; }
    result[index] = epilogue(v, index % ${N});
  }
}
`;
}
