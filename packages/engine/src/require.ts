import { initEngine, type EngineName } from './engine.js';
import { flags } from './flags.js';

/**
 * FACECOMB_REQUIRE_WEBGPU=1 (set by .ci/run, which installs Mesa's lavapipe) turns "webgpu does not initialise
 * here" from a reason to skip its tests into a failure, so CI cannot go green without running them.
 */
export function webgpuRequired(): boolean {
  return flags.requireWebgpu;
}

/**
 * For tests of one engine: `why` is the reason it did not initialise (null when it did). Returns the reason
 * to skip, or null to run; throws when the engine is webgpu and FACECOMB_REQUIRE_WEBGPU=1.
 */
export function unavailable(engine: string, why: string | null): string | null {
  if (why === null) return null;
  if (engine === 'webgpu' && webgpuRequired()) {
    throw new Error(`webgpu is required here (FACECOMB_REQUIRE_WEBGPU=1) but did not initialise: ${why.replace(/\.$/, '')}; install Mesa's lavapipe: bash .ci/install-lavapipe.sh`);
  }
  return `${engine} does not initialise here: ${why}`;
}

/**
 * For tests: switches to an engine; returns the reason to skip it when it does not initialise here, or null
 * when it is active. Throws for webgpu when FACECOMB_REQUIRE_WEBGPU=1.
 */
export async function switchOrSkip(engine: EngineName): Promise<string | null> {
  try {
    await initEngine({ backend: engine, log: () => {} });
    return null;
  } catch (e) {
    return unavailable(engine, (e as Error).message);
  }
}
