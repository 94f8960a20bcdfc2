import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig, forwardMacs } from '../src/index.js';
import { Eta } from '../src/eta.js';

const cfg = resolveConfig(
  {
    resolution: 64, startResolution: 16, stepsPerFade: 10, stepsPerStable: { 16: 20, 32: 20, 64: 20 }, batch: { 16: 8, 32: 8, 64: 4 },
    channels: { 4: 64, 8: 64, 16: 48, 32: 32, 64: 24 }, latent: 128,
  },
  ['a', 'b'],
);
const work = (r: number) => cfg.schedule.batch[String(r)] * forwardMacs(r, cfg.model.channels, cfg.model.latent);
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9 * Math.max(1, Math.abs(b)), `${a} != ${b}`);

test('forward cost: pixels times channels of each level', () => {
  // 16 -> 32 px adds a level at 4x the pixels but with 2/3 of the channels: about 2.2x the work here, not 4x
  const ratio = forwardMacs(32, cfg.model.channels, cfg.model.latent) / forwardMacs(16, cfg.model.channels, cfg.model.latent);
  assert.ok(ratio > 1.8 && ratio < 2.6, `ratio ${ratio}`);
});

test('ETA: levels not reached yet are estimated from the work of a batch, measured levels from their own speed', () => {
  const eta = new Eta(cfg);
  assert.ok(Number.isNaN(eta.remainingSeconds(0, 80)));
  eta.observe(16, 100);
  const m32 = (100 * work(32)) / work(16);
  const m64 = (100 * work(64)) / work(16);
  close(eta.msPerStep(32), m32);
  close(eta.msPerStep(64), m64);
  // after 10 of the 20 steps at 16 px: 10 at 16, the fade and stable phase of 32 and of 64 (30 steps each)
  close(eta.remainingSeconds(10, 80), (10 * 100 + 30 * m32 + 30 * m64) / 1000);
  eta.observe(32, 300);
  assert.equal(eta.msPerStep(32), 300, 'a measured level uses its own speed');
  close(eta.msPerStep(64), (300 * work(64)) / work(32));
  close(eta.remainingSeconds(75, 80), (5 * eta.msPerStep(64)) / 1000);
  assert.equal(eta.remainingSeconds(80, 80), 0);
});
