import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readStageEnv, needInput, parseReportLine, StageEnvError } from '../src/index.js';

test('readStageEnv parses params and inputs from the environment', () => {
  const env = readStageEnv(['ingest'], {
    FACECOMB_OUT: '/tmp/x',
    FACECOMB_PARAMS: '{"src":"a.mp4","range":[1,5]}',
    FACECOMB_INPUTS: '{"frames":"/c/1"}',
    FACECOMB_STAGE: 'plate',
    FACECOMB_PIPELINE_DIR: '/p',
  });
  assert.equal(env.kind, 'ingest');
  assert.equal(env.stage, 'plate');
  assert.deepEqual(env.params, { src: 'a.mp4', range: [1, 5] });
  assert.equal(needInput(env, 'frames'), '/c/1');
  assert.throws(() => needInput(env, 'align'), /needs an input from stage 'align'.*\[frames\]/);
});

test('readStageEnv names the variable that is wrong', () => {
  assert.throws(() => readStageEnv(['x'], {}), StageEnvError);
  assert.throws(() => readStageEnv(['x'], { FACECOMB_OUT: '/o', FACECOMB_PARAMS: '{bad' }), /FACECOMB_PARAMS is not valid JSON/);
  assert.throws(() => readStageEnv(['x'], { FACECOMB_OUT: '/o', FACECOMB_PARAMS: '[1]' }), /must be a JSON object/);
});

test('parseReportLine reads protocol lines and ignores others', () => {
  assert.deepEqual(parseReportLine('::progress {"done":3,"total":10}'), { type: 'progress', value: { done: 3, total: 10 } });
  assert.equal(parseReportLine('frame 3 of 10'), null);
  assert.equal(parseReportLine('::progress {oops'), null);
});
