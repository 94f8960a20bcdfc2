import { join } from 'node:path';
import { readUpstream, requireOneSource, type Upstream } from '@facecomb/stage';
import type { FaceType } from '@facecomb/align';
import type { ScoreParams } from './params.js';

export interface Identity {
  name: string;
  /** The dataset stage's artifact folder. */
  dir: string;
  faceType: FaceType;
}

export interface ScoreInputs {
  swap: Upstream;
  blend: Upstream | null;
  /** The plate's frames (kind ingest or synth), for seams at the plate's own resolution. */
  frames: Upstream | null;
  /** The plate's align stage. */
  align: Upstream;
  identities: Identity[];
  /** The swap's source identity. */
  source: string;
  faceType: FaceType;
  size: number;
}

const fail = (msg: string): never => {
  throw new Error(`score: ${msg}`);
};

const listing = (ups: Upstream[]) => `[${ups.map((u) => `${u.name}: ${u.kind ?? 'no meta.json'}`).join(', ')}]`;

/** Picks the one needed stage of a kind (or the one a param names); null when optional and absent. */
function pick(ups: Upstream[], kinds: string[], param: 'swap' | 'blend' | 'align' | 'plate', wanted: string | undefined, required: boolean): Upstream | null {
  const kind = kinds.join(' or ');
  if (wanted !== undefined) {
    const u = ups.find((x) => x.name === wanted);
    if (!u) return fail(`param '${param}' names stage '${wanted}', which is not among its needs ${listing(ups)}`);
    if (!kinds.includes(u.kind ?? '')) return fail(`param '${param}' names stage '${wanted}' of kind '${u.kind}'; it must be of kind ${kind}`);
    return u;
  }
  const found = ups.filter((u) => kinds.includes(u.kind ?? ''));
  if (found.length > 1) return fail(`stages ${found.map((u) => u.name).join(' and ')} are all of kind ${kind}; say which with param '${param}: <stage>'`);
  if (found.length === 0 && required) return fail(`needs a ${kind} stage in its needs; it has ${listing(ups)}`);
  return found[0] ?? null;
}

/**
 * Finds the swap, the optional blend and plate frames, the plate's align and the identities' dataset stages among the needed
 * stages by their kinds (docs/ARTIFACTS.md); with a train stage among them, its identities must all have
 * their dataset stage there too.
 */
export async function findInputs(inputs: Record<string, string>, params: Pick<ScoreParams, 'swap' | 'blend' | 'align' | 'plate' | 'target'>): Promise<ScoreInputs> {
  const ups = await readUpstream(inputs);
  for (const u of ups) if (!u.hasMeta) fail(`needed stage '${u.name}' has no meta.json at ${join(u.dir, 'meta.json')}: is it a facecomb stage output?`);
  const swap = pick(ups, ['swap'], 'swap', params.swap, true)!;
  requireOneSource(swap, 'score');
  const blend = pick(ups, ['blend'], 'blend', params.blend, false);
  const align = pick(ups, ['align'], 'align', params.align, true)!;
  const frames = pick(ups, ['ingest', 'synth'], 'plate', params.plate, false);
  const sets = ups.filter((u) => u.kind === 'dataset');
  const train = ups.filter((u) => u.kind === 'train');
  const source = String(swap.meta.source ?? '');
  let names = sets.map((u) => String(u.meta.name));
  if (train.length > 0) {
    const trained = (train[0].meta.identities ?? []) as string[];
    const missing = trained.filter((n) => !names.includes(n));
    if (missing.length) fail(`train stage '${train[0].name}' has identities [${trained.join(', ')}], but no dataset stage for ${missing.map((m) => `'${m}'`).join(', ')} is among its needs: add it to 'needs'`);
    names = trained;
  }
  if (names.length === 0) fail(`needs the dataset stages of the trained identities (kind dataset) in its needs, to know what each person looks like; it has ${listing(ups)}`);
  if (!names.includes(source)) fail(`the swap '${swap.name}' renders identity '${source}', but no dataset stage among its needs is named '${source}' (it has ${names.join(', ')})`);
  if (params.target !== undefined && !names.includes(params.target)) fail(`param 'target' is '${params.target}', not one of the identities [${names.join(', ')}]`);
  const identities = names.map((n) => {
    const u = sets.find((s) => s.meta.name === n)!;
    return { name: n, dir: u.dir, faceType: (u.meta.faceType ?? 'wholeface') as FaceType };
  });
  const size = Number(align.meta.size);
  if (!Number.isInteger(size) || size <= 0) fail(`${join(align.dir, 'meta.json')}: 'size' must be the crop size in px`);
  if (Number(swap.meta.size) !== size) fail(`swap '${swap.name}' faces are ${String(swap.meta.size)} px but align '${align.name}' crops are ${size} px: the swap was not made from this align stage`);
  return { swap, blend, frames, align, identities, source, faceType: (align.meta.faceType ?? 'wholeface') as FaceType, size };
}
