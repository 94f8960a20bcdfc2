import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { checkRedis } from '../src/url.js';

/** Whether `redis-server` can be started here (installed by .ci/install-redis.sh in CI). */
export function haveRedis(): boolean {
  return spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0;
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/**
 * A throw-away redis-server on a free 127.0.0.1 port: nothing saved, stopped by `stop()`. With `password` it
 * requires AUTH (`--requirepass`) and the URL carries it.
 */
export async function startRedis(port?: number, password?: string): Promise<{ url: string; proc: ChildProcess; stop(): void }> {
  port ??= await freePort();
  const auth = password ? ['--requirepass', password] : [];
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...auth], { stdio: 'ignore' });
  const url = `redis://${password ? `:${encodeURIComponent(password)}@` : ''}127.0.0.1:${port}`;
  const t0 = Date.now();
  for (;;) {
    try {
      await checkRedis(url, 1000);
      break;
    } catch (e) {
      if (Date.now() - t0 > 10_000 || proc.exitCode !== null) {
        proc.kill('SIGKILL');
        throw new Error(`redis-server did not start on port ${port}: ${(e as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { url, proc, stop: () => proc.kill('SIGKILL') };
}
