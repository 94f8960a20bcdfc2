import { FACE_TYPES, type FaceType } from './template.js';
import { DEFAULT_SMOOTHING, type SmoothingParams } from './stabilise.js';
import { DEFAULT_FACE_MASK, type FaceMaskParams } from './mask.js';
import { MAX_SAMPLES } from './landmarks.js';

export interface AlignParams {
  size: number;
  faceType: FaceType;
  select: 'largest' | 'reference';
  /** Path of the reference photo (resolved by the caller), for select: reference. */
  reference?: string;
  /** Largest descriptor distance still taken as the reference person. */
  maxDistance: number;
  samples: number;
  refine: boolean;
  smoothing: SmoothingParams | false;
  cutThreshold: number;
  mask: FaceMaskParams;
  minScore: number;
  contact: number | false;
  /** Run the face detector at least every this many frames; in between, faces are tracked (1 = detect every frame). */
  detectEvery: number;
}

export const ALIGN_DEFAULTS: AlignParams = {
  size: 256,
  faceType: 'wholeface',
  select: 'largest',
  maxDistance: 0.6,
  samples: 5,
  refine: true,
  smoothing: DEFAULT_SMOOTHING,
  cutThreshold: 0.5,
  mask: DEFAULT_FACE_MASK,
  minScore: 0.5,
  contact: 8,
  detectEvery: 10,
};

function num(p: Record<string, unknown>, key: string, min: number, max: number, int = false): number | undefined {
  const v = p[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (int && !Number.isInteger(v))) {
    throw new Error(`align: param '${key}' must be ${int ? 'an integer' : 'a number'} in [${min}, ${max}] (got ${JSON.stringify(v)})`);
  }
  return v;
}

const MASK_KEYS = ['erode', 'feather', 'source', 'hands'];

/** Align's `mask` param: {erode, feather, source, hands}; hands defaults to on with the mesh. */
function parseMask(m: unknown): FaceMaskParams {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new Error(`align: param 'mask' must be a map of ${MASK_KEYS.join(', ')}`);
  const o = m as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!MASK_KEYS.includes(k)) throw new Error(`align: param 'mask.${k}' is unknown (use ${MASK_KEYS.join(', ')})`);
  if (o.source !== undefined && o.source !== 'hull' && o.source !== 'mesh') throw new Error(`align: param 'mask.source' must be 'hull' (the 68 landmarks' hull) or 'mesh' (the face mesh's oval) (got ${JSON.stringify(o.source)})`);
  if (o.hands !== undefined && typeof o.hands !== 'boolean') throw new Error(`align: param 'mask.hands' must be true or false (got ${JSON.stringify(o.hands)})`);
  const source = (o.source as FaceMaskParams['source'] | undefined) ?? DEFAULT_FACE_MASK.source;
  return {
    erode: num(o, 'erode', -0.5, 0.5) ?? DEFAULT_FACE_MASK.erode,
    feather: num(o, 'feather', 0, 0.5) ?? DEFAULT_FACE_MASK.feather,
    source,
    hands: (o.hands as boolean | undefined) ?? source === 'mesh',
  };
}

/** Validates align's `with` map and fills defaults; errors name the field. */
export function parseAlignParams(raw: Record<string, unknown>): AlignParams {
  const known = ['size', 'faceType', 'select', 'reference', 'maxDistance', 'samples', 'refine', 'smoothing', 'cutThreshold', 'mask', 'minScore', 'contact', 'detectEvery'];
  for (const k of Object.keys(raw)) if (!known.includes(k)) throw new Error(`align: unknown param '${k}' (known: ${known.join(', ')})`);
  const p: AlignParams = { ...ALIGN_DEFAULTS };
  p.size = num(raw, 'size', 64, 1024, true) ?? p.size;
  if (raw.faceType !== undefined) {
    if (!FACE_TYPES.includes(raw.faceType as FaceType)) throw new Error(`align: param 'faceType' must be one of ${FACE_TYPES.join(', ')} (got ${JSON.stringify(raw.faceType)})`);
    p.faceType = raw.faceType as FaceType;
  }
  if (raw.select !== undefined) {
    if (raw.select !== 'largest' && raw.select !== 'reference') throw new Error(`align: param 'select' must be 'largest' or 'reference' (got ${JSON.stringify(raw.select)})`);
    p.select = raw.select;
  }
  if (raw.reference !== undefined) {
    if (typeof raw.reference !== 'string' || !raw.reference) throw new Error(`align: param 'reference' must be an image path`);
    p.reference = raw.reference;
  }
  if (p.select === 'reference' && !p.reference) throw new Error(`align: select is 'reference' but param 'reference' (a photo of the person to keep) is not set`);
  p.maxDistance = num(raw, 'maxDistance', 0, 2) ?? p.maxDistance;
  p.samples = num(raw, 'samples', 1, MAX_SAMPLES, true) ?? p.samples;
  if (raw.refine !== undefined) {
    if (typeof raw.refine !== 'boolean') throw new Error(`align: param 'refine' must be true or false`);
    p.refine = raw.refine;
  }
  if (raw.smoothing !== undefined) {
    const s = raw.smoothing;
    if (s === false) p.smoothing = false;
    else if (typeof s === 'object' && s !== null && !Array.isArray(s)) {
      const o = s as Record<string, unknown>;
      for (const k of Object.keys(o)) if (k !== 'minCutoff' && k !== 'beta') throw new Error(`align: param 'smoothing.${k}' is unknown (use minCutoff and beta)`);
      p.smoothing = {
        minCutoff: num(o, 'minCutoff', 1e-3, 1000) ?? DEFAULT_SMOOTHING.minCutoff,
        beta: num(o, 'beta', 0, 1e4) ?? DEFAULT_SMOOTHING.beta,
      };
    } else throw new Error(`align: param 'smoothing' must be false or {minCutoff, beta}`);
  }
  p.cutThreshold = num(raw, 'cutThreshold', 0, 100) ?? p.cutThreshold;
  if (raw.mask !== undefined) p.mask = parseMask(raw.mask);
  p.minScore = num(raw, 'minScore', 0, 1) ?? p.minScore;
  p.detectEvery = num(raw, 'detectEvery', 1, 100000, true) ?? p.detectEvery;
  if (raw.contact !== undefined) {
    if (raw.contact === false) p.contact = false;
    else p.contact = num(raw, 'contact', 1, 64, true)!;
  }
  return p;
}
