import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readImage, resize, writePng, type Image } from '@facecomb/image';
import { gridLayout, ingest, synthesize, tileOrigin } from '../src/index.js';
import { countStreams, runCli, samplePhoto, tmp } from './helpers.js';
import { frameName } from '@facecomb/stage';

const NAMES = ['ava', 'bea', 'cleo'];
const FRAMES = [1, 2, 3, 5];
const SIZE = 48;
const name = frameName;

/** Each identity's "rendered" face, unlike the crop and the others: its colour channels rotated (k 0, 1) or inverted (k 2). */
function rendered(crop: Image, k: number): Image {
  const data = new Float32Array(crop.data.length);
  for (let i = 0; i < data.length; i += 3) for (let c = 0; c < 3; c++) data[i + c] = k < 2 ? crop.data[i + ((c + k + 1) % 3)] : 1 - crop.data[i + c];
  return { ...crop, data };
}

/**
 * A plate (synth of a sample photo, frame 4 without a face), its align output (crops) and a swap output with
 * source: all (faces/<identity>/), in the layouts of docs/ARTIFACTS.md.
 */
async function fixture(dir: string): Promise<{ plate: string; align: string; swap: string; one: string }> {
  const plate = join(dir, 'plate');
  await synthesize({ image: samplePhoto(6), out: plate, frames: 5, size: [SIZE, SIZE], seed: 3 });
  const align = join(dir, 'align'), swap = join(dir, 'swap'), one = join(dir, 'one');
  for (const f of FRAMES) {
    const crop = await readImage(join(plate, 'frames', name(f)), { channels: 3 });
    await writePng(join(align, 'crops', name(f)), crop);
    for (const [k, n] of NAMES.entries()) await writePng(join(swap, 'faces', n, name(f)), rendered(crop, k));
    await writePng(join(one, 'faces', name(f)), rendered(crop, 0));
  }
  await writeFile(join(align, 'meta.json'), JSON.stringify({ kind: 'align', size: SIZE, fps: 25, frames: [1, 2, 3, 4, 5], withFace: FRAMES, noFace: [4] }));
  const swapMeta = { kind: 'swap', size: SIZE, frames: FRAMES, noFace: [4], resolution: 32 };
  await writeFile(join(swap, 'meta.json'), JSON.stringify({ ...swapMeta, source: 'all', identities: NAMES }));
  await writeFile(join(one, 'meta.json'), JSON.stringify({ ...swapMeta, source: 'ava' }));
  return { plate, align, swap, one };
}

/** Mean absolute difference of a w x h region of `img` at (x, y) and `ref` (w x h). */
function regionDiff(img: Image, x: number, y: number, ref: Image): number {
  let s = 0;
  for (let j = 0; j < ref.height; j++) {
    for (let i = 0; i < ref.width; i++) {
      for (let c = 0; c < 3; c++) s += Math.abs(img.data[((y + j) * img.width + x + i) * 3 + c] - ref.data[(j * ref.width + i) * 3 + c]);
    }
  }
  return s / (ref.width * ref.height * 3);
}

/** The brightest sample of a region (label ink is white on a dark strip). */
function regionMax(img: Image, x: number, y: number, w: number, h: number): number {
  let m = 0;
  for (let j = y; j < y + h; j++) for (let i = x; i < x + w; i++) m = Math.max(m, img.data[(j * img.width + i) * 3]);
  return m;
}

test('encode format grid: the target crop top-left, each identity labelled beside it, one frame per swapped frame', async () => {
  const t = await tmp();
  try {
    const fx = await fixture(t.dir);
    const out = join(t.dir, 'enc');
    await mkdir(out);
    const tile = 64;
    const r = await runCli('encode', { out, params: { name: 'demo', format: 'grid', tile }, inputs: { shot: fx.plate, 'shot-align': fx.align, showcase: fx.swap } });
    assert.equal(r.code, 0, r.stderr);
    const meta = JSON.parse(await readFile(join(out, 'meta.json'), 'utf8'));
    assert.deepEqual(meta.files, ['demo_grid.mp4']);
    assert.deepEqual(meta.grid.identities, NAMES);
    assert.equal(meta.outputs.grid.count, FRAMES.length);

    const layout = gridLayout(1 + NAMES.length, tile);
    assert.equal(layout.cols, 2);
    assert.equal(layout.rows, 2);
    const v = (await countStreams(join(out, 'demo_grid.mp4'))).find((s) => s.codec_type === 'video')!;
    assert.equal(v.codec_name, 'h264');
    assert.equal(Number(v.nb_read_frames), FRAMES.length);
    assert.equal(v.width, layout.width);
    assert.equal(v.height, layout.height);
    assert.equal(v.width % 2 + v.height % 2, 0, 'even dimensions');

    // decode it again and look at the tiles of the second frame (the video's frame 2 is plate frame 2)
    const back = join(t.dir, 'back');
    await ingest({ src: join(out, 'demo_grid.mp4'), out: back });
    const frame = await readImage(join(back, 'frames', name(2)), { channels: 3 });
    const crop = resize(await readImage(join(fx.align, 'crops', name(2)), { channels: 3 }), tile, tile);
    const at = tileOrigin(layout, 0);
    assert.deepEqual(at, { x: 0, y: layout.strip });
    const target = regionDiff(frame, at.x, at.y, crop);
    assert.ok(target < 0.03, `the top-left tile is the target crop (mean difference ${target.toFixed(4)})`);
    for (const k of NAMES.keys()) {
      const o = tileOrigin(layout, k + 1);
      const own = regionDiff(frame, o.x, o.y, rendered(crop, k));
      assert.ok(own < 0.03, `tile ${k + 1} is ${NAMES[k]}'s face (mean difference ${own.toFixed(4)})`);
      assert.ok(regionDiff(frame, o.x, o.y, crop) > 3 * own, `tile ${k + 1} is not the target`);
    }
    // labels: white ink in each strip above a tile, and different names draw different strips
    const strips = [0, 1, 2, 3].map((i) => {
      const o = tileOrigin(layout, i);
      assert.ok(regionMax(frame, o.x, o.y - layout.strip, tile, layout.strip) > 0.8, `label of tile ${i}`);
      const img: Image = { width: tile, height: layout.strip, channels: 3, data: new Float32Array(tile * layout.strip * 3) };
      for (let j = 0; j < layout.strip; j++) img.data.set(frame.data.subarray(((o.y - layout.strip + j) * frame.width + o.x) * 3, ((o.y - layout.strip + j) * frame.width + o.x + tile) * 3), j * tile * 3);
      return img;
    });
    assert.ok(regionDiff(strips[0], 0, 0, strips[1]) > 0.02, "'target' and 'ava' labels differ");
    assert.ok(regionDiff(strips[2], 0, 0, strips[3]) > 0.02, "'bea' and 'cleo' labels differ");
  } finally {
    await t.done();
  }
});

test('encode format grid: a one-source swap or a missing identity face is a clear error; patch refuses source all', async () => {
  const t = await tmp();
  try {
    const fx = await fixture(t.dir);
    const run = (params: unknown, inputs: Record<string, string>) => runCli('encode', { out: join(t.dir, 'out'), params, inputs, stage: 'showcase-grid' });
    const one = await run({ format: 'grid' }, { shot: fx.plate, 'shot-align': fx.align, swap: fx.one });
    assert.equal(one.code, 1);
    assert.match(one.stderr, /stage 'showcase-grid': format grid needs a swap stage with 'source: all' among its needs .*'swap' renders one identity \(source: ava\)/);

    const patch = await run({ format: 'patch' }, { shot: fx.plate, 'shot-align': fx.align, showcase: fx.swap });
    assert.equal(patch.code, 1);
    assert.match(patch.stderr, /format patch reads one swapped face per frame, but swap stage 'showcase' rendered every identity \(source: all\): set that stage's param 'source' to one identity \(one of ava, bea, cleo\)/);

    const tile = await run({ format: 'grid', tile: 63 }, { shot: fx.plate, 'shot-align': fx.align, showcase: fx.swap });
    assert.equal(tile.code, 1);
    assert.match(tile.stderr, /param 'tile' must be an even integer >= 16/);

    await rm(join(fx.swap, 'faces', 'bea', name(3)));
    const missing = await run({ format: 'grid' }, { shot: fx.plate, 'shot-align': fx.align, showcase: fx.swap });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /format grid needs identity 'bea' frame 3: .*bea\/000003\.png is missing; rerun swap stage 'showcase'/);
  } finally {
    await t.done();
  }
});
