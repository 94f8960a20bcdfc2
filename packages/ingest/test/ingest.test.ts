import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createImage, readImage, writePng } from '@facecomb/image';
import { extractFrames, ingest, listSequence, probe } from '../src/index.js';
import { countStreams, footage, makeClip, progressLines, runCli, tmp, writeExr } from './helpers.js';

async function pngs(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.png')).sort();
}

test('ingest CLI: 10 frames of a real video, numbered by source frame, with fps, size and audio recorded', async () => {
  const src = footage('congress/aoc-a.mp4');
  const t = await tmp();
  try {
    const out = join(t.dir, 'out');
    await mkdir(out);
    const r = await runCli('ingest', { out, params: { src, range: [21, 30] } });
    assert.equal(r.code, 0, r.stderr);
    const files = await pngs(join(out, 'frames'));
    assert.deepEqual(files, Array.from({ length: 10 }, (_, i) => `0000${21 + i}.png`));
    const meta = JSON.parse(await readFile(join(out, 'meta.json'), 'utf8'));
    assert.equal(meta.kind, 'ingest');
    assert.equal(meta.fps, 25);
    assert.equal(meta.width, 512);
    assert.equal(meta.height, 512);
    assert.equal(meta.bitDepth, 8);
    assert.deepEqual(meta.frames, Array.from({ length: 10 }, (_, i) => 21 + i));
    assert.equal(meta.first, 21);
    assert.equal(meta.last, 30);
    assert.equal(meta.count, 10);
    assert.equal(meta.duration, 0.4);
    assert.equal(meta.audio, 'audio.m4a');
    const img = await readImage(join(out, 'frames', '000021.png'));
    assert.equal(img.width, 512);
    assert.equal(img.height, 512);
    const audio = await countStreams(join(out, 'audio.m4a'));
    assert.equal(audio.length, 1);
    assert.equal(audio[0].codec_type, 'audio');
    assert.ok(Math.abs(Number(audio[0].duration) - 0.4) < 0.07, `audio lasts ${audio[0].duration}s, the range 0.4s`);
    const prog = progressLines(r.stdout);
    assert.ok(prog.length >= 2, 'progress lines printed');
    assert.deepEqual(prog[prog.length - 1], { done: 10, total: 10, unit: 'frames' });
    assert.match(r.stdout, /::summary \{"frames":10/);

    // the numbering is the source's: frames 21-25 of a decode from frame 1 are the same pixels
    const from1 = join(t.dir, 'from1');
    const res = await extractFrames({ src, outDir: from1, range: [1, 25] });
    assert.equal(res.frames.length, 25);
    for (const n of [21, 25]) {
      const a = await readImage(join(out, 'frames', `0000${n}.png`));
      const b = await readImage(join(from1, `0000${n}.png`));
      assert.deepEqual(a.data, b.data, `frame ${n} differs between range [21, 30] and [1, 25]`);
    }
    const a = await readImage(join(from1, '000020.png'));
    const b = await readImage(join(out, 'frames', '000021.png'));
    assert.notDeepEqual(a.data, b.data, 'frames 20 and 21 should differ (a moving talking head)');
  } finally {
    await t.done();
  }
});

test('ingest: scale limits the size, 16-bit video source gives 16-bit frames', async () => {
  const t = await tmp();
  try {
    const src = join(t.dir, 'deep.mkv');
    // a 10-frame 16-bit RGB video (PNG codec in Matroska), 48x32
    await makeClip(src, { width: 48, height: 32, frames: 10, fps: { num: 10, den: 1 }, codec: 'png', pixFmt: 'rgb48be' });
    const info = await probe(src);
    assert.equal(info.video?.bitDepth, 16);
    const meta = await ingest({ src, out: join(t.dir, 'a'), range: [3, 6], scale: 24 });
    assert.deepEqual(meta.frames, [3, 4, 5, 6]);
    assert.equal(meta.fps, 10);
    assert.equal(meta.bitDepth, 16);
    assert.equal(meta.width, 24);
    assert.equal(meta.height, 16);
    assert.equal(meta.audio, null);
    const img = await readImage(join(t.dir, 'a', 'frames', '000003.png'));
    assert.equal(img.bitDepth, 16);
    assert.equal(img.width, 24);
    // Matroska has no frame count in its header: the packets are counted
    assert.equal(info.video?.frames, 10);
    const all = await ingest({ src, out: join(t.dir, 'all') });
    assert.deepEqual(all.frames, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await assert.rejects(ingest({ src, out: join(t.dir, 'past'), range: [8, 12] }), /range \[8, 12\] ends past the last frame of .*deep\.mkv \(10\)/);
    const eight = await ingest({ src, out: join(t.dir, 'b'), range: [3, 3], bitDepth: 8 });
    assert.equal(eight.bitDepth, 8);
    assert.equal((await readImage(join(t.dir, 'b', 'frames', '000003.png'))).bitDepth, 8);
  } finally {
    await t.done();
  }
});

function pattern(w: number, h: number, n: number): ReturnType<typeof createImage> {
  const img = createImage(w, h, 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      img.data[o] = x / (w - 1);
      img.data[o + 1] = y / (h - 1);
      img.data[o + 2] = ((n * 997 + x * 13 + y * 7) % 1000) / 999; // fine values that 8 bits cannot hold
    }
  }
  return img;
}

test('ingest: image sequences (printf pattern, glob), 8- and 16-bit, range selects by frame number', async () => {
  const t = await tmp();
  try {
    for (let n = 11; n <= 15; n++) {
      await writePng(join(t.dir, `shot.${String(n).padStart(4, '0')}.png`), pattern(40, 30, n), { bitDepth: 8 });
      await writePng(join(t.dir, `deep_${n}.png`), pattern(40, 30, n), { bitDepth: 16 });
    }
    await writeFile(join(t.dir, 'shot.notes.txt'), 'not a frame');
    assert.deepEqual((await listSequence(join(t.dir, 'shot.%04d.png'))).map((f) => f.number), [11, 12, 13, 14, 15]);

    const out8 = join(t.dir, 'out8');
    await mkdir(out8);
    const r = await runCli('ingest', { out: out8, params: { src: 'shot.%04d.png', range: [12, 14], fps: 24 }, pipelineDir: t.dir });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await pngs(join(out8, 'frames')), ['000012.png', '000013.png', '000014.png']);
    const m8 = JSON.parse(await readFile(join(out8, 'meta.json'), 'utf8'));
    assert.equal(m8.fps, 24);
    assert.equal(m8.bitDepth, 8);
    assert.equal(m8.count, 3);
    assert.equal(m8.audio, null);
    assert.equal(m8.width, 40);
    const src13 = await readImage(join(t.dir, 'shot.0013.png'));
    const got13 = await readImage(join(out8, 'frames', '000013.png'));
    assert.deepEqual(got13.data, src13.data);

    const m16 = await ingest({ src: join(t.dir, 'deep_*.png'), out: join(t.dir, 'out16') });
    assert.deepEqual(m16.frames, [11, 12, 13, 14, 15]);
    assert.equal(m16.bitDepth, 16);
    assert.equal(m16.fps, 25);
    const a = await readImage(join(t.dir, 'out16', 'frames', '000014.png'));
    const b = await readImage(join(t.dir, 'deep_14.png'));
    assert.equal(a.bitDepth, 16);
    assert.deepEqual(a.data, b.data, '16-bit samples kept exactly');
    // and the 16-bit values are finer than 8 bits can hold
    assert.ok(Array.from(a.data).some((v) => Math.abs(v * 255 - Math.round(v * 255)) > 0.05));

    await assert.rejects(ingest({ src: join(t.dir, 'none.%04d.png'), out: join(t.dir, 'x') }), /no file in .* matches none\.%04d\.png/);
    await assert.rejects(ingest({ src: join(t.dir, 'shot.%04d.png'), out: join(t.dir, 'y'), range: [5, 12] }), /starts before the first frame .*\(11/);
  } finally {
    await t.done();
  }
});

test('ingest: EXR sequence (linear float) -> 16-bit sRGB PNG proxy and the linear pixels kept', async () => {
  const t = await tmp();
  try {
    for (const n of [1, 2, 3]) await writeExr(join(t.dir, `plate.${String(n).padStart(4, '0')}.exr`), 8, 6, (x) => [0.5, x / 7, n / 4]);
    const meta = await ingest({ src: join(t.dir, 'plate.####.exr'), out: join(t.dir, 'out') });
    assert.deepEqual(meta.frames, [1, 2, 3]);
    assert.equal(meta.bitDepth, 16);
    const img = await readImage(join(t.dir, 'out', 'frames', '000002.png'));
    assert.equal(img.bitDepth, 16);
    const srgb = (v: number) => (v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055);
    for (const x of [0, 3, 7]) {
      const o = (2 * 8 + x) * 3;
      assert.ok(Math.abs(img.data[o] - srgb(0.5)) < 2e-3, `R at x=${x}: ${img.data[o]}`);
      assert.ok(Math.abs(img.data[o + 1] - srgb(x / 7)) < 2e-3, `G at x=${x}: ${img.data[o + 1]}`);
      assert.ok(Math.abs(img.data[o + 2] - srgb(0.5)) < 2e-3, `B at x=${x}: ${img.data[o + 2]}`);
    }
    // a broken EXR names the file and says how to convert
    await writeFile(join(t.dir, 'bad.0001.exr'), Buffer.from('v/1\u0001 not an exr at all'));
    await assert.rejects(ingest({ src: join(t.dir, 'bad.%04d.exr'), out: join(t.dir, 'bad') }), (e: Error) => {
      assert.match(e.message, /cannot read EXR .*bad\.0001\.exr.*FFmpeg says/);
      return true;
    });
  } finally {
    await t.done();
  }
});

test('ingest: a corrupt video names the file and what ffmpeg said; a missing one says not found', async () => {
  const t = await tmp();
  try {
    const bad = join(t.dir, 'x.mp4');
    const bytes = Buffer.alloc(64 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + 13) % 251;
    await writeFile(bad, bytes);
    const out = join(t.dir, 'out');
    await mkdir(out);
    const r = await runCli('ingest', { out, params: { src: 'x.mp4' }, pipelineDir: t.dir });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^error: /m);
    assert.ok(r.stderr.includes(bad), `error names the file: ${r.stderr}`);
    assert.match(r.stderr, /Invalid data found when processing input|moov atom not found/, 'error carries ffmpeg\'s own message');
    await assert.rejects(ingest({ src: bad, out: join(t.dir, 'lib') }), /x\.mp4.*says:.*(Invalid data|moov atom)/);

    const r2 = await runCli('ingest', { out, params: { src: 'missing.mov' }, pipelineDir: t.dir });
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr, new RegExp(`not found: ${join(t.dir, 'missing.mov').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));

    const r3 = await runCli('ingest', { out, params: { src: footage('congress/aoc-a.mp4'), range: [195, 205] } });
    assert.notEqual(r3.code, 0);
    assert.match(r3.stderr, /range \[195, 205\] ends past the last frame .*aoc-a\.mp4 \(200\)/);

    const r4 = await runCli('ingest', { out, params: {} });
    assert.notEqual(r4.code, 0);
    assert.match(r4.stderr, /param 'src' is required/);
  } finally {
    await t.done();
  }
});

test('ingest: mov and avi containers, audio copied (AAC) or re-encoded (PCM) to audio.m4a', async () => {
  const t = await tmp();
  try {
    const cases: Array<[string, string]> = [
      ['clip.mov', 'aac'],
      ['clip.avi', 'pcm_s16le'],
    ];
    for (const [name, audio] of cases) {
      const src = join(t.dir, name);
      await makeClip(src, { width: 64, height: 48, frames: 12, fps: { num: 12, den: 1 }, audio: { codec: audio as 'aac' | 'pcm_s16le', sampleRate: 22050, frequency: 300 } });
      const meta = await ingest({ src, out: join(t.dir, name + '.out') });
      assert.equal(meta.count, 12, name);
      assert.equal(meta.fps, 12, name);
      assert.deepEqual([meta.width, meta.height], [64, 48]);
      assert.equal(meta.audio, 'audio.m4a', name);
      const a = await countStreams(join(t.dir, name + '.out', 'audio.m4a'));
      assert.equal(a[0].codec_name, 'aac', name);
      assert.ok(Math.abs(Number(a[0].duration) - 1) < 0.1, `${name}: audio ${a[0].duration}s`);
    }
  } finally {
    await t.done();
  }
});
