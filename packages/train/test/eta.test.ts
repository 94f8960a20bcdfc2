import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig } from '../src/index.js';
import { Eta } from '../src/eta.js';

const cfg = resolveConfig(
  { resolution: 64, startResolution: 16, stepsPerFade: 10, stepsPerStable: { 16: 20, 32: 20, 64: 20 }, batch: { 16: 8, 32: 8, 64: 4 } },
  ['a', 'b'],
);

test('ETA: levels not reached yet are estimated from the pixels of a batch, measured levels from their own speed', () => {
  const eta = new Eta(cfg);
  assert.ok(Number.isNaN(eta.remainingSeconds(0, 80)));
  eta.observe(16, 100);
  // 32 px at batch 8 has 4x the pixels of 16 px at batch 8; 64 px at batch 4 has 8x
  assert.equal(eta.msPerStep(32), 400);
  assert.equal(eta.msPerStep(64), 800);
  // after 10 of the 20 steps at 16 px: 10 x 100 + (10 + 20) x 400 + (10 + 20) x 800 ms
  assert.equal(eta.remainingSeconds(10, 80), (10 * 100 + 30 * 400 + 30 * 800) / 1000);
  // the old projection (current speed x remaining steps) says 8 s: off by 4.6x here
  eta.observe(32, 300);
  assert.equal(eta.msPerStep(32), 300);
  assert.equal(eta.msPerStep(64), 600, '64 px now scales from the nearer measured 32 px level');
  assert.equal(eta.remainingSeconds(75, 80), 5 * 0.6);
  assert.equal(eta.remainingSeconds(80, 80), 0);
});
