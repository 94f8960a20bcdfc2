import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readStageEnv, needInput, chunkFrames, parseReportLine, StageEnvError } from '../src/index.js';

test('readStageEnv parses params and inputs from the environment', () => {
  const env = readStageEnv(['ingest'], {
    FACECOMB_OUT: '/tmp/x',
    FACECOMB_PARAMS: '{"src":"a.mp4","range":[1,5]}',
    FACECOMB_INPUTS: '{"frames":"/c/1"}',
    FACECOMB_STAGE: 'plate',
    FACECOMB_PIPELINE_DIR: '/p',
    FACECOMB_STAGE_CACHE: '/c/stage-cache/ingest',
  });
  assert.equal(env.kind, 'ingest');
  assert.equal(env.stageCache, '/c/stage-cache/ingest');
  assert.equal(readStageEnv(['ingest'], { FACECOMB_OUT: '/o' }).stageCache, undefined);
  assert.equal(env.stage, 'plate');
  assert.deepEqual(env.params, { src: 'a.mp4', range: [1, 5] });
  assert.equal(needInput(env, 'frames'), '/c/1');
  assert.throws(() => needInput(env, 'align'), /needs an input from stage 'align'.*\[frames\]/);
});

test('readStageEnv names the variable that is wrong', () => {
  assert.throws(() => readStageEnv(['x'], {}), StageEnvError);
  assert.throws(() => readStageEnv(['x'], { FACECOMB_OUT: '/o', FACECOMB_PARAMS: '{bad' }), /FACECOMB_PARAMS is not valid JSON/);
  assert.throws(() => readStageEnv(['x'], { FACECOMB_OUT: '/o', FACECOMB_PARAMS: '[1]' }), /must be a JSON object/);
  assert.throws(() => readStageEnv(['x'], { FACECOMB_OUT: '/o', FACECOMB_FRAMES: '9-3' }), /FACECOMB_FRAMES must be FIRST-LAST frame numbers \(e\.g\. 1001-1050\), got '9-3'/);
});

test('a frame chunk: FACECOMB_FRAMES selects the frames a per-frame stage computes', () => {
  const env = readStageEnv(['blend'], { FACECOMB_OUT: '/o', FACECOMB_FRAMES: '1003-1005' });
  assert.deepEqual(env.frames, { first: 1003, last: 1005 });
  assert.deepEqual(chunkFrames(env, [1001, 1002, 1003, 1004, 1005, 1006]), [1003, 1004, 1005]);
  assert.deepEqual(chunkFrames(readStageEnv(['blend'], { FACECOMB_OUT: '/o' }), [1, 2]), [1, 2]);
});

test('parseReportLine reads protocol lines and ignores others', () => {
  assert.deepEqual(parseReportLine('::progress {"done":3,"total":10}'), { type: 'progress', value: { done: 3, total: 10 } });
  assert.equal(parseReportLine('frame 3 of 10'), null);
  assert.equal(parseReportLine('::progress {oops'), null);
});

test('readUpstream reads each needed stage\'s meta.json and its kind', async () => {
  const { mkdtemp, mkdir, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { readUpstream } = await import('../src/index.js');
  const root = await mkdtemp(join(tmpdir(), 'fc-up-'));
  try {
    for (const d of ['a', 'b', 'c']) await mkdir(join(root, d));
    await writeFile(join(root, 'a', 'meta.json'), '{"kind":"align","size":64}');
    await writeFile(join(root, 'c', 'meta.json'), '{oops');
    const ok = await readUpstream({ first: join(root, 'a'), second: join(root, 'b') });
    assert.deepEqual(ok.map((u) => [u.name, u.kind, u.hasMeta]), [['first', 'align', true], ['second', undefined, false]]);
    assert.equal(ok[0].meta.size, 64);
    await assert.rejects(readUpstream({ third: join(root, 'c') }), /stage 'third': .*c\/meta\.json is not valid JSON/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
