/**
 * src/flags.ts and engine-info (src/info-cli.ts): flags read from the environment once, validated with an error
 * naming the variable, changed through setFlag only with valid values, listed with their variables.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { readFlags, setFlag, flags, listFlags } from '../src/index.js';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../src/info-cli.ts', import.meta.url));

test('flags: defaults, environment values, and errors that name the variable', () => {
  const d = readFlags({});
  assert.equal(d.convActFusion, 'prologue');
  assert.equal(d.splitKTarget, 256);
  const e = readFlags({ FACECOMB_CONV_ACT_FUSION: 'grad', FACECOMB_SPLITK_TARGET: '8', FACECOMB_FADE_BLEND: '0' });
  assert.deepEqual([e.convActFusion, e.splitKTarget, e.fadeBlend], ['grad', 8, false]);
  assert.throws(() => readFlags({ FACECOMB_SPLITK_TARGET: 'many' }), /FACECOMB_SPLITK_TARGET=many: 'many': use a whole number >= 1/);
  assert.throws(() => readFlags({ FACECOMB_SUBGROUP_MATRIX: 'on' }), /FACECOMB_SUBGROUP_MATRIX=on: 'on': use one of off, forward, all/);
  assert.throws(() => setFlag('convActFusion', 'fast' as never), /engine flag convActFusion: 'fast': use one of/);
  assert.throws(() => setFlag('fusedAdam', 'yes' as never), /engine flag fusedAdam: 'yes': use 1 or 0/);
  setFlag('splitKTarget', 4);
  assert.equal(flags.splitKTarget, 4);
  setFlag('splitKTarget', 256);
  const row = listFlags().find((f) => f.name === 'fusedLoss');
  assert.deepEqual(row, { name: 'fusedLoss', value: true, default: true, env: 'FACECOMB_FUSED_LOSS' });
});

test('engine-info lists the flags as the environment set them and the ops per backend, and refuses a malformed flag', async () => {
  const env = { ...process.env, FACECOMB_CONV_ACT_FUSION: 'grad' };
  const { stdout } = await run(process.execPath, ['--import', 'tsx', cli, '--json'], { env });
  const info = JSON.parse(stdout) as { flags: { name: string; value: unknown }[] };
  assert.equal(info.flags.find((f) => f.name === 'convActFusion')?.value, 'grad');
  // with --backend: the engine, and each op with the backends that have a kernel for it
  const withEngine = JSON.parse((await run(process.execPath, ['--import', 'tsx', cli, '--backend', 'cpu', '--json'], { env })).stdout) as {
    engine: { name: string; addedKernels: string[] }; ops: { name: string; backends: string[] }[];
  };
  assert.equal(withEngine.engine.name, 'cpu');
  assert.ok(withEngine.engine.addedKernels.includes('Conv2DBackpropFilter'));
  assert.deepEqual(withEngine.ops.map((o) => o.name).sort(), ['FacecombAdam', 'FacecombConv2DLeakyRelu', 'FacecombFadeBlend', 'FacecombSsimL1Loss']);
  assert.deepEqual(withEngine.ops.find((o) => o.name === 'FacecombConv2DLeakyRelu')?.backends, ['*']);
  await assert.rejects(run(process.execPath, ['--import', 'tsx', cli], { env: { ...env, FACECOMB_FUSED_ADAM: 'maybe' } }),
    (e: { code: number; stderr: string }) => e.code === 2 && /engine-info: FACECOMB_FUSED_ADAM=maybe: 'maybe': use 1 or 0/.test(e.stderr));
});
