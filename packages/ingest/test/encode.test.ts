import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readImage, writePng } from '@facecomb/image';
import { encodeVideo, ingest, synthesize } from '../src/index.js';
import { countStreams, makeClip, runCli, samplePhoto, tmp } from './helpers.js';
import { frameName, frameNumber } from '@facecomb/stage';

test('encodeVideo: 10 frames -> H.264 mp4 with exactly 10 frames at 25 fps, 0.4 s', async () => {
  const t = await tmp();
  try {
    await synthesize({ image: samplePhoto(2), out: join(t.dir, 'syn'), frames: 10, size: [96, 64], seed: 2 });
    const file = join(t.dir, 'shot.mp4');
    const r = await encodeVideo({ framesDir: join(t.dir, 'syn', 'frames'), out: file, fps: 25 });
    assert.equal(r.count, 10);
    const streams = await countStreams(file);
    assert.equal(streams.length, 1, 'no audio without a plate');
    const v = streams[0];
    assert.equal(v.codec_name, 'h264');
    assert.equal(v.pix_fmt, 'yuv420p');
    assert.equal(Number(v.nb_read_frames), 10);
    assert.equal(v.r_frame_rate, '25/1');
    assert.ok(Math.abs(Number(v.duration) - 0.4) < 1e-3, `duration ${v.duration}`);
    assert.equal(v.width, 96);
    assert.equal(v.height, 64);

    // odd sizes are padded to even for yuv420p; frames with gaps are encoded in order
    const gappy = join(t.dir, 'gappy');
    await mkdir(gappy);
    const img = await readImage(join(t.dir, 'syn', 'frames', '000001.png'));
    const odd = { ...img, width: 95, height: 63, data: new Float32Array(95 * 63 * 3).fill(0.5) };
    for (const n of [3, 4, 7]) await writePng(join(gappy, `00000${n}.png`), odd);
    const r2 = await encodeVideo({ framesDir: gappy, out: join(t.dir, 'gappy.mp4'), fps: '30000/1001' });
    const s2 = (await countStreams(join(t.dir, 'gappy.mp4')))[0];
    assert.equal(Number(s2.nb_read_frames), 3);
    assert.equal(s2.r_frame_rate, '30000/1001');
    assert.equal(s2.width, 96);
    assert.equal(r2.count, 3);
    assert.deepEqual((await readdir(t.dir)).filter((f) => f.startsWith('.')), [], 'no scratch folder left beside the output');
  } finally {
    await t.done();
  }
});

test('encode CLI: blend frames + plate with audio -> mp4 with audio, compare.mp4 and compare.png', async () => {
  const t = await tmp();
  try {
    // a plate with audio: 2 s of test pictures at 25 fps and a 440 Hz tone
    const plateSrc = join(t.dir, 'plate.mp4');
    await makeClip(plateSrc, { width: 80, height: 60, frames: 50, fps: { num: 25, den: 1 }, audio: { codec: 'aac', sampleRate: 44100, frequency: 440 } });
    const plate = join(t.dir, 'plate');
    await mkdir(plate);
    const ri = await runCli('ingest', { out: plate, params: { src: plateSrc, range: [6, 15] } });
    assert.equal(ri.code, 0, ri.stderr);
    const pm = JSON.parse(await readFile(join(plate, 'meta.json'), 'utf8'));
    assert.equal(pm.audio, 'audio.m4a');
    // a "blend" stage: the plate frames, darkened
    const blend = join(t.dir, 'blend');
    await mkdir(join(blend, 'frames'), { recursive: true });
    for (const n of pm.frames as number[]) {
      const img = await readImage(join(plate, 'frames', frameName(n)), { channels: 3 });
      for (let i = 0; i < img.data.length; i++) img.data[i] *= 0.5;
      await writePng(join(blend, 'frames', frameName(n)), img);
    }
    await writeFile(join(blend, 'meta.json'), JSON.stringify({ kind: 'blend', fps: 25, width: 80, height: 60, frames: pm.frames, bitDepth: 8 }));

    const out = join(t.dir, 'enc');
    await mkdir(out);
    const r = await runCli('encode', { out, params: { name: 'final' }, inputs: { 'target-frames': plate, blend } });
    assert.equal(r.code, 0, r.stderr);
    const meta = JSON.parse(await readFile(join(out, 'meta.json'), 'utf8'));
    assert.equal(meta.kind, 'encode');
    assert.equal(meta.fps, 25);
    assert.equal(meta.count, 10);
    assert.equal(meta.duration, 0.4);
    assert.deepEqual(meta.files, ['final.mp4', 'compare.mp4', 'compare.png']);
    assert.equal(meta.audio, true);
    assert.equal(meta.plate, 'target-frames');

    const streams = await countStreams(join(out, 'final.mp4'));
    const v = streams.find((s) => s.codec_type === 'video')!;
    const a = streams.find((s) => s.codec_type === 'audio');
    assert.ok(a, 'the output carries the plate audio');
    assert.equal(a.codec_name, 'aac');
    assert.ok(Math.abs(Number(a.duration) - 0.4) < 0.05, `audio trimmed to the video: ${a.duration}s`);
    assert.equal(Number(v.nb_read_frames), 10);
    assert.equal(v.r_frame_rate, '25/1');
    assert.ok(Math.abs(Number(v.duration) - 0.4) < 1e-3);

    const cmp = await countStreams(join(out, 'compare.mp4'));
    const cv = cmp.find((s) => s.codec_type === 'video')!;
    assert.equal(cv.width, 160, 'plate | swap side by side');
    assert.equal(cv.height, 60);
    assert.equal(Number(cv.nb_read_frames), 10);
    assert.ok(cmp.some((s) => s.codec_type === 'audio'));
    const sheet = await readImage(join(out, 'compare.png'));
    assert.equal(sheet.width, 4 * 80 + 5 * 4);
    assert.equal(sheet.height, 2 * 60 + 3 * 4);
    // top row (plate) is brighter than the bottom row (the darkened "swap")
    const rowMean = (y0: number) => {
      let s = 0;
      for (let y = y0; y < y0 + 60; y++) for (let x = 4; x < 84; x++) s += sheet.data[(y * sheet.width + x) * 3];
      return s / (60 * 80);
    };
    assert.ok(rowMean(4) > rowMean(68) * 1.5);

    // ProRes and PNG formats
    const outP = join(t.dir, 'prores');
    await mkdir(outP);
    const rp = await runCli('encode', { out: outP, params: { format: 'prores', compare: false }, inputs: { plate, blend } });
    assert.equal(rp.code, 0, rp.stderr);
    const ps = await countStreams(join(outP, 'shot.mov'));
    const pv = ps.find((s) => s.codec_type === 'video')!;
    assert.equal(pv.codec_name, 'prores');
    assert.equal(Number(pv.nb_read_frames), 10);
    assert.ok(ps.some((s) => s.codec_type === 'audio'));
    assert.deepEqual(JSON.parse(await readFile(join(outP, 'meta.json'), 'utf8')).files, ['shot.mov']);

    const outPng = join(t.dir, 'png');
    await mkdir(outPng);
    const rpng = await runCli('encode', { out: outPng, params: { format: 'png', compare: false }, inputs: { plate, blend } });
    assert.equal(rpng.code, 0, rpng.stderr);
    assert.deepEqual((await readdir(join(outPng, 'png'))).sort(), (pm.frames as number[]).map((n) => `shot.${frameNumber(n)}.png`));

    // two plates and no 'plate' param: the error says what to set
    const outE = join(t.dir, 'err');
    await mkdir(outE);
    const re = await runCli('encode', { out: outE, params: {}, inputs: { a: plate, b: plate, blend } });
    assert.notEqual(re.code, 0);
    assert.match(re.stderr, /plate: <stage>/);
    const re2 = await runCli('encode', { out: outE, params: {}, inputs: {} });
    assert.notEqual(re2.code, 0);
    assert.match(re2.stderr, /needs a stage with frames\//);
  } finally {
    await t.done();
  }
});

test('encode: a plate ingested from a still-photo synth round-trips through ingest', async () => {
  const t = await tmp();
  try {
    await synthesize({ image: samplePhoto(3), out: join(t.dir, 'syn'), frames: 8, size: [64, 64], fps: 12 });
    const out = join(t.dir, 'enc');
    await mkdir(out);
    const r = await runCli('encode', { out, params: {}, inputs: { shot: join(t.dir, 'syn') } });
    assert.equal(r.code, 0, r.stderr);
    // read the video back with ingest: 8 frames at 12 fps, 64x64, no audio
    const back = await ingest({ src: join(out, 'shot.mp4'), out: join(t.dir, 'back') });
    assert.equal(back.count, 8);
    assert.equal(back.fps, 12);
    assert.equal(back.width, 64);
    assert.equal(back.audio, null);
    const a = await readImage(join(t.dir, 'syn', 'frames', '000005.png'));
    const b = await readImage(join(t.dir, 'back', 'frames', '000005.png'));
    let err = 0;
    for (let i = 0; i < a.data.length; i++) err += Math.abs(a.data[i] - b.data[i]);
    assert.ok(err / a.data.length < 0.05, `frame 5 after H.264 at crf 18 is off by ${err / a.data.length}`);
    assert.ok((await stat(join(out, 'shot.mp4'))).size > 0);
  } finally {
    await t.done();
  }
});
