// VFX delivery through the real ingest, blend and encode stage CLIs (as the runner starts them): a scene-linear
// EXR plate, a 16-bit PNG plate and an 8-bit Rec.709 H.264 plate, each with one generated swapped face (the
// align and swap artifacts are written here in their documented layout). Checks that every pixel outside the
// matte comes back exactly (half floats bit for bit), that the alpha is the matte, and the colour tags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { createImage, invertAffine, readExr, readSamples, toHalf, writeExr, writePng, type Image } from '@facecomb/image';
import { probe } from '@facecomb/ingest';
import { countStreams, makeClip } from '../packages/ingest/test/clips.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const W = 48, H = 32, CROP = 24, FRAMES = [1, 2, 3];
// plate -> crop: the crop is the plate's square at (14, 4), one to one
const MATRIX = [1, 0, -14, 0, 1, -4];

async function stage(pkg: string, kind: string, out: string, params: unknown, inputs: Record<string, string> = {}): Promise<Record<string, unknown>> {
  await mkdir(out, { recursive: true });
  const cli = join(root, 'packages', pkg, 'dist', 'cli.js');
  const r = await execa(process.execPath, [cli, kind], {
    reject: false,
    env: { FACECOMB_OUT: out, FACECOMB_PARAMS: JSON.stringify(params), FACECOMB_INPUTS: JSON.stringify(inputs), FACECOMB_STAGE: kind, FACECOMB_PIPELINE_DIR: out },
  });
  assert.equal(r.exitCode, 0, `${kind}: ${r.stderr}`);
  return JSON.parse(await readFile(join(out, 'meta.json'), 'utf8'));
}

/** An align and a swap artifact: one face per frame, a bright crop and a round mask (soft edge). */
async function fakeFace(dir: string, frames = FRAMES): Promise<{ align: string; swap: string }> {
  const align = join(dir, 'align'), swap = join(dir, 'swap');
  const mask = createImage(CROP, CROP, 1);
  for (let y = 0; y < CROP; y++) for (let x = 0; x < CROP; x++) {
    const r = Math.hypot(x - 11.5, y - 11.5);
    mask.data[y * CROP + x] = r < 7 ? 1 : r < 10 ? (10 - r) / 3 : 0;
  }
  const face = createImage(CROP, CROP, 3);
  for (let i = 0; i < CROP * CROP; i++) face.data.set([0.9, 0.3 + (i % CROP) / 60, 0.2], 3 * i);
  for (const n of frames) {
    const name = String(n).padStart(6, '0');
    await mkdir(join(align, 'faces'), { recursive: true });
    await writeFile(join(align, 'faces', `${name}.json`), JSON.stringify({ frame: n, face: { box: [14, 4, CROP, CROP], score: 1, matrix: MATRIX } }));
    await writePng(join(swap, 'faces', `${name}.png`), face);
    await writePng(join(swap, 'masks', `${name}.png`), mask);
  }
  await writeFile(join(align, 'meta.json'), JSON.stringify({ kind: 'align', size: CROP, frames, withFace: frames, noFace: [] }));
  await writeFile(join(swap, 'meta.json'), JSON.stringify({ kind: 'swap', size: CROP, frames }));
  return { align, swap };
}

async function withTmp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'delivery-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const frame = (n: number) => String(n).padStart(6, '0');

test('EXR plate (scene-linear half, values above 1 and below 0) -> blend in linear light -> EXR: outside the matte bit-exact, alpha = matte, patch', async () => {
  await withTmp(async (dir) => {
    // linear ramps from -0.5 to 40 (highlights far above 1.0), a negative blue, per frame a little different
    const src: Image[] = [];
    for (const n of FRAMES) {
      const img = createImage(W, H, 3);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
        img.data.set([-0.5 + (40.5 * x) / (W - 1), (y / (H - 1)) * 2 + n * 0.001, -0.25 + 0.01 * n], 3 * (y * W + x));
      }
      await writeExr(join(dir, 'src', `plate.${String(1000 + n)}.exr`), img, { compression: 'zip16' });
      src.push((await readExr(join(dir, 'src', `plate.${String(1000 + n)}.exr`))));
    }
    const plate = join(dir, 'plate');
    const pm = await stage('ingest', 'ingest', plate, { src: join(dir, 'src', 'plate.####.exr'), range: [1001, 1003] });
    assert.deepEqual(pm.colour, { primaries: 'bt709', transfer: 'linear', matrix: 'gbr', range: 'pc', bitDepth: 16, sampleType: 'half', linear: true });
    assert.equal(pm.linear, 'linear');
    // the ingested linear frames are the source's pixels, bit for bit
    const lin = await readExr(join(plate, 'linear', '001002.exr'));
    assert.ok(lin.data.every((v, i) => Object.is(v, src[1].data[i])), 'ingest keeps the EXR pixels exactly');

    const faces = await fakeFace(dir, [1001, 1002, 1003]);
    const blend = join(dir, 'blend');
    const bm = await stage('blend', 'blend', blend, { mode: 'alpha', feather: 3 }, { plate, align: faces.align, swap: faces.swap });
    assert.equal(bm.light, 'linear');
    assert.deepEqual(bm.colour, pm.colour);

    const out = join(dir, 'enc');
    const em = await stage('ingest', 'encode', out, { format: ['exr', 'mp4', 'patch'], name: 'sh010', compare: false }, { plate, blend, align: faces.align, swap: faces.swap });
    assert.deepEqual(em.files, ['exr/', 'sh010.mp4', 'patch/']);
    for (const [i, n] of [1001, 1002, 1003].entries()) {
      const exr = await readExr(join(out, 'exr', `sh010.${frame(n)}.exr`));
      assert.equal(exr.channels, 4);
      assert.equal(exr.sampleType, 'half');
      const matte = await readSamples(join(blend, 'mattes', `${frame(n)}.png`), { channels: 1 });
      let outside = 0, inside = 0, above = 0, below = 0;
      for (let p = 0; p < W * H; p++) {
        const m = matte.data[p];
        assert.equal(exr.data[4 * p + 3], toHalf(m / 65535), `alpha at pixel ${p} of frame ${n}`);
        for (let k = 0; k < 3; k++) {
          const v = exr.data[4 * p + k], s = src[i].data[3 * p + k];
          if (m === 0) {
            assert.ok(Object.is(v, s), `frame ${n} pixel ${p} channel ${k}: ${v} is not the plate's ${s}`);
            if (v > 1) above++;
            if (v < 0) below++;
          }
        }
        if (m === 0) outside++;
        else if (m > 32768) inside++;
      }
      assert.ok(outside > 0.5 * W * H && inside > 50, `matte covers ${inside} px over half, leaves ${outside} px`);
      assert.ok(above > 100 && below > 100, 'values above 1.0 and below 0 kept outside the matte');
      // inside the matte: plate + matte x (face - plate), the face linearised (sRGB 0.9 -> 0.7874 in linear light)
      let best = 0;
      for (let p = 0; p < W * H; p++) if (exr.data[4 * p + 3] > exr.data[4 * best + 3]) best = p;
      const a = exr.data[4 * best + 3], s0 = src[i].data[3 * best];
      assert.ok(a > 0.9, `matte peak ${a}`);
      const want = s0 + a * (0.7874 - s0);
      assert.ok(Math.abs(exr.data[4 * best] - want) < 0.01 * Math.max(1, Math.abs(want)), `face red in linear light: ${exr.data[4 * best]}, want ${want}`);
    }
    // patch: the face at crop size with its matte, and the crop -> plate transform
    const pj = JSON.parse(await readFile(join(out, 'patch', 'sh010.001002.json'), 'utf8'));
    assert.deepEqual(pj.size, [CROP, CROP]);
    assert.deepEqual(pj.cropToPlate, invertAffine(MATRIX as never).map((v) => v + 0));
    assert.deepEqual(pj.plate, [W, H]);
    const patch = await readSamples(join(out, 'patch', 'sh010.001002.png'));
    assert.deepEqual([patch.width, patch.height, patch.channels], [CROP, CROP, 4]);
    // the H.264 of a linear plate is its display proxy, tagged as such
    const v = (await countStreams(join(out, 'sh010.mp4')))[0];
    assert.equal(v.nb_read_frames, '3');
    assert.equal(v.colour?.transfer, 13, 'the proxy is tagged sRGB (iec61966-2-1), not linear');
  });
});

test('16-bit PNG plate -> blend -> png16 and tiff16: outside the matte exact, alpha = matte, sRGB tags', async () => {
  await withTmp(async (dir) => {
    for (const n of FRAMES) {
      const img = createImage(W, H, 3);
      for (let i = 0; i < W * H; i++) img.data.set([((i * 7919) % 65536) / 65535, (i % W) / W, n / 7], 3 * i);
      await writePng(join(dir, 'src', `p.${n}.png`), img, { bitDepth: 16 });
    }
    const plate = join(dir, 'plate');
    const pm = await stage('ingest', 'ingest', plate, { src: join(dir, 'src', 'p.*.png') });
    assert.equal(pm.bitDepth, 16);
    assert.equal((pm.colour as { transfer: string }).transfer, 'iec61966-2-1');
    const faces = await fakeFace(dir);
    const blend = join(dir, 'blend');
    await stage('blend', 'blend', blend, { mode: 'multiband' }, { plate, align: faces.align, swap: faces.swap });
    const out = join(dir, 'enc');
    await stage('ingest', 'encode', out, { format: ['png16', 'tiff16'], compare: false }, { plate, blend });
    for (const [fmt, ext] of [['png16', 'png'], ['tiff16', 'tif']]) {
      for (const n of FRAMES) {
        const got = await readSamples(join(out, fmt, `shot.${frame(n)}.${ext}`));
        const plateS = await readSamples(join(plate, 'frames', `${frame(n)}.png`), { channels: 3 });
        const blendS = await readSamples(join(blend, 'frames', `${frame(n)}.png`), { channels: 3 });
        const matte = await readSamples(join(blend, 'mattes', `${frame(n)}.png`), { channels: 1 });
        assert.equal(got.channels, 4, `${fmt} has alpha`);
        assert.ok(got.data instanceof Uint16Array, `${fmt} is 16-bit`);
        let changed = 0;
        for (let p = 0; p < W * H; p++) {
          assert.equal(got.data[4 * p + 3], matte.data[p], `${fmt} alpha at ${p}`);
          for (let k = 0; k < 3; k++) {
            assert.equal(got.data[4 * p + k], blendS.data[3 * p + k], `${fmt} = the blend at ${p}`);
            if (got.data[4 * p + k] !== plateS.data[3 * p + k]) changed++;
          }
        }
        assert.ok(changed > 0, 'the face is in');
      }
      // outside the ROI that multiband may touch (the matte grown by the pyramid), the plate's own samples
      const got = await readSamples(join(out, fmt, `shot.000002.${ext}`));
      const plateS = await readSamples(join(plate, 'frames', '000002.png'), { channels: 3 });
      for (let y = 0; y < H; y++) for (const x of [0, 1, 2, W - 2, W - 1]) {
        for (let k = 0; k < 3; k++) assert.equal(got.data[4 * (y * W + x) + k], plateS.data[3 * (y * W + x) + k], `${fmt} plate kept at (${x}, ${y})`);
      }
    }
    const info = await probe(join(out, 'png16', 'shot.000001.png'));
    assert.equal(info.video?.colour.transfer, 'iec61966-2-1');
    assert.equal(info.video?.colour.primaries, 'bt709');
  });
});

test('8-bit Rec.709 H.264 plate -> blend -> mp4, prores4444 and png: tags kept, alpha = matte, outside exact', async () => {
  await withTmp(async (dir) => {
    const src = join(dir, 'plate.mp4');
    const rec709 = { primaries: 'bt709', transfer: 'bt709', matrix: 'bt709', range: 'tv' };
    await makeClip(src, { width: W, height: H, frames: 3, fps: { num: 24000, den: 1001 }, codec: 'libx264', colour: rec709 });
    const plate = join(dir, 'plate');
    const pm = await stage('ingest', 'ingest', plate, { src });
    assert.deepEqual(pm.colour, { ...rec709, bitDepth: 8, sampleType: 'uint', linear: false });
    assert.equal(pm.fpsRational, '24000/1001');
    const faces = await fakeFace(dir);
    const blend = join(dir, 'blend');
    await stage('blend', 'blend', blend, { mode: 'alpha' }, { plate, align: faces.align, swap: faces.swap });
    const out = join(dir, 'enc');
    await stage('ingest', 'encode', out, { format: ['mp4', 'prores4444', 'png'] }, { plate, blend });
    for (const file of ['shot.mp4', 'shot_4444.mov', 'compare.mp4']) {
      const v = (await countStreams(join(out, file)))[0];
      assert.deepEqual(v.colour, { primaries: 1, transfer: 1, matrix: 1, range: 1 }, `${file} tagged BT.709, limited range`);
      assert.equal(v.nb_read_frames, '3');
      assert.equal(v.r_frame_rate, '24000/1001');
    }
    assert.equal((await countStreams(join(out, 'shot_4444.mov')))[0].pix_fmt, 'yuva444p12le');
    for (const n of FRAMES) {
      const got = await readSamples(join(out, 'png', `shot.${frame(n)}.png`));
      const plateS = await readSamples(join(plate, 'frames', `${frame(n)}.png`), { channels: 3 });
      const matte = await readSamples(join(blend, 'mattes', `${frame(n)}.png`), { channels: 1 });
      assert.ok(got.data instanceof Uint8Array && got.channels === 4);
      for (let p = 0; p < W * H; p++) {
        assert.equal(got.data[4 * p + 3], Math.round(matte.data[p] / 257), `png alpha at ${p}`);
        if (matte.data[p] === 0) for (let k = 0; k < 3; k++) assert.equal(got.data[4 * p + k], plateS.data[3 * p + k], `outside the matte at ${p}`);
      }
    }
    assert.ok(existsSync(join(out, 'compare.png')));
  });
});
