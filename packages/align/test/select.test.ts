import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { footage, ingestClip, tmp, writeMeta } from './helpers.js';
import { runStage } from './stage.js';
import type { FaceRecord } from '../src/index.js';
import { frameNumber } from '@facecomb/stage';

const name = frameNumber;

// No clip shows two people, so make one: each frame is an aoc-a frame (left) beside the same-numbered
// katiehill frame (right). A reference photo of one of them, from elsewhere in her own clip, must pick her
// in every frame.
describe('two people in the shot: the face nearest the reference is the one aligned', () => {
  let root: string;
  let pair: string;
  const frames = [41, 42, 43, 44, 45, 46];

  before(async () => {
    root = await tmp('pair');
    const a = await ingestClip(footage('congress', 'aoc-a.mp4'), join(root, 'a'), frames[0], frames.length);
    const k = await ingestClip(footage('congress', 'katiehill.mp4'), join(root, 'k'), frames[0], frames.length);
    pair = join(root, 'pair');
    await mkdir(join(pair, 'frames'), { recursive: true });
    for (const f of frames) {
      await sharp({ create: { width: 1024, height: 512, channels: 3, background: { r: 0, g: 0, b: 0 } } })
        .composite([{ input: join(a.dir, 'frames', `${name(f)}.png`), left: 0, top: 0 }, { input: join(k.dir, 'frames', `${name(f)}.png`), left: 512, top: 0 }])
        .png()
        .toFile(join(pair, 'frames', `${name(f)}.png`));
    }
    await writeMeta(pair, { source: 'aoc-a | katiehill', fps: 25, width: 1024, height: 512, frames });
    // references: a frame from much later in each clip
    await ingestClip(footage('congress', 'aoc-a.mp4'), join(root, 'ref-a'), 170, 1);
    await ingestClip(footage('congress', 'katiehill.mp4'), join(root, 'ref-k'), 170, 1);
  });

  after(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  for (const [who, ref, side] of [['aoc-a', 'ref-a/frames/000170.png', 'left'], ['katiehill', 'ref-k/frames/000170.png', 'right']] as const) {
    test(`reference of ${who}: every frame picks the ${side} face`, async () => {
      const out = join(root, `out-${who}`);
      const r = await runStage('align', out, { select: 'reference', reference: ref, size: 64, samples: 2, contact: false }, { frames: pair }, root);
      assert.equal(r.code, 0, r.stderr);
      for (const f of frames) {
        const rec = JSON.parse(await readFile(join(out, 'faces', `${name(f)}.json`), 'utf8')) as FaceRecord;
        assert.ok(rec.face, `frame ${f} has a face`);
        const cx = rec.face.box[0] + rec.face.box[2] / 2;
        assert.ok(side === 'left' ? cx < 512 : cx > 512, `frame ${f}: box centre x ${cx} should be on the ${side}`);
        const lx = rec.face.landmarks.reduce((s, p) => s + p[0], 0) / 68;
        assert.ok(side === 'left' ? lx < 512 : lx > 512, `frame ${f}: landmarks on the ${side}`);
      }
    });
  }
});
