import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tf, initEngine, engineInfo, AUTO_ORDER, wasmBinaryDir, webgpuRequired } from '../src/index.js';

/** `initEngine({ backend: 'auto' })` in a fresh process (auto keeps an engine already chosen in this one). */
function autoInFreshProcess(env: NodeJS.ProcessEnv = {}): { name: string; skipped: { name: string; why: string }[]; lines: string[] } {
  const script = `
    import { initEngine } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};
    const lines = [];
    const r = await initEngine({ backend: 'auto', log: (m) => lines.push(m) });
    console.log(JSON.stringify({ name: r.name, skipped: r.skipped, lines }));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'],
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

test('auto picks the first engine that initialises and logs why the others were skipped', async () => {
  const lines: string[] = [];
  const choice = await initEngine({ backend: 'auto', log: (m) => lines.push(m) });
  assert.ok(AUTO_ORDER.includes(choice.name), `unexpected engine ${choice.name}`);
  assert.equal(tf.getBackend(), choice.name);
  // Every engine before the chosen one in the auto order was tried and skipped with a reason.
  const before = AUTO_ORDER.slice(0, AUTO_ORDER.indexOf(choice.name));
  assert.deepEqual(choice.skipped.map((s) => s.name), before);
  for (const s of choice.skipped) {
    assert.ok(s.why.length > 10, `skip reason for ${s.name} is empty`);
    assert.ok(lines.some((l) => l.startsWith(`skipped ${s.name}:`) && l.includes(s.why)), `log lacks the skip of ${s.name}: ${lines.join(' | ')}`);
  }
  assert.ok(lines.some((l) => l.startsWith(`using ${choice.name}:`)), `log does not name the engine: ${lines.join(' | ')}`);
  assert.match(choice.why, /^auto: first engine that initialised/);

  // Idempotent: a second auto call returns the same engine without logging again.
  const again = await initEngine({ backend: 'auto', log: (m) => lines.push(`second: ${m}`) });
  assert.equal(again.name, choice.name);
  assert.ok(!lines.some((l) => l.startsWith('second:')));
  assert.equal(engineInfo()?.name, choice.name);
});

test('tensorflow is skipped with a reason exactly when @tensorflow/tfjs-node(-gpu) is not installed', async () => {
  const require = createRequire(import.meta.url);
  const installed = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].filter((m) => {
    try { require.resolve(m); return true; } catch { return false; }
  });
  let err: Error | null = null;
  try { await initEngine({ backend: 'tensorflow', log: () => {} }); } catch (e) { err = e as Error; }
  if (installed.length === 0) {
    assert.ok(err, 'tensorflow initialised although neither tfjs-node package is installed');
    assert.match(err.message, /--backend tensorflow could not be initialised: @tensorflow\/tfjs-node-gpu is not installed; @tensorflow\/tfjs-node is not installed/);
  } else {
    assert.equal(err, null, `tfjs-node is installed but failed: ${err?.message}`);
    assert.equal(tf.getBackend(), 'tensorflow');
  }
});

test('webgpu either runs on a Dawn adapter or is refused with a clear reason', async () => {
  let err: Error | null = null;
  try { await initEngine({ backend: 'webgpu', log: () => {} }); } catch (e) { err = e as Error; }
  if (err) {
    assert.ok(!webgpuRequired(), `FACECOMB_REQUIRE_WEBGPU=1 but webgpu did not initialise: ${err.message}`);
    assert.match(err.message, /--backend webgpu could not be initialised: .*(no WebGPU adapter|webgpu)/);
    assert.notEqual(tf.getBackend(), 'webgpu');
  } else {
    assert.equal(tf.getBackend(), 'webgpu');
    assert.ok(String(engineInfo()?.details.adapter).length > 0);
  }
});

test('auto never takes a software WebGPU adapter; an explicit --backend webgpu still uses it', async (t) => {
  let err: Error | null = null;
  try { await initEngine({ backend: 'webgpu', log: () => {} }); } catch (e) { err = e as Error; }
  if (err) {
    assert.ok(!webgpuRequired(), `FACECOMB_REQUIRE_WEBGPU=1 but webgpu did not initialise: ${err.message}`);
    t.skip(`no WebGPU adapter here: ${err.message}`);
    return;
  }
  const info = engineInfo()!;
  assert.equal(info.name, 'webgpu');
  const autoChoice = autoInFreshProcess();
  const autoLines = autoChoice.lines;
  if (info.details.software) {
    assert.notEqual(autoChoice.name, 'webgpu', `auto chose the software adapter ${info.details.adapter}`);
    const skip = autoChoice.skipped.find((s) => s.name === 'webgpu');
    assert.ok(skip, `webgpu not among auto's skipped: ${JSON.stringify(autoChoice.skipped)}`);
    assert.match(skip.why, /^adapter \S+ is a software rasteriser \(slower than wasm\); use --backend webgpu to force it$/);
    assert.ok(autoLines.includes(`skipped webgpu: ${skip.why}`), autoLines.join(' | '));
    assert.ok(autoLines.some((l) => l.startsWith(`using ${autoChoice.name}: auto:`)), autoLines.join(' | '));
  } else {
    // a hardware adapter: auto takes it unless tensorflow came first
    assert.ok(['webgpu', 'tensorflow'].includes(autoChoice.name), `auto chose ${autoChoice.name} over the GPU adapter ${info.details.adapter}`);
  }
});

test('wasm loads its binaries from the local package and registers the training kernels', async () => {
  const dir = wasmBinaryDir();
  assert.ok(existsSync(`${dir}tfjs-backend-wasm-simd.wasm`), `no wasm binary in ${dir}`);
  const choice = await initEngine({ backend: 'wasm', log: () => {} });
  assert.equal(choice.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  const info = engineInfo()!;
  assert.equal(info.details.wasmDir, dir);
  for (const k of ['Conv2DBackpropFilter', 'Conv2DBackpropInput']) {
    assert.ok(info.addedKernels.includes(k), `${k} not registered: ${info.addedKernels}`);
    assert.ok(tf.getKernel(k, 'wasm'), `${k} missing from the wasm registry`);
  }
  // Switching to cpu and back keeps the kernels (registration is once per process).
  await initEngine({ backend: 'cpu', log: () => {} });
  assert.equal(tf.getBackend(), 'cpu');
  await initEngine({ backend: 'wasm', log: () => {} });
  assert.equal(tf.getBackend(), 'wasm');
  assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'));
});

test('an unknown backend name is rejected with the list of valid ones', async () => {
  await assert.rejects(initEngine({ backend: 'metal' as never }), /unknown backend 'metal': use one of auto, tensorflow, webgpu, wasm, cpu/);
});

test('the exported tf is the same tfjs-core instance @tensorflow/tfjs and face-api load', async () => {
  const require = createRequire(import.meta.url);
  const cjsTf = require('@tensorflow/tfjs') as typeof tf;
  const cjsCore = require('@tensorflow/tfjs-core') as typeof tf;
  assert.equal(cjsTf.engine(), tf.engine());
  assert.equal(cjsCore.engine(), tf.engine());
  await initEngine({ backend: 'wasm', log: () => {} });
  assert.equal(cjsTf.getBackend(), 'wasm');
  assert.equal(tf.env().getBool('PROD'), !process.env.FACECOMB_TF_DEBUG);
});

test('a broken wasm install is skipped with its reason and auto falls back to cpu', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'engine-badwasm-'));
  for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
    writeFileSync(join(dir, f), 'not a wasm module');
  }
  const r = autoInFreshProcess({ FACECOMB_WASM_DIR: dir });
  const wasm = r.skipped.find((s) => s.name === 'wasm');
  if (r.name === 'webgpu' || r.name === 'tensorflow') return; // a GPU engine initialised before wasm was tried
  assert.equal(r.name, 'cpu');
  assert.ok(wasm, `wasm not among the skipped: ${JSON.stringify(r.skipped)}`);
  assert.match(wasm.why, /WebAssembly|wasm/i);
  assert.ok(r.lines.some((l) => l.startsWith('using cpu:')));
});
