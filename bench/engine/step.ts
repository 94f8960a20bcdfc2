/**
 * Training-step time of a small 4-level conv autoencoder (two 3x3 convs + LeakyReLU(0.2) per level, avg-pool
 * down, nearest up, sigmoid out, L1 loss, Adam) on the wasm and cpu engines. Prints a table and merges the
 * result into bench/results/engine.json under "step".
 *   node --import tsx bench/engine/step.ts [--size 64] [--batch 8] [--steps 5] [--cpu]
 */
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tf, initEngine, type EngineName } from '@facecomb/engine';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const size = arg('size', 64), batch = arg('batch', 8), steps = arg('steps', 5);
const engines: EngineName[] = process.argv.includes('--cpu') ? ['wasm', 'cpu'] : ['wasm'];
const CH = [32, 64, 128, 256];

function params(): Record<string, tf.Variable> {
  const p: Record<string, tf.Variable> = {};
  const conv = (name: string, k: number, ci: number, co: number) => {
    p[name] = tf.variable(tf.randomNormal([k, k, ci, co], 0, Math.sqrt(2 / (k * k * ci)), 'float32', Object.keys(p).length + 1), true, `${name}_${Math.random()}`);
  };
  let c = 3;
  CH.forEach((co, l) => { conv(`e${l}a`, 3, c, co); conv(`e${l}b`, 3, co, co); c = co; });
  for (let l = CH.length - 2; l >= 0; l--) { conv(`d${l}a`, 3, c, CH[l]); conv(`d${l}b`, 3, CH[l], CH[l]); c = CH[l]; }
  conv('out', 1, c, 3);
  return p;
}

function forward(p: Record<string, tf.Tensor>, x: tf.Tensor4D): tf.Tensor4D {
  const c = (h: tf.Tensor4D, n: string) => tf.leakyRelu(tf.conv2d(h, p[n] as tf.Tensor4D, 1, 'same'), 0.2) as tf.Tensor4D;
  let h = x;
  CH.forEach((_, l) => {
    if (l > 0) h = tf.avgPool(h, 2, 2, 'valid');
    h = c(c(h, `e${l}a`), `e${l}b`);
  });
  for (let l = CH.length - 2; l >= 0; l--) {
    h = tf.image.resizeNearestNeighbor(h, [h.shape[1] * 2, h.shape[2] * 2]);
    h = c(c(h, `d${l}a`), `d${l}b`);
  }
  return tf.sigmoid(tf.conv2d(h, p.out as tf.Tensor4D, 1, 'same'));
}

const rows: { engine: string; size: number; batch: number; msPerStep: number; imgPerSec: number }[] = [];
for (const engine of engines) {
  await initEngine({ backend: engine });
  const p = params();
  const x = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  const opt = tf.train.adam(1e-4);
  const step = async () => {
    const l = opt.minimize(() => tf.mean(tf.abs(tf.sub(forward(p, x), x))) as tf.Scalar, true)!;
    await l.data();
    l.dispose();
  };
  await step(); // warm-up (kernel set-up, operator caches)
  const n = engine === 'cpu' ? Math.min(steps, 2) : steps;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await step();
  const ms = (performance.now() - t0) / n;
  rows.push({ engine, size, batch, msPerStep: Math.round(ms), imgPerSec: +(batch / (ms / 1000)).toFixed(2) });
  console.log(`${engine}: ${size}px batch ${batch}: ${ms.toFixed(0)} ms/step, ${(batch / (ms / 1000)).toFixed(2)} img/s`);
  opt.dispose();
  tf.dispose([x, ...Object.values(p)]);
}

console.log('\n| engine | size | batch | ms/step | img/s |\n|---|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.engine} | ${r.size} | ${r.batch} | ${r.msPerStep} | ${r.imgPerSec} |`);
const file = fileURLToPath(new URL('../results/engine.json', import.meta.url));
mkdirSync(fileURLToPath(new URL('../results/', import.meta.url)), { recursive: true });
const doc = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
doc.step = [...(doc.step ?? []).filter((r: { engine: string; size: number; batch: number }) => !rows.some((n) => n.engine === r.engine && n.size === r.size && n.batch === r.batch)), ...rows];
writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
console.log(`\nwrote ${file}`);
