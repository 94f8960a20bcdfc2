import { Redis, type RedisOptions } from 'ioredis';

/** A farm problem the user can fix (Redis unreachable, a wrong URL): printed without a stack, exit 1. */
export class FarmError extends Error {
  readonly farm = true;
}

/** Checks a `--farm` URL (redis://[user:password@]host:port[/db] or rediss://); a clear error when it is not one. */
export function parseFarmUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new FarmError(`--farm ${url}: not a URL; expected redis://HOST:PORT (e.g. redis://render-queue:6379)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new FarmError(`--farm ${url}: expected a redis:// or rediss:// URL, got ${u.protocol}//`);
  if (!u.hostname) throw new FarmError(`--farm ${url}: no host; expected redis://HOST:PORT`);
  return u;
}

/** Where a URL's password is hidden, for messages and status. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/**
 * Connection options for BullMQ: `maxRetriesPerRequest: null` (a worker keeps its blocking reads across
 * reconnects); ioredis reconnects on its own with a growing delay (at most `maxDelayMs`).
 */
export function redisOptions(url: string, maxDelayMs = 2000): RedisOptions {
  const u = parseFarmUrl(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    db: Number(u.pathname.slice(1) || 0),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    tls: u.protocol === 'rediss:' ? { servername: u.hostname } : undefined,
    maxRetriesPerRequest: null,
    connectTimeout: 5000,
    retryStrategy: (times) => Math.min(100 * 2 ** times, maxDelayMs),
  };
}

/** One PING with a deadline: resolves when Redis answers, else a FarmError naming the URL (no hang, no retries). */
export async function checkRedis(url: string, timeoutMs = 5000): Promise<void> {
  const opts = redisOptions(url);
  const r = new Redis({ ...opts, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: timeoutMs });
  let last = '';
  let failed: (e: Error) => void = () => {};
  r.on('error', (e: Error) => {
    last = e.message;
    failed(e);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await r.connect();
        await r.ping();
      })(),
      new Promise((_, rej) => (failed = rej)),
      new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`no answer within ${timeoutMs / 1000}s`)), timeoutMs))),
    ]);
  } catch (e) {
    const why = last || (e as Error).message || 'connection failed';
    throw new FarmError(`cannot reach Redis at ${safeUrl(url)}: ${why} (is redis-server running there? check the host and port of --farm)`);
  } finally {
    clearTimeout(timer);
    r.disconnect();
  }
}
