import { FIGURES, type FigureName } from './figures.js';

export interface Threshold { min?: number; max?: number }

export interface ScoreParams {
  /** Names of needed stages, when their kinds alone are ambiguous. */
  swap?: string;
  blend?: string;
  align?: string;
  /** The trained identity that is the plate's own person (default: the identity nearest the plate's faces, if near enough). */
  target?: string;
  /** Dataset crops described per identity for its mean descriptor (evenly spaced). */
  perIdentity: number;
  /** Descriptor distance under which the plate's faces count as a trained identity (face-api's usual 0.6). */
  maxDistance: number;
  /** Detector score a face must reach to count as detected. */
  detectScore: number;
  /** Reconstruction figures (SSIM, PSNR against the plate): 'auto' = when the source is the target. */
  reconstruction: boolean | 'auto';
  /** Figure name -> bounds; a figure outside its bounds fails the stage. */
  thresholds: Partial<Record<FigureName, Threshold>>;
}

const fail = (msg: string): never => {
  throw new Error(`score: ${msg}`);
};

/** Checks and fills the `with` map (defaults as in stages.json). */
export function parseScoreParams(raw: Record<string, unknown>): ScoreParams {
  const known = ['swap', 'blend', 'align', 'target', 'perIdentity', 'maxDistance', 'detectScore', 'reconstruction', 'thresholds'];
  for (const k of Object.keys(raw)) if (!known.includes(k)) fail(`unknown param '${k}' (known: ${known.join(', ')})`);
  const name = (k: string): string | undefined => {
    const v = raw[k];
    if (v !== undefined && (typeof v !== 'string' || !v)) fail(`param '${k}' must be a name, got ${JSON.stringify(v)}`);
    return v as string | undefined;
  };
  const num = (k: string, def: number, lo: number, hi: number, int = false): number => {
    const v = raw[k] ?? def;
    if (typeof v !== 'number' || !(v >= lo && v <= hi) || (int && !Number.isInteger(v))) fail(`param '${k}' must be ${int ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${JSON.stringify(raw[k])}`);
    return v as number;
  };
  const rec = raw.reconstruction ?? 'auto';
  if (rec !== 'auto' && typeof rec !== 'boolean') fail(`param 'reconstruction' must be true, false or 'auto', got ${JSON.stringify(rec)}`);
  const thresholds: ScoreParams['thresholds'] = {};
  const t = raw.thresholds ?? {};
  if (typeof t !== 'object' || t === null || Array.isArray(t)) fail(`param 'thresholds' must map figure names to {min, max}`);
  for (const [fig, b] of Object.entries(t as Record<string, unknown>)) {
    if (!(fig in FIGURES)) fail(`param 'thresholds.${fig}': no such figure; figures: ${Object.keys(FIGURES).join(', ')}`);
    const bounds = b as Record<string, unknown>;
    if (typeof bounds !== 'object' || bounds === null || Object.keys(bounds).some((k) => k !== 'min' && k !== 'max')) fail(`param 'thresholds.${fig}' must be {min: number} and/or {max: number}`);
    for (const k of ['min', 'max'] as const) {
      if (bounds[k] !== undefined && (typeof bounds[k] !== 'number' || !Number.isFinite(bounds[k]))) fail(`param 'thresholds.${fig}.${k}' must be a number`);
    }
    if (bounds.min === undefined && bounds.max === undefined) fail(`param 'thresholds.${fig}' needs a min or a max`);
    thresholds[fig as FigureName] = { min: bounds.min as number | undefined, max: bounds.max as number | undefined };
  }
  return {
    swap: name('swap'), blend: name('blend'), align: name('align'), target: name('target'),
    perIdentity: num('perIdentity', 24, 1, 10000, true),
    maxDistance: num('maxDistance', 0.6, 0, 2),
    detectScore: num('detectScore', 0.5, 0, 1),
    reconstruction: rec as boolean | 'auto',
    thresholds,
  };
}
