import type { TestContext } from 'node:test';
import { tf } from '../src/index.js';
import { tryEngine } from './helpers.js';

/**
 * Switches to the webgpu engine. Without an adapter the test is skipped with the reason, unless
 * FACECOMB_REQUIRE_WEBGPU=1 (CI with lavapipe installed), where that is a failure.
 */
export async function webgpuOrSkip(t: TestContext): Promise<boolean> {
  const skip = await tryEngine('webgpu');
  if (!skip) return true;
  t.skip(skip);
  return false;
}

/** Shader keys compiled so far by the webgpu backend (to check that our kernels, not tfjs's, ran). */
export function compiledShaders(): string[] {
  const b = tf.engine().findBackend('webgpu') as unknown as { pipelineCache?: Record<string, unknown> } | null;
  return Object.keys(b?.pipelineCache ?? {});
}
