import type { Cache } from './cache.js';
import type { Launcher } from './launcher.js';

/** The farm executor lives in its own package (BullMQ, Redis): loaded only when a farm command asks for it. */
export const FARM_PACKAGE = '@facecomb/farm';

/** What the runner uses of @facecomb/farm. */
export interface FarmModule {
  FarmLauncher: { open(url: string, cache: Cache, opts: { backend?: string }): Promise<Launcher> };
  runWorker(o: { url: string; slots?: { cpu?: number; gpu?: number }; backend?: string; cache?: string; env?: NodeJS.ProcessEnv; lockMs?: number }): Promise<number>;
  parseSlots(text: string | undefined): { cpu: number; gpu: number };
  farmStatus(url: string, o: { json?: boolean }): Promise<unknown>;
}

export async function loadFarm(): Promise<FarmModule> {
  try {
    return (await import(FARM_PACKAGE)) as FarmModule;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    throw Object.assign(new Error(`--farm needs the ${FARM_PACKAGE} package (packages/farm): install and build it (npm ci && npx tsc -b)`), { farm: true });
  }
}
