import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readJson } from './files.js';

/** A needed stage's artifact folder and its meta.json (docs/ARTIFACTS.md). */
export interface Upstream {
  /** The needed stage's name in the pipeline. */
  name: string;
  dir: string;
  /** Parsed meta.json; empty when the folder has none. */
  meta: Record<string, unknown>;
  /** `meta.kind`, or undefined when there is no meta.json or no kind in it. */
  kind: string | undefined;
  hasMeta: boolean;
}

/**
 * Reads the meta.json of every needed stage, so a stage can find its inputs by kind. A folder without
 * meta.json is returned with `hasMeta: false` (the caller says what it expected); malformed JSON is an
 * error naming the file.
 */
export async function readUpstream(inputs: Record<string, string>): Promise<Upstream[]> {
  return Promise.all(
    Object.entries(inputs).map(async ([name, dir]) => {
      const file = join(dir, 'meta.json');
      if (!existsSync(file)) return { name, dir, meta: {}, kind: undefined, hasMeta: false };
      const meta = await readJson(file, `stage '${name}'`);
      return { name, dir, meta, kind: typeof meta.kind === 'string' ? meta.kind : undefined, hasMeta: true };
    }),
  );
}

/**
 * Refuses the output of a swap stage run with `source: all` (faces/<identity>/NNNNNN.png, every identity's
 * decoder) where one swapped face per frame is read (blend, score, encode's patch); the message names the
 * param to set. `reader` names the reading stage or format in the message.
 */
export function requireOneSource(swap: Pick<Upstream, 'name' | 'meta'>, reader: string): void {
  if (swap.meta.source !== 'all') return;
  const ids = Array.isArray(swap.meta.identities) ? ` (one of ${swap.meta.identities.join(', ')})` : '';
  throw new Error(
    `${reader} reads one swapped face per frame, but swap stage '${swap.name}' rendered every identity (source: all): ` +
      `set that stage's param 'source' to one identity${ids}, or give ${reader} a swap stage with one source (source: all is for encode's format grid)`,
  );
}
