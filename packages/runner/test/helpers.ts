import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../bin/runner.js', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('./fixtures', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (`node bin/runner.js ...`). */
export function cli(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: { ...process.env, FACECOMB_CACHE: '', ...opts.env }, encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the CLI in the background. */
export function cliSpawn(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: { ...process.env, FACECOMB_CACHE: '', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((res) => child.on('close', (code, signal) => res({ code: code ?? (signal ? -1 : null), stdout, stderr })));
  return { child, done, out: () => stdout };
}

const made: string[] = [];
process.on('exit', () => {
  if (!process.env.FACECOMB_KEEP_TEST_DIRS) for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A project folder in the temp dir: package.json at its root, files written from `files` (path -> text). */
export function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'facecomb-runner-'));
  made.push(dir);
  writeFileSync(join(dir, 'package.json'), '{"name": "shot", "private": true}\n');
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
}

export function cacheKeys(projectDir: string): string[] {
  try {
    return readdirSync(join(projectDir, '.facecomb', 'cache'));
  } catch {
    return [];
  }
}

export function manifest(projectDir: string, key: string): Record<string, any> {
  return JSON.parse(readFileSync(join(projectDir, '.facecomb', 'cache', key, 'manifest.json'), 'utf8'));
}

export function statusJson(projectDir: string, file: string, env?: NodeJS.ProcessEnv): { stage: string; state: string; reason: string | null; key: string }[] {
  const r = cli(['status', file, '--json'], { cwd: projectDir, env });
  if (r.code !== 0) throw new Error(`status failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(cond: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
