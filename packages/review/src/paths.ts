import { realpathSync } from 'node:fs';
import { join, sep } from 'node:path';

/** A request for a path the page must not read: an HTTP status and a message naming the path. */
export class PathError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * Resolves a still percent-encoded URL path, relative to the cache root, to a real file inside the root.
 * Rejects encoded slashes and backslashes, `.`/`..` segments (plain or encoded), absolute paths, NUL bytes,
 * and any symlink whose target lies outside the root (checked on the real path).
 */
export function safeResolve(rootReal: string, rawRel: string): string {
  if (/%2f|%5c|%00/i.test(rawRel)) throw new PathError(`path '${rawRel}': encoded '/', '\\' or NUL is not allowed`, 400);
  let rel: string;
  try {
    rel = decodeURIComponent(rawRel);
  } catch {
    throw new PathError(`path '${rawRel}': bad percent-encoding`, 400);
  }
  if (!rel || rel.startsWith('/') || rel.includes('\\') || /^[A-Za-z]:/.test(rel)) throw new PathError(`path '${rel}': must be relative to the cache folder`, 400);
  const segs = rel.split('/');
  if (segs.some((s) => s === '..' || s === '.' || s === '')) throw new PathError(`path '${rel}': '.', '..' and empty segments are not allowed`, 400);
  let real: string;
  try {
    real = realpathSync(join(rootReal, ...segs));
  } catch {
    throw new PathError(`path '${rel}': not found in the cache`, 404);
  }
  if (real !== rootReal && !real.startsWith(rootReal + sep)) throw new PathError(`path '${rel}': points outside the cache folder`, 403);
  return real;
}
