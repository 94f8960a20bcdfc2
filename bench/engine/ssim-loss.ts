/**
 * Speed of the masked SSIM + L1 loss and its gradient on the webgpu engine, fused vs composed tf ops, same run
 * (see ssim-loss-bench.ts), at 64/128/256 px, batch 4.
 *   node --import tsx bench/engine/ssim-loss.ts [--sizes 64,128,256] [--batch 4] [--budget 2000]
 * Prints a table; writes bench/results/ssim-loss.json (or $OUT/ssim-loss.json when OUT is set).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { initEngine } from '@facecomb/engine';
import { benchLoss, lossTable } from './ssim-loss-bench.js';

const argv = process.argv.slice(2);
const opt = (name: string, def: string) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : def; };
const engine = await initEngine({ backend: 'webgpu', log: () => {} });
const rows = await benchLoss(opt('sizes', '64,128,256').split(',').map(Number), Number(opt('batch', '4')), Number(opt('budget', '2000')));
console.log(`\nmasked SSIM + L1 loss and gradient on ${engine.name} (${String(engine.details.adapter)}), window 7: fused vs composed tf ops (ratio: composed / fused)`);
for (const line of lossTable(rows)) console.log(line);
const dir = process.env.OUT ? `${process.env.OUT}/` : fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}ssim-loss.json`, JSON.stringify({ date: new Date().toISOString(), adapter: engine.details.adapter, rows }, null, 2));
console.log(`wrote ${dir}ssim-loss.json`);
