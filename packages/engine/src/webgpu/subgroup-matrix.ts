/**
 * The implicit GEMMs of conv.ts on tensor cores through Dawn's `chromium-experimental-subgroup-matrix`: the
 * same loaders (loadA/loadB of a GemmSpec, f32 tensors) fill workgroup tiles converted to f16, each subgroup
 * multiplies FM x FN fragments of the adapter's f16 x f16 -> f32 configuration (e.g. 16x16x16) with
 * subgroupMatrixMultiplyAccumulate, and the f32 results go through a small workgroup buffer to the epilogue
 * (bias + activation) or to the split-K partial sums that gemm.ts's reduction adds up.
 *
 * Layout per workgroup: WM x WN = 2 x 2 subgroups, each FM x FN = 2 x 2 fragments of CM x CN, so a tile of
 * BM x BN = 4CM x 4CN (64 x 64 with 16x16 fragments), BK = 2CK deep; 4 x subgroupMaxSize threads.
 *
 * The same generator also emits an emulated variant ('emulate'): identical staging, offsets and strides, with the
 * three subgroup-matrix builtins replaced by plain per-invocation loops over the same workgroup tiles. It runs
 * wherever shader-f16 does (lavapipe included), which is how the staging and indexing are tested without
 * tensor cores; only the builtins themselves need a device that offers them.
 */
import type { SubgroupMatrixConfig } from './features.js';
import { epilogueSource, type Epilogue, type GemmSpec } from './gemm.js';
import { bindingsSource } from './program.js';

export type SmxMode = 'hardware' | 'emulate';
/**
 * Two spellings of the builtins exist in Dawn's history: the layout as a bool argument
 * (`subgroupMatrixLoad<T>(p, offset, false, stride)`) and, later, as a template argument
 * (`subgroupMatrixLoad<T, row_major>(p, offset, stride)`). The first that compiles is used.
 */
export type SmxSyntax = 'template' | 'bool';
export const SMX_SYNTAXES: readonly SmxSyntax[] = ['template', 'bool'];

export const SMX_FEATURE = 'chromium-experimental-subgroup-matrix';

/** The configuration to use, or why there is none. */
export function pickSmxConfig(features: readonly string[], configs: readonly SubgroupMatrixConfig[]): { config: SubgroupMatrixConfig } | { reason: string } {
  if (!features.includes(SMX_FEATURE)) {
    return { reason: `the adapter does not offer ${SMX_FEATURE} (needs Dawn's allow_unsafe_apis and a driver with VK_KHR_cooperative_matrix)` };
  }
  if (!features.includes('shader-f16')) return { reason: 'the adapter does not offer shader-f16' };
  const fit = configs.filter((c) => c.componentType === 'f16' && c.resultComponentType === 'f32');
  if (!fit.length) {
    const have = configs.map((c) => `${c.componentType}->${c.resultComponentType} ${c.M}x${c.N}x${c.K}`).join(', ') || 'none';
    return { reason: `no f16 x f16 -> f32 subgroup-matrix configuration (adapter has: ${have})` };
  }
  // most work per instruction, then square fragments
  const score = (c: SubgroupMatrixConfig) => c.M * c.N * c.K * 4 - Math.abs(c.M - c.N);
  return { config: [...fit].sort((a, b) => score(b) - score(a))[0] };
}

export interface SmxTiling {
  CM: number; CN: number; CK: number;
  /** Invocations per subgroup (the adapter's subgroupMaxSize). */
  SG: number;
  WM: number; WN: number; FM: number; FN: number;
  BM: number; BN: number; BK: number;
  /** Threads per workgroup. */
  NT: number;
  S: number; KC: number; tiles: number; DX: number;
}

/** Tile geometry for C[M,N] = A[M,K] B[K,N] with fragments of `cfg` and subgroups of `sg` invocations. */
export function smxTiling(M: number, N: number, K: number, cfg: SubgroupMatrixConfig, sg: number, splitK: boolean, target: number): SmxTiling {
  if (!(sg > 0) || (cfg.M * cfg.N) % sg !== 0) throw new Error(`subgroup size ${sg} does not divide a ${cfg.M}x${cfg.N} fragment`);
  const WM = 2, WN = 2, FM = 2, FN = 2;
  const BM = WM * FM * cfg.M, BN = WN * FN * cfg.N, BK = 2 * cfg.K;
  const tiles = Math.ceil(M / BM) * Math.ceil(N / BN);
  let S = 1;
  if (splitK && tiles < target) S = Math.max(1, Math.min(Math.ceil(target / tiles), Math.floor(K / (8 * BK))));
  const KC = Math.ceil(Math.ceil(K / S) / BK) * BK;
  S = Math.ceil(K / KC);
  return { CM: cfg.M, CN: cfg.N, CK: cfg.K, SG: sg, WM, WN, FM, FN, BM, BN, BK, NT: WM * WN * sg, S, KC, tiles, DX: Math.min(tiles, 32768) };
}

/** Bytes of workgroup memory the kernel declares (A and B tiles in f16, one f32 fragment per subgroup). */
export function smxWorkgroupBytes(t: SmxTiling): number {
  return 2 * (t.BM * t.BK + t.BK * t.BN) + 4 * (t.NT / t.SG) * t.CM * t.CN;
}

/** WGSL of the builtin calls (or their emulation): the multiply-accumulates of one CK step, the accumulators, a fragment's store. */
function smxParts(t: SmxTiling, mode: SmxMode, syntax: SmxSyntax): { mma: string[]; accDecl: string[]; storeFrag: (acc: string) => string; frags: [number, number][] } {
  const hw = mode === 'hardware';
  const { CM, CN, CK, FM, FN } = t;
  const frags: [number, number][] = [];
  for (let i = 0; i < FM; i++) for (let j = 0; j < FN; j++) frags.push([i, j]);
  const left = `subgroup_matrix_left<f16, ${CK}, ${CM}>`;
  const right = `subgroup_matrix_right<f16, ${CN}, ${CK}>`;
  const load = (type: string, ptr: string, off: string, stride: string) => (syntax === 'template'
    ? `subgroupMatrixLoad<${type}, row_major>(${ptr}, u32(${off}), u32(${stride}))`
    : `subgroupMatrixLoad<${type}>(${ptr}, u32(${off}), false, u32(${stride}))`);
  const storeFrag = (acc: string) => (hw
    ? (syntax === 'template'
      ? `subgroupMatrixStore<row_major>(&Cs, u32(sg * CM * CN), ${acc}, u32(CN));`
      : `subgroupMatrixStore(&Cs, u32(sg * CM * CN), ${acc}, false, u32(CN));`)
    : `for (var q = 0; q < Q; q++) { Cs[sg * CM * CN + lane + SG * q] = ${acc}[q]; }`);
  const aOff = (i: number) => `(sgm * FM + ${i}) * CM * BK + kk`;
  const bOff = (j: number) => `kk * BN + (sgn * FN + ${j}) * CN`;
  const mma = hw
    ? [
      ...Array.from({ length: FM }, (_, i) => `let a${i} = ${load(left, '&As', aOff(i), 'BK')};`),
      ...Array.from({ length: FN }, (_, j) => `let b${j} = ${load(right, '&Bs', bOff(j), 'BN')};`),
      ...frags.map(([i, j]) => `acc${i}${j} = subgroupMatrixMultiplyAccumulate(a${i}, b${j}, acc${i}${j});`),
    ]
    : frags.map(([i, j]) => `mmaEmulated(&acc${i}${j}, ${aOff(i)}, ${bOff(j)}, lane);`);
  const accDecl = frags.map(([i, j]) => (hw
    ? `var acc${i}${j} = subgroup_matrix_result<f32, ${CN}, ${CM}>();`
    : `var acc${i}${j}: array<f32, Q>;`));
  return { mma, accDecl, storeFrag, frags };
}

/**
 * The whole WGSL module (bindings included: `result` at 0, then `inputs` in order, all array<f32>).
 * With t.S > 1 it writes raw partial sums ([S, M*N]); otherwise C with `epi` applied.
 */
export function smxSource(s: GemmSpec, t: SmxTiling, epi: Epilogue | null, inputs: string[], mode: SmxMode, syntax: SmxSyntax = 'template'): string {
  const hw = mode === 'hardware';
  const final = t.S === 1 && epi !== null;
  const { CM, CN, CK, SG, FM, FN } = t;
  const Q = (CM * CN) / SG;
  const { mma, accDecl, storeFrag, frags } = smxParts(t, mode, syntax);
  const aIdx = s.aAlongK ? 'let kk = e % BK; let mm = e / BK;' : 'let mm = e % BM; let kk = e / BM;';
  const bIdx = s.bAlongK ? 'let kk = e % BK; let nn = e / BK;' : 'let nn = e % BN; let kk = e / BN;';
  const write = final ? 'result[m * N + n] = epilogue(v, n);' : 'result[kz * M * N + m * N + n] = v;';
  return `enable f16;
${hw ? 'enable chromium_experimental_subgroup_matrix;' : ''}
${bindingsSource([{ name: 'result', write: true }, ...inputs.map((name) => ({ name }))])}
const M = ${s.M}; const N = ${s.N}; const K = ${s.K};
const CM = ${CM}; const CN = ${CN}; const CK = ${CK}; const SG = ${SG}; const Q = ${Q};
const WN = ${t.WN}; const FM = ${FM}; const FN = ${FN};
const BM = ${t.BM}; const BN = ${t.BN}; const BK = ${t.BK}; const NT = ${t.NT};
const KC = ${t.KC}; const TILES_N = ${Math.ceil(s.N / t.BN)}; const DX = ${t.DX};
var<workgroup> As: array<f16, ${t.BM * t.BK}>; // [BM][BK], row-major
var<workgroup> Bs: array<f16, ${t.BK * t.BN}>; // [BK][BN], row-major
var<workgroup> Cs: array<f32, ${(t.NT / SG) * CM * CN}>; // one CM x CN fragment per subgroup
${s.prelude ?? ''}
fn loadA(m: i32, k: i32) -> f32 { ${s.loadA} }
fn loadB(k: i32, n: i32) -> f32 { ${s.loadB} }
${final ? epilogueSource(epi!) : ''}
${hw ? '' : `// what subgroupMatrixMultiplyAccumulate computes, element (r, c) = lane + SG * q of the fragment
fn mmaEmulated(acc: ptr<function, array<f32, Q>>, aOff: i32, bOff: i32, lane: i32) {
  for (var q = 0; q < Q; q++) {
    let e = lane + SG * q; let r = e / CN; let c = e % CN;
    var v = 0.0;
    for (var t = 0; t < CK; t++) { v += f32(As[aOff + r * BK + t]) * f32(Bs[bOff + t * BN + c]); }
    (*acc)[q] += v;
  }
}`}
@compute @workgroup_size(NT)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let tid = i32(li);
  let sg = tid / SG; let lane = tid % SG;
  let sgm = sg / WN; let sgn = sg % WN;
  let tile = i32(wid.y) * DX + i32(wid.x);
  let m0 = (tile / TILES_N) * BM;
  let n0 = (tile % TILES_N) * BN;
  let kz = i32(wid.z);
  ${accDecl.join('\n  ')}
  for (var kt = 0; kt < KC; kt += BK) {
    let kbase = kz * KC + kt;
    for (var e = tid; e < BM * BK; e += NT) {
      ${aIdx}
      let k = kbase + kk; let m = m0 + mm;
      var v = 0.0;
      if (k < K && m < M) { v = loadA(m, k); }
      As[mm * BK + kk] = f16(v);
    }
    for (var e = tid; e < BK * BN; e += NT) {
      ${bIdx}
      let k = kbase + kk; let n = n0 + nn;
      var v = 0.0;
      if (k < K && n < N) { v = loadB(k, n); }
      Bs[kk * BN + nn] = f16(v);
    }
    workgroupBarrier();
    for (var kk = 0; kk < BK; kk += CK) {
      ${mma.join('\n      ')}
    }
    workgroupBarrier();
  }
${frags.map(([i, j]) => `  ${storeFrag(`acc${i}${j}`)}
  workgroupBarrier();
  for (var e = lane; e < CM * CN; e += SG) {
    let m = m0 + (sgm * FM + ${i}) * CM + e / CN; let n = n0 + (sgn * FN + ${j}) * CN + e % CN;
    let v = Cs[sg * CM * CN + e];
    if (m < M && n < N) { ${write} }
  }
  workgroupBarrier();`).join('\n')}
}
`;
}
