import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createImage, readImage, writePng, warpAffine, invertAffine, composeAffine, resize, type Affine } from '../src/index.js';

function gradient(w: number, h: number): ReturnType<typeof createImage> {
  const img = createImage(w, h, 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const o = (y * w + x) * 3;
    img.data[o] = x / (w - 1); img.data[o + 1] = y / (h - 1); img.data[o + 2] = 0.5;
  }
  return img;
}

test('PNG round trip keeps 16-bit precision and 8-bit within a quantum', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fc-img-'));
  try {
    const img = gradient(37, 21);
    await writePng(join(dir, 'a16.png'), img, { bitDepth: 16 });
    const back16 = await readImage(join(dir, 'a16.png'));
    assert.equal(back16.bitDepth, 16);
    assert.equal(back16.channels, 3);
    let max16 = 0;
    for (let i = 0; i < img.data.length; i++) max16 = Math.max(max16, Math.abs(img.data[i] - back16.data[i]));
    assert.ok(max16 <= 0.5 / 65535 + 1e-7, `16-bit error ${max16}`);
    await writePng(join(dir, 'a8.png'), img);
    const back8 = await readImage(join(dir, 'a8.png'));
    assert.equal(back8.bitDepth, 8);
    let max8 = 0;
    for (let i = 0; i < img.data.length; i++) max8 = Math.max(max8, Math.abs(img.data[i] - back8.data[i]));
    assert.ok(max8 <= 0.5 / 255 + 1e-6 && max8 > 0.5 / 65535, `8-bit error ${max8}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a one-channel image is written as a one-channel PNG at 8 and 16 bit', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fc-img-'));
  try {
    const img = createImage(9, 5, 1);
    for (let i = 0; i < img.data.length; i++) img.data[i] = i / (img.data.length - 1);
    for (const bitDepth of [8, 16] as const) {
      await writePng(join(dir, `g${bitDepth}.png`), img, { bitDepth });
      const back = await readImage(join(dir, `g${bitDepth}.png`));
      assert.equal(back.channels, 1);
      assert.equal(back.bitDepth, bitDepth);
      assert.ok(Math.abs(back.data[44] - 1) < 1e-6 && back.data[0] === 0);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('readImage of a missing or corrupt file names the file', async () => {
  await assert.rejects(readImage('/nonexistent/x.png'), /\/nonexistent\/x\.png/);
});

test('warpAffine by a matrix and then by its inverse returns the image (no half-pixel shift)', () => {
  const img = gradient(64, 48);
  const th = 0.2, s = 1.3;
  const m: Affine = [s * Math.cos(th), -s * Math.sin(th), 5.5, s * Math.sin(th), s * Math.cos(th), -3.25];
  const fwd = warpAffine(img, m, 120, 100);
  const back = warpAffine(fwd, invertAffine(m), 64, 48);
  let err = 0, n = 0;
  for (let y = 12; y < 36; y++) for (let x = 12; x < 52; x++) for (let k = 0; k < 3; k++) {
    err += Math.abs(back.data[(y * 64 + x) * 3 + k] - img.data[(y * 64 + x) * 3 + k]); n++;
  }
  assert.ok(err / n < 2e-3, `mean error ${err / n}`);
  // a pure translation by an integer is exact
  const t = warpAffine(img, [1, 0, 2, 0, 1, 1], 64, 48);
  assert.equal(t.data[(5 * 64 + 7) * 3], img.data[(4 * 64 + 5) * 3]);
});

test('composeAffine applies the right matrix last', () => {
  const a: Affine = [2, 0, 1, 0, 2, 0];
  const b: Affine = [1, 0, 3, 0, 1, 4];
  const ab = composeAffine(b, a); // x -> 2x+1 -> +3
  assert.deepEqual(ab, [2, 0, 4, 0, 2, 4]);
});

test('resize keeps a constant image constant and averages when shrinking', () => {
  const img = createImage(10, 10, 1, 0.25);
  const r = resize(img, 3, 7);
  for (const v of r.data) assert.ok(Math.abs(v - 0.25) < 1e-6);
  const chk = createImage(8, 8, 1);
  for (let i = 0; i < 64; i++) chk.data[i] = ((i % 8) + Math.floor(i / 8)) % 2;
  const half = resize(chk, 2, 2);
  for (const v of half.data) assert.ok(Math.abs(v - 0.5) < 0.1, `${v}`);
});

test('EXR: half floats round-trip bit for bit (values above 1, negative, tiny), alpha kept, float samples rounded to the nearest half', async () => {
  const { readExr, writeExr, toHalf, halfTable } = await import('../src/index.js');
  const dir = await mkdtemp(join(tmpdir(), 'exr-'));
  try {
    const w = 7, h = 5;
    const img = createImage(w, h, 3);
    const values = [0, 0.5, 1, 1.5, 40.25, 65504, -0.25, -3, 1e-5, 0.1, 1 / 3];
    for (let i = 0; i < img.data.length; i++) img.data[i] = values[i % values.length] * (1 + (i % 5) * 0.1);
    const alpha = createImage(w, h, 1);
    for (let i = 0; i < w * h; i++) alpha.data[i] = i / (w * h - 1);
    await writeExr(join(dir, 'a.exr'), img, { alpha });
    const a = await readExr(join(dir, 'a.exr'));
    assert.deepEqual([a.width, a.height, a.channels, a.sampleType], [w, h, 4, 'half']);
    for (let p = 0; p < w * h; p++) {
      for (let k = 0; k < 3; k++) assert.equal(a.data[4 * p + k], toHalf(img.data[3 * p + k]), `pixel ${p} channel ${k}`);
      assert.equal(a.data[4 * p + 3], toHalf(alpha.data[p]));
    }
    assert.ok(a.data.some((v) => v > 1000) && a.data.some((v) => v < -1), 'range kept');
    // what was read writes back identically
    await writeExr(join(dir, 'b.exr'), a);
    const b = await readExr(join(dir, 'b.exr'));
    assert.ok(b.data.every((v, i) => Object.is(v, a.data[i])));
    // nearest half: 0.3 -> 0.300048828125 (truncation, as FFmpeg's encoder alone does, gives 0.2998046875)
    assert.equal(toHalf(0.3), 0.300048828125);
    assert.equal(halfTable()[0x3c00], 1);
    await assert.rejects(readExr(join(dir, 'missing.exr')), /cannot read EXR .*missing\.exr: file not found/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('drawText: the built-in font draws labels, upper-casing, clipped at the edges', async () => {
  const { drawText, textWidth } = await import('../src/index.js');
  const img = createImage(40, 12, 3, 0);
  drawText(img, 'Hi', 1, 2, [1, 0.5, 0]);
  const on = (x: number, y: number) => img.data[(y * 40 + x) * 3] === 1;
  // 'H': both verticals of the first row and the full bar of the fourth row; 'I' starts at x = 1 + 6
  assert.ok(on(1, 2) && on(5, 2) && !on(3, 2));
  assert.ok([1, 2, 3, 4, 5].every((x) => on(x, 5)));
  assert.ok(on(8, 2) && on(9, 2) && on(10, 2) && !on(7, 3) && on(9, 4));
  assert.equal(img.data[(2 * 40 + 1) * 3 + 1], 0.5);
  assert.equal(textWidth('Hi'), 11);
  assert.equal(textWidth('Hi', 2), 22);
  // off the image: nothing thrown, nothing wrapped
  drawText(img, 'WWWWWWWW', 30, 8, [1, 1, 1]);
  assert.ok(!on(0, 9));
});
