import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
export const BACKEND = process.env.FACECOMB_TEST_BACKEND ?? 'wasm';

/** Runs a stage of this package as the runner does (cwd `cwd`); resolves with its exit code and output. */
export function runStage(kind: string, cwd: string, out: string, params: Record<string, unknown>, inputs: Record<string, string>, resume?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, FACECOMB_BACKEND: BACKEND, FACECOMB_OUT: out, FACECOMB_PARAMS: JSON.stringify(params), FACECOMB_INPUTS: JSON.stringify(inputs), FACECOMB_RESUME: resume ?? '' };
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', import.meta.resolve('tsx'), CLI, kind], { env, cwd, maxBuffer: 16 << 20 }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
}
