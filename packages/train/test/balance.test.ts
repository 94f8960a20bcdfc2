import { test } from 'node:test';
import assert from 'node:assert/strict';
import { balanceWeights, cumulative, drawWeighted, expressionVector, resolveConfig } from '../src/index.js';
import { Rng } from '../src/rng.js';
import { facePoints } from './face-points.js';

// 90 frames with the mouth closed, 10 with it open: a rare expression
const rng = new Rng(7, 'faces');
const faces = Array.from({ length: 100 }, (_, i) => facePoints(64, i % 10 === 3 ? 0.08 : 0, rng));
const open = (i: number) => i % 10 === 3;

test('balancing draws a rare expression about as often as the common one; uniform sampling does not', () => {
  const weights = balanceWeights(faces, 2, new Rng(1, 'balance'));
  assert.ok(Math.abs(weights.reduce((a, b) => a + b, 0) - 1) < 1e-9);
  const cum = cumulative(weights);
  const draw = new Rng(3, 'draw');
  let rare = 0, rareUniform = 0;
  for (let k = 0; k < 4000; k++) {
    if (open(drawWeighted(cum, draw))) rare++;
    if (open(draw.int(faces.length))) rareUniform++;
  }
  assert.ok(rare / 4000 > 0.4 && rare / 4000 < 0.6, `open mouth drawn ${rare} / 4000 with balancing`);
  assert.ok(rareUniform / 4000 < 0.15, `open mouth drawn ${rareUniform} / 4000 uniformly`);
});

test('balancing is deterministic for a seed; expression vectors ignore position and scale', () => {
  const a = balanceWeights(faces, 4, new Rng(5, 'balance'));
  const b = balanceWeights(faces, 4, new Rng(5, 'balance'));
  assert.deepEqual(a, b);
  const moved = faces[0].map(([x, y]): [number, number] => [2 * x + 10, 2 * y - 3]);
  const d = expressionVector(moved).reduce((s, v, i) => s + Math.abs(v - expressionVector(faces[0])[i]), 0);
  assert.ok(d < 1e-9, `expression vector changed by ${d}`);
  assert.equal(resolveConfig({}, ['a', 'b']).schedule.balance, 0);
  assert.throws(() => resolveConfig({ balance: 1.5 }, ['a', 'b']), /'balance' = 1.5: must be an integer number of expression clusters/);
});
