// The occlusion stage on real footage: a katiehill shot aligned at 64 px, occluders composited onto some of its
// crops (ground truth known), the segmenter trained on the shot; then labels and a bad labels file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { readImage } from '@facecomb/image';
import { join } from 'node:path';
import { ingestClip, footage, tmp } from '../../align/test/helpers.ts';
import { runCli, runStage as runAlign } from '../../align/test/stage.ts';
import { iou, occludeAlign, readMask, readTextures, samplePhotos, formatLabels, rasteriseLabels, type OccludedFrame } from '../src/index.ts';

const cli = new URL('../src/cli.ts', import.meta.url).pathname;
const pad = (n: number): string => String(n).padStart(6, '0');
let root = '';
let frames = '';
let align = '';
let faces: number[] = [];
let occluded: OccludedFrame[] = [];

before(async () => {
  root = await tmp('occlusion');
  frames = (await ingestClip(footage('congress', 'katiehill.mp4'), join(root, 'frames'), 1, 24)).dir;
  const r = await runAlign('align', join(root, 'align'), { size: 64, samples: 1, refine: false, contact: false }, { frames });
  assert.equal(r.code, 0, r.stderr);
  faces = (JSON.parse(await readFile(join(root, 'align', 'meta.json'), 'utf8')) as { withFace: number[] }).withFace;
  assert.equal(faces.length, 24);
  const textures = await readTextures(frames, faces, samplePhotos(), 4, 96);
  align = join(root, 'occluded-align');
  occluded = await occludeAlign(join(root, 'align'), align, faces.filter((_, i) => i % 4 === 1), textures, 5);
});
after(() => rm(root, { recursive: true, force: true }));

const occlusion = (out: string, params: Record<string, unknown>) => runCli(cli, 'occlusion', join(root, out), params, { frames, align }, root);

test('the trained segmenter finds the occluders better than the landmark hull', async () => {
  const r = await occlusion('seg', { size: 32, steps: 150, contact: 4 });
  assert.equal(r.code, 0, r.stderr);
  const out = join(root, 'seg');
  assert.deepEqual((await readdir(join(out, 'masks'))).sort(), faces.map((f) => `${pad(f)}.png`));
  assert.ok(existsSync(join(out, 'contact.png')));
  const report = JSON.parse(await readFile(join(out, 'occlusion.json'), 'utf8')) as { frames: number; fallbacks: number };
  assert.equal(report.frames, 24);
  assert.equal(report.fallbacks, 0);
  let hull = 0;
  let seg = 0;
  for (const o of occluded) {
    hull += iou(await readMask(join(root, 'align', 'masks', `${pad(o.frame)}.png`)), o.truth);
    seg += iou(await readMask(join(out, 'masks', `${pad(o.frame)}.png`)), o.truth);
  }
  assert.ok(seg > hull, `segmenter IoU ${(seg / occluded.length).toFixed(3)} should beat the hull's ${(hull / occluded.length).toFixed(3)}`);
});

test('a labelled frame gets its labels as its mask', async () => {
  const poly = { mode: 'include' as const, points: [[0.2, 0.2], [0.8, 0.25], [0.7, 0.9], [0.3, 0.85]] as [number, number][] };
  const hole = { mode: 'exclude' as const, points: [[0.4, 0.5], [0.9, 0.5], [0.9, 0.9]] as [number, number][] };
  await writeFile(join(root, 'labels.json'), formatLabels({ version: 1, frames: { [pad(faces[3])]: [poly, hole] } }));
  const r = await occlusion('labelled', { size: 64, steps: 2, labels: 'labels.json', contact: false });
  assert.equal(r.code, 0, r.stderr);
  const mask = await readMask(join(root, 'labelled', 'masks', `${pad(faces[3])}.png`));
  assert.deepEqual(Array.from(mask, (v) => Math.round(v * 255)), Array.from(rasteriseLabels([poly, hole], 64)));
  assert.equal((JSON.parse(await readFile(join(root, 'labelled', 'occlusion.json'), 'utf8')) as { labelled: number }).labelled, 1);
});

test('a bad labels file stops the stage with the file, the label and what is wrong', async () => {
  await writeFile(join(root, 'bad.json'), JSON.stringify({ version: 1, frames: { '000999': [] } }));
  const r = await occlusion('bad', { size: 32, steps: 1, labels: 'bad.json' });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /bad\.json: frame 000999 is not a frame of this shot/);
  const r2 = await runCli(cli, 'occlusion', join(root, 'bad2'), { steps: 1 }, { align }, root);
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /occlusion needs exactly one frames stage/);
});

test('a run resumes from the checkpoint its interrupted run left', async () => {
  // the runner keeps FACECOMB_RESUME across interrupted runs of one cache key; a run that got past step 50
  // left its checkpoint there, and the next run of the same key goes on from it
  process.env.FACECOMB_RESUME = join(root, 'resume');
  try {
    const params = { size: 32, steps: 55, contact: false };
    const first = await occlusion('resume-a', params);
    assert.equal(first.code, 0, first.stderr);
    const again = await occlusion('resume-b', params);
    assert.equal(again.code, 0, again.stderr);
    const report = (dir: string) => readFile(join(root, dir, 'occlusion.json'), 'utf8').then((t) => JSON.parse(t) as { resumedFrom: number });
    assert.equal((await report('resume-a')).resumedFrom, 0);
    assert.equal((await report('resume-b')).resumedFrom, 50);
  } finally {
    delete process.env.FACECOMB_RESUME;
  }
});

/** A swap-stage layout for the occluded frames: another frame's crop stands in for the swapped face. */
async function swapLayout(dir: string, which: number[]): Promise<void> {
  await mkdir(join(dir, 'faces'), { recursive: true });
  for (const f of which) await copyFile(join(root, 'align', 'crops', `${pad(faces[(faces.indexOf(f) + 12) % faces.length])}.png`), join(dir, 'faces', `${pad(f)}.png`));
  await writeFile(join(dir, 'meta.json'), JSON.stringify({ kind: 'swap', source: 'other', size: 64, frames: which }));
}

test('blend keeps the plate where the occlusion mask says the face is covered', async () => {
  const swap = join(root, 'swap');
  const which = occluded.map((o) => o.frame);
  await swapLayout(swap, which);
  const blendCli = new URL('../../blend/src/cli.ts', import.meta.url).pathname;
  const inputs = { plate: frames, align, swap };
  const params = { mode: 'alpha', feather: 0 };
  const plain = await runCli(blendCli, 'blend', join(root, 'blend'), params, inputs, root);
  assert.equal(plain.code, 0, plain.stderr);
  const withOccl = await runCli(blendCli, 'blend', join(root, 'blend-occl'), params, { ...inputs, occl: join(root, 'seg') }, root);
  assert.equal(withOccl.code, 0, withOccl.stderr);
  // the mattes are the masks each blend used, in the plate: where the plain blend would paint the face
  // (matte > 0.5) and the occlusion mask says it is covered (matte under 2%), the plate stays within that share
  let kept = 0;
  let least = 1;
  for (const f of which) {
    const read = (dir: string, ch: 1 | 3) => readImage(join(dir, `${pad(f)}.png`), { channels: ch });
    const [plate, blended, m0, m1] = await Promise.all([read(join(frames, 'frames'), 3), read(join(root, 'blend-occl', 'frames'), 3), read(join(root, 'blend', 'mattes'), 1), read(join(root, 'blend-occl', 'mattes'), 1)]);
    for (let i = 0; i < m0.data.length; i++) {
      assert.ok(m1.data[i] <= m0.data[i] + 1e-6, `frame ${f}: the occlusion mask widened the matte at pixel ${i}`);
      if (m0.data[i] < 0.5) continue;
      least = Math.min(least, m1.data[i]);
      if (m1.data[i] > 0.02) continue;
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(blended.data[i * 3 + c] - plate.data[i * 3 + c]) <= m1.data[i] + 1 / 255, `frame ${f}: plate pixel ${i} under the occluder was painted over`);
      kept++;
    }
  }
  assert.ok(kept > 100, `the occlusion stage kept only ${kept} plate pixels the swap would have painted (least matte there ${least})`);
});

test('dataset masks the loss where the occlusion stage says the face is covered', async () => {
  const r = await runAlign('dataset', join(root, 'dataset'), { name: 'shot' }, { align, occl: join(root, 'seg') });
  assert.equal(r.code, 0, r.stderr);
  const items = JSON.parse(await readFile(join(root, 'dataset', 'items.json'), 'utf8')) as { mask: string; frame: number }[];
  assert.equal(items.length, 24);
  let masked = 0;
  let underOccluder = 0;
  for (const o of occluded) {
    const item = items.find((it) => it.frame === o.frame)!;
    const [ds, hull, seg] = await Promise.all([readMask(join(root, 'dataset', item.mask)), readMask(join(root, 'align', 'masks', `${pad(o.frame)}.png`)), readMask(join(root, 'seg', 'masks', `${pad(o.frame)}.png`))]);
    // the dataset's mask (the loss weight) is the hull times the visible face: 0 under the occluder
    for (let i = 0; i < ds.length; i++) assert.ok(Math.abs(ds[i] - hull[i] * seg[i]) <= 1.5 / 255, `frame ${o.frame} pixel ${i}: ${ds[i]} != ${hull[i]} * ${seg[i]}`);
    for (let i = 0; i < ds.length; i++) {
      if (hull[i] < 0.99 || ds[i] > 0.1) continue;
      masked++;
      if (o.matte[i] > 0.5) underOccluder++;
    }
  }
  // the loss is masked inside the face, and mostly where the occluders are
  assert.ok(masked > 50 && underOccluder / masked > 0.6, `${masked} face pixels masked, ${underOccluder} of them under an occluder`);
  const bad = await runAlign('dataset', join(root, 'dataset-bad'), { name: 'shot' }, { other: join(root, 'align'), occl: join(root, 'seg') });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /made from align stage 'align', which is not in its needs \(other\)/);
});
