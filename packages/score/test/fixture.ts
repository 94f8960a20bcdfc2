import assert from 'node:assert/strict';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createImage, writePng } from '@facecomb/image';
import { footage, ingestClip, tmp, writeMeta } from '../../align/test/helpers.js';
import { runCli, runStage, type StageRun } from '../../align/test/stage.js';
import { frameName } from '@facecomb/stage';

export { footage, tmp };

const cli = (pkg: string) => fileURLToPath(new URL(`../../${pkg}/src/cli.ts`, import.meta.url));

/** Runs the score stage the way the runner does; with `stageCache`, as FACECOMB_STAGE_CACHE. */
export function runScore(out: string, params: Record<string, unknown>, inputs: Record<string, string>, stageCache?: string): Promise<StageRun> {
  // the child's environment is copied when it is spawned, inside this call
  const before = process.env.FACECOMB_STAGE_CACHE;
  if (stageCache) process.env.FACECOMB_STAGE_CACHE = stageCache;
  else delete process.env.FACECOMB_STAGE_CACHE;
  try {
    return runCli(cli('score'), 'score', out, params, inputs);
  } finally {
    if (before === undefined) delete process.env.FACECOMB_STAGE_CACHE;
    else process.env.FACECOMB_STAGE_CACHE = before;
  }
}

export interface Fixture {
  root: string;
  /** The plate: frames of aoc-a (person B), its last frame a grey card with no face. */
  plate: string;
  plateAlign: string;
  /** Identity sets of A (obama) and B (aoc). */
  setA: string;
  setB: string;
  /** Swap outputs made without training: A's aligned crops as B's swapped faces, and B's own crops. */
  swapAB: string;
  copyB: string;
  /** The real blend stage's output of each into the plate (multiband), and of A's faces pasted hard (alpha, no feather). */
  blendAB: string;
  blendCopy: string;
  blendHard: string;
  /** A blend that hands the plate back unchanged: its frames are the plate's frames. */
  blendPlate: string;
}

async function aligned(root: string, name: string, video: string, start: number, count: number, width: number): Promise<{ frames: string; align: string }> {
  const c = await ingestClip(video, join(root, `frames-${name}`), start, count, width);
  const align = join(root, `align-${name}`);
  const r = await runStage('align', align, { size: 64, samples: 1, refine: false, contact: false }, { frames: c.dir });
  assert.equal(r.code, 0, r.stderr);
  return { frames: c.dir, align };
}

/** A swap artifact (docs/ARTIFACTS.md) whose faces are the given crops, one per plate frame with a face. */
async function fakeSwap(dir: string, source: string, plateAlign: string, frames: number[], crops: string[]): Promise<void> {
  await mkdir(join(dir, 'faces'), { recursive: true });
  await mkdir(join(dir, 'masks'), { recursive: true });
  for (let i = 0; i < frames.length; i++) {
    await copyFile(crops[i], join(dir, 'faces', frameName(frames[i])));
    await copyFile(join(plateAlign, 'masks', frameName(frames[i])), join(dir, 'masks', frameName(frames[i])));
  }
  await writeFile(join(dir, 'meta.json'), JSON.stringify({ kind: 'swap', source, size: 64, frames, noFace: [] }));
}

/** A blend artifact (docs/ARTIFACTS.md) whose frames are the plate's own, byte for byte: a blend that keeps nothing of the swap. */
async function plateAsBlend(dir: string, plate: string, frames: number[]): Promise<void> {
  await mkdir(join(dir, 'frames'), { recursive: true });
  for (const f of frames) await copyFile(join(plate, 'frames', frameName(f)), join(dir, 'frames', frameName(f)));
  await writeFile(join(dir, 'meta.json'), JSON.stringify({ kind: 'blend', mode: 'none', frames, count: frames.length, blended: 0, passthrough: frames.length }));
}

/**
 * Real footage, small: 4 frames of A for A's identity set and 4 others for A's faces; 4 frames of B for B's
 * set, and a plate of 4 other frames of B plus one frame with no face; align, dataset and blend are the
 * real stages.
 */
export async function buildFixture(): Promise<Fixture> {
  const root = await tmp('score');
  const obama = footage('obama-train', 'silent_1.01.mp4'), aoc = footage('congress', 'aoc-a.mp4');
  const a1 = await aligned(root, 'a-set', obama, 1, 4, 480);
  const a2 = await aligned(root, 'a-faces', obama, 14, 4, 480);
  const b1 = await aligned(root, 'b-set', aoc, 120, 4, 256);
  // the plate: 4 frames of B, then a grey card
  const c = await ingestClip(aoc, join(root, 'frames-plate'), 1, 4, 256);
  await writePng(join(c.dir, 'frames', frameName(5)), createImage(256, 256, 3, 0.4));
  await writeMeta(c.dir, { source: 'test', fps: 25, width: 256, height: 256, frames: [...c.frames, 5] });
  const plateAlign = join(root, 'align-plate');
  const ra = await runStage('align', plateAlign, { size: 64, samples: 1, refine: false, contact: false }, { frames: c.dir });
  assert.equal(ra.code, 0, ra.stderr);
  const sets: Record<string, string> = {};
  for (const [name, al] of [['A', a1.align], ['B', b1.align]]) {
    sets[name] = join(root, `set-${name}`);
    const r = await runStage('dataset', sets[name], { name }, { clip: al });
    assert.equal(r.code, 0, r.stderr);
  }
  const faces = [1, 2, 3, 4];
  const swapAB = join(root, 'swap-ab'), copyB = join(root, 'copy-b');
  await fakeSwap(swapAB, 'A', plateAlign, faces, [14, 15, 16, 17].map((f) => join(a2.align, 'crops', frameName(f))));
  await fakeSwap(copyB, 'A', plateAlign, faces, faces.map((f) => join(plateAlign, 'crops', frameName(f))));
  const blends: string[] = [];
  for (const [swap, params] of [[swapAB, {}], [copyB, {}], [swapAB, { mode: 'alpha', feather: 0 }]] as const) {
    const out = join(root, `blend-${blends.length}`);
    const r = await runCli(cli('blend'), 'blend', out, params, { plate: c.dir, align: plateAlign, swap });
    assert.equal(r.code, 0, r.stderr);
    blends.push(out);
  }
  const blendPlate = join(root, 'blend-plate');
  await plateAsBlend(blendPlate, c.dir, [...c.frames, 5]);
  return { root, plate: c.dir, plateAlign, setA: sets.A, setB: sets.B, swapAB, copyB, blendAB: blends[0], blendCopy: blends[1], blendHard: blends[2], blendPlate };
}
