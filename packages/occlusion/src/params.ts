/** The occlusion stage's params (stages.json holds the same schema; the runner validates it first). */
export interface OcclusionParams {
  /** Segmenter side in pixels (crops are resized to it; masks are written at the crop size). */
  size: number;
  steps: number;
  batch: number;
  rate: number;
  /** Share of training samples given synthetic occluders. */
  occluded: number;
  seed: number;
  /** A frame whose predicted visible face covers less than this share of its landmark hull falls back to the hull. */
  minShare: number;
  /** Safety margin: the covered region grown by this many crop pixels (see withMargin). */
  margin: number;
  /** A pixel counts as covered where the predicted uncovered probability is under this. */
  threshold: number;
  /** Labels file (see README), relative to the pipeline file. */
  labels?: string;
  /** Contact sheet columns, or false for none. */
  contact: number | false;
}

export const DEFAULTS: Omit<OcclusionParams, 'labels'> = { size: 64, steps: 500, batch: 8, rate: 0.003, occluded: 0.8, seed: 1, minShare: 0.05, margin: 0, threshold: 0.9, contact: 8 };

/** The network's channel widths per level (fixed: part of the model, not a tuning knob). */
export const WIDTHS = [12, 16, 24, 32];

function num(raw: Record<string, unknown>, key: keyof typeof DEFAULTS, ok: (v: number) => boolean, what: string): number {
  const v = raw[key] ?? DEFAULTS[key];
  if (typeof v !== 'number' || !ok(v)) throw new Error(`occlusion param '${key}' must be ${what}, got ${JSON.stringify(raw[key])}`);
  return v;
}

export function parseParams(raw: Record<string, unknown>): OcclusionParams {
  const known = ['size', 'steps', 'batch', 'rate', 'occluded', 'seed', 'minShare', 'margin', 'threshold', 'labels', 'contact'];
  const extra = Object.keys(raw).filter((k) => !known.includes(k));
  if (extra.length) throw new Error(`occlusion: unknown param '${extra[0]}' (params: ${known.join(', ')})`);
  const labels = raw.labels;
  if (labels !== undefined && (typeof labels !== 'string' || labels === '')) throw new Error(`occlusion param 'labels' must be a file path relative to the pipeline, got ${JSON.stringify(labels)}`);
  const contact = raw.contact ?? DEFAULTS.contact;
  if (contact !== false && !(Number.isInteger(contact) && (contact as number) >= 1 && (contact as number) <= 64)) throw new Error(`occlusion param 'contact' must be 1..64 columns or false, got ${JSON.stringify(contact)}`);
  return {
    size: num(raw, 'size', (v) => Number.isInteger(v) && v >= 32 && v <= 256 && v % 8 === 0, 'a multiple of 8 from 32 to 256'),
    steps: num(raw, 'steps', (v) => Number.isInteger(v) && v >= 1 && v <= 100000, 'an integer from 1 to 100000'),
    batch: num(raw, 'batch', (v) => Number.isInteger(v) && v >= 1 && v <= 256, 'an integer from 1 to 256'),
    rate: num(raw, 'rate', (v) => v > 0 && v < 1, 'a learning rate between 0 and 1'),
    occluded: num(raw, 'occluded', (v) => v >= 0 && v <= 1, 'a share from 0 to 1'),
    seed: num(raw, 'seed', (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer'),
    minShare: num(raw, 'minShare', (v) => v >= 0 && v <= 1, 'a share from 0 to 1'),
    margin: num(raw, 'margin', (v) => v >= 0 && v <= 16, 'crop pixels from 0 to 16'),
    threshold: num(raw, 'threshold', (v) => v >= 0 && v <= 1, 'a probability from 0 to 1'),
    labels: labels as string | undefined,
    contact: contact as number | false,
  };
}
