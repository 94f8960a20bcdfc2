import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { frameName, frameNumber, readJson, readJsonOrNull } from '../src/index.js';

test('frame files are named by six digits', () => {
  assert.equal(frameName(12), '000012.png');
  assert.equal(frameName(7, 'json'), '000007.json');
  assert.equal(frameNumber(1234567), '1234567');
});

test('readJson names the file and the reader; readJsonOrNull reads null for a missing or damaged file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'facecomb-stage-json-'));
  try {
    writeFileSync(join(dir, 'ok.json'), '{"kind":"align","frames":[1,2]}');
    writeFileSync(join(dir, 'bad.json'), '{"kind":');
    mkdirSync(join(dir, 'folder.json'));
    assert.deepEqual(await readJson(join(dir, 'ok.json'), 'test'), { kind: 'align', frames: [1, 2] });
    await assert.rejects(readJson(join(dir, 'none.json'), 'score: the plate'), /^Error: score: the plate: \S+none\.json is missing$/);
    await assert.rejects(readJson(join(dir, 'bad.json'), 'swap', 'rerun align'), /^Error: swap: \S+bad\.json is not valid JSON \(.+\); rerun align$/);
    await assert.rejects(readJson(join(dir, 'folder.json'), 'swap'), /swap: \S+folder\.json cannot be read \(EISDIR/);
    assert.deepEqual(readJsonOrNull(join(dir, 'ok.json')), { kind: 'align', frames: [1, 2] });
    assert.equal(readJsonOrNull(join(dir, 'bad.json')), null);
    assert.equal(readJsonOrNull(join(dir, 'none.json')), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
