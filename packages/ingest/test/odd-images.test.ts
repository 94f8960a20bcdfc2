// Images a renderer or a damaged card can hand over: EXR frames with NaN/inf samples (ingested, counted,
// warned on) and a PNG whose header claims 100000x100000 pixels (refused before decoding, naming the file).
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { readExr } from '@facecomb/image';
import { runCli, tmp, writeExr } from './helpers.js';

test('an EXR sequence with NaN and infinite samples: ingested as they are, counted and warned on once', async () => {
  const t = await tmp();
  try {
    await writeExr(join(t.dir, 'plate.0001.exr'), 4, 4, (x, y) => (x === 0 && y === 0 ? [NaN, Infinity, 0.5] : x === 3 && y === 3 ? [-Infinity, 0.2, 0.3] : [0.5, 0.5, 0.5]));
    await writeExr(join(t.dir, 'plate.0002.exr'), 4, 4, () => [0.5, 0.5, 0.5]);
    const out = join(t.dir, 'out');
    await mkdir(out);
    const r = await runCli('ingest', { out, params: { src: 'plate.####.exr' }, pipelineDir: t.dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.match(/warning: .*NaN/g)?.length, 1, r.stderr);
    assert.match(r.stderr, /warning: 1 of 2 EXR frame\(s\) hold NaN or infinite values \(3 samples; first in \S+plate\.0001\.exr\)/);
    const kept = await readExr(join(out, 'linear', '000001.exr'));
    assert.ok(Number.isNaN(kept.data[0]) && kept.data[1] === Infinity, 'the linear copy keeps them');
  } finally {
    await t.done();
  }
});

test('a PNG whose header claims 100000x100000 pixels is refused before decoding, naming the file', async () => {
  const t = await tmp();
  try {
    const png = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } }).png().toBuffer();
    // IHDR: width and height at bytes 16-23, its CRC (over type + data) at 29
    png.writeUInt32BE(100000, 16);
    png.writeUInt32BE(100000, 20);
    png.writeUInt32BE(crc32(png.subarray(12, 29)) >>> 0, 29);
    await writeFile(join(t.dir, 'huge.0001.png'), png);
    const out = join(t.dir, 'out');
    await mkdir(out);
    const r = await runCli('ingest', { out, params: { src: 'huge.####.png' }, pipelineDir: t.dir });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot read image \S+huge\.0001\.png: 100000x100000 pixels \(10000 Mpx\) is more than the 268\.\d+ Mpx this reads/);
  } finally {
    await t.done();
  }
});
