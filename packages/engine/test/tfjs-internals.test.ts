/**
 * src/webgpu/tfjs-internals.ts: the private fields of tfjs-backend-webgpu that our kernels use are all there on
 * the installed version; a backend where one is renamed or changes kind is refused with the field's name (what a
 * tfjs upgrade would show when the webgpu engine initialises).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../src/index.js';
import { checkWebgpuInternals, internalsMismatches } from '../src/webgpu/tfjs-internals.js';
import { webgpuOrSkip } from './webgpu-helpers.js';

test('tfjs-backend-webgpu has every internal field our kernels use; a changed one is named', async (t) => {
  if (!(await webgpuOrSkip(t))) return;
  const backend = tf.findBackend('webgpu') as object;
  assert.deepEqual(internalsMismatches(backend), []);
  checkWebgpuInternals(backend);
  const upgraded = new Proxy(backend, {
    has: (o, k) => k !== 'commandQueueOwnedIds' && Reflect.has(o, k),
    get: (o, k) => (k === 'submitQueue' ? 3 : Reflect.get(o, k)),
  });
  assert.throws(() => checkWebgpuInternals(upgraded),
    /internals changed \(src\/webgpu\/tfjs-internals.ts .*\): commandQueueOwnedIds is missing \(expected an object\); submitQueue is a number, expected a function/);
});
