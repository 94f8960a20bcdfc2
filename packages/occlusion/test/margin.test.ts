import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withMargin } from '../src/margin.ts';
import { DEFAULTS, parseParams } from '../src/params.ts';

// a 9 x 9 crop whose hull is all but the first column; one pixel predicted covered, one half-covered
const size = 9;
const hull = Float32Array.from({ length: size * size }, (_, k) => (k % size === 0 ? 0 : 1));
const u = new Float32Array(size * size).fill(1);
u[4 * size + 4] = 0.1;
u[1 * size + 7] = 0.7;

test('withMargin: pixels under the threshold count as covered, and the covered region grows by the margin (a disc)', () => {
  const none = withMargin(u, hull, size, 0, 0.5);
  assert.deepEqual([none[4 * size + 4], none[1 * size + 7]], [0, Float32Array.of(0.7)[0]]);
  const strict = withMargin(u, hull, size, 0, 0.8);
  assert.equal(strict[1 * size + 7], 0);
  const grown = withMargin(u, hull, size, 1, 0.5);
  for (const [x, y] of [[4, 3], [3, 4], [5, 4], [4, 5]]) assert.equal(grown[y * size + x], 0, `(${x}, ${y}) is a pixel from the covered one`);
  assert.equal(grown[3 * size + 3], 1, 'a diagonal neighbour is outside a disc of 1 px');
  assert.ok(Math.abs(grown[2 * size + 7] - 0.7) < 1e-6, 'a partly covered pixel spreads its own value');
});

test('withMargin: nothing spreads from outside the hull, which keeps its values', () => {
  const outside = Float32Array.from(u, (v, k) => (k % size === 0 ? 0 : v));
  const grown = withMargin(outside, hull, size, 2, 0.5);
  assert.equal(grown[4 * size + 1], 1, 'the hull next to a low outside pixel stays uncovered');
  assert.equal(grown[4 * size], 0, 'the outside pixel is left as it was');
});

test('margin and threshold params: defaults, and bad values refused with the param named', () => {
  const p = parseParams({});
  assert.deepEqual([p.margin, p.threshold], [DEFAULTS.margin, DEFAULTS.threshold]);
  assert.throws(() => parseParams({ margin: -1 }), /occlusion param 'margin' must be crop pixels from 0 to 16, got -1/);
  assert.throws(() => parseParams({ threshold: 1.5 }), /occlusion param 'threshold' must be a probability from 0 to 1, got 1.5/);
});
