import { join } from 'node:path';
import { readImage } from '@facecomb/image';
import { descriptorDistance } from '@facecomb/align';
import { readJson } from '@facecomb/stage';
import type { FaceReader } from './faces.js';
import type { Identity } from './inputs.js';
import type { ReadingCache } from './readings.js';

export interface IdentityMean {
  name: string;
  descriptor: Float32Array;
  /** How many crops were described. */
  crops: number;
}

/** At most k items, evenly spaced over the list (first and last included). */
export function evenly<T>(items: T[], k: number): T[] {
  if (items.length <= k) return items;
  if (k === 1) return [items[Math.floor(items.length / 2)]];
  return Array.from({ length: k }, (_, i) => items[Math.round((i * (items.length - 1)) / (k - 1))]);
}

export function meanDescriptor(ds: Float32Array[]): Float32Array {
  const m = new Float32Array(ds[0].length);
  for (const d of ds) for (let i = 0; i < m.length; i++) m[i] += d[i] / ds.length;
  return m;
}

/** The mean face descriptor of an identity over up to `per` of its dataset crops (evenly spaced); readings kept in `cache` when given. */
export async function identityMean(reader: FaceReader, id: Identity, per: number, cache?: ReadingCache): Promise<IdentityMean> {
  const file = join(id.dir, 'items.json');
  const items = await readJson<{ crop: string }[]>(file, `score: identity '${id.name}'`, 'is it a dataset stage output?');
  if (!Array.isArray(items) || items.length === 0) throw new Error(`score: identity '${id.name}': ${file} lists no crops`);
  const chosen = evenly(items, per);
  const ds: Float32Array[] = [];
  for (let i = 0; i < chosen.length; i += 8) {
    const files = chosen.slice(i, i + 8).map((it) => join(id.dir, it.crop));
    const crops = await Promise.all(files.map((f) => readImage(f, { channels: 3 })));
    const rs = cache ? await cache.read(reader, crops, files, id.faceType) : await reader.read(crops, id.faceType);
    for (const r of rs) ds.push(r.descriptor);
  }
  return { name: id.name, descriptor: meanDescriptor(ds), crops: ds.length };
}

/** The identity whose mean is nearest a descriptor, and the distance. */
export function nearest(means: IdentityMean[], d: Float32Array): { name: string; distance: number } {
  let best = { name: '', distance: Infinity };
  for (const m of means) {
    const dist = descriptorDistance(d, m.descriptor);
    if (dist < best.distance) best = { name: m.name, distance: dist };
  }
  return best;
}
