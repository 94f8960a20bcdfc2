// A swap stage run with `source: all` (faces/<identity>/, every decoder) is refused by the stages that read one
// swapped face per frame (blend, score), with the swap param to set; the same stages with a one-source swap pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findInputs as blendInputs } from '@facecomb/blend';
import { findInputs as scoreInputs } from '@facecomb/score';

/** Needed-stage folders holding only a meta.json each, by stage name. */
async function metaOnly(root: string, metas: Record<string, Record<string, unknown>>): Promise<Record<string, string>> {
  const dirs: Record<string, string> = {};
  for (const [name, meta] of Object.entries(metas)) {
    dirs[name] = join(root, name);
    await mkdir(dirs[name]);
    await writeFile(join(dirs[name], 'meta.json'), JSON.stringify(meta));
  }
  return dirs;
}

test("blend and score refuse a swap stage run with source: all, naming the swap's 'source' param", async () => {
  const root = await mkdtemp(join(tmpdir(), 'facecomb-source-all-'));
  try {
    const d = await metaOnly(root, {
      shot: { kind: 'synth', width: 96, height: 96 },
      'shot-align': { kind: 'align', size: 48, faceType: 'wholeface' },
      ava: { kind: 'dataset', name: 'ava', faceType: 'wholeface' },
      bea: { kind: 'dataset', name: 'bea', faceType: 'wholeface' },
      swap: { kind: 'swap', source: 'ava', size: 48, frames: [1] },
      showcase: { kind: 'swap', source: 'all', identities: ['ava', 'bea'], size: 48, frames: [1] },
    });
    const one = { shot: d.shot, 'shot-align': d['shot-align'], ava: d.ava, bea: d.bea, swap: d.swap };
    const all = { shot: d.shot, 'shot-align': d['shot-align'], ava: d.ava, bea: d.bea, showcase: d.showcase };
    assert.equal((await blendInputs(one, {})).swap, d.swap);
    assert.equal((await scoreInputs(one, {})).source, 'ava');
    const refusal = (reader: string) =>
      new RegExp(`${reader} reads one swapped face per frame, but swap stage 'showcase' rendered every identity \\(source: all\\): set that stage's param 'source' to one identity \\(one of ava, bea\\)`);
    await assert.rejects(blendInputs(all, {}), refusal('blend'));
    await assert.rejects(scoreInputs(all, {}), refusal('score'));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
