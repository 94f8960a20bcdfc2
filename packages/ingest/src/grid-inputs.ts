/** The inputs of encode's format grid: a swap stage with `source: all` and the align stage of its target. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readUpstream, type StageEnv, type Upstream } from '@facecomb/stage';
import { frameName } from '@facecomb/stage';

export interface GridInputs {
  swap: Upstream;
  align: Upstream;
  /** Identity names in tile order (the swap's decoder order). */
  identities: string[];
  /** Frames rendered by the swap (those with a face). */
  frames: number[];
}

/** Finds and checks the grid's swap (source: all) and align stages among the needs; every file must be there. */
export async function findGridInputs(env: Pick<StageEnv, 'inputs' | 'stage'>): Promise<GridInputs> {
  const all = await readUpstream(env.inputs);
  const fail = (msg: string): never => {
    throw new Error(`stage '${env.stage}': format grid ${msg}`);
  };
  const swaps = all.filter((u) => u.meta.kind === 'swap');
  const every = swaps.filter((u) => u.meta.source === 'all');
  if (every.length === 0) {
    const one = swaps.map((u) => `'${u.name}' renders one identity (source: ${String(u.meta.source)})`);
    fail(`needs a swap stage with 'source: all' among its needs (it shows every identity's decoder beside the target)${one.length ? `; ${one.join(', ')}: add a swap stage with source: all to 'needs'` : ''}`);
  }
  if (every.length > 1) fail(`found several swap stages with source: all (${every.map((u) => u.name).join(', ')}); keep one in 'needs'`);
  const aligns = all.filter((u) => u.meta.kind === 'align');
  if (aligns.length !== 1) fail(`needs the target's align stage (its crops are the top-left tile) among its needs, exactly one; found ${aligns.length ? aligns.map((u) => u.name).join(', ') : 'none'}`);
  const swap = every[0], align = aligns[0];
  const metaFile = join(swap.dir, 'meta.json');
  const identities = swap.meta.identities;
  if (!Array.isArray(identities) || identities.length === 0 || !identities.every((n) => typeof n === 'string')) fail(`${metaFile} has no 'identities' list: rerun swap stage '${swap.name}'`);
  const frames = swap.meta.frames;
  if (!Array.isArray(frames) || !frames.every((n) => Number.isInteger(n))) fail(`${metaFile} has no 'frames' list: rerun swap stage '${swap.name}'`);
  if ((frames as number[]).length === 0) fail(`has nothing to show: swap stage '${swap.name}' found no face in any frame of its target`);
  if (Number(swap.meta.size) !== Number(align.meta.size)) fail(`swap '${swap.name}' faces are ${String(swap.meta.size)} px but align '${align.name}' crops are ${String(align.meta.size)} px: the swap was not made from this align stage`);
  for (const f of frames as number[]) {
    const crop = join(align.dir, 'crops', frameName(f));
    if (!existsSync(crop)) fail(`needs the target crop ${crop} (frame ${f}), which is missing: is '${align.name}' the align stage swap '${swap.name}' rendered?`);
    for (const n of identities as string[]) {
      const face = join(swap.dir, 'faces', n, frameName(f));
      if (!existsSync(face)) fail(`needs identity '${n}' frame ${f}: ${face} is missing; rerun swap stage '${swap.name}' (runner run --force ${swap.name})`);
    }
  }
  return { swap, align, identities: identities as string[], frames: frames as number[] };
}
