import { readStageEnv, type StageEnv } from './env.js';

export type StageMain = (env: StageEnv) => Promise<void>;

/**
 * The body of every package's cli.ts: dispatches on the kind, prints a one-line error (no stack unless
 * FACECOMB_DEBUG is set) and exits non-zero on failure.
 */
export async function runStage(kinds: Record<string, StageMain>): Promise<void> {
  try {
    const env = readStageEnv();
    const main = kinds[env.kind];
    if (!main) throw new Error(`unknown stage kind '${env.kind}'; this package provides: ${Object.keys(kinds).join(', ')}`);
    await main(env);
  } catch (e) {
    const err = e as Error;
    process.stderr.write(`error: ${err.message}\n`);
    if (process.env.FACECOMB_DEBUG && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exitCode = 1;
  }
}
