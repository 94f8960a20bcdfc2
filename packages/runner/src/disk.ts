import { statfsSync } from 'node:fs';

/** A write failed for want of space (ENOSPC, or EDQUOT: over quota): one message naming the file, no stack. */
export class DiskFullError extends Error {
  readonly diskFull = true;
  constructor(
    readonly path: string,
    needMb: number,
  ) {
    super(`no space left on device writing ${path}: free ${needMb} MB and rerun`);
  }
}

export function isDiskFull(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return e instanceof DiskFullError || code === 'ENOSPC' || code === 'EDQUOT';
}

/**
 * `e` as a DiskFullError when it is one (naming the error's own path, else `path`), else `e` unchanged.
 * `needBytes`: about how much the write needed (at least 1 MB is asked for).
 */
export function diskFullError(e: unknown, path: string, needBytes = 0): unknown {
  if (e instanceof DiskFullError || !isDiskFull(e)) return e;
  return new DiskFullError((e as NodeJS.ErrnoException).path ?? path, Math.max(1, Math.ceil(needBytes / 2 ** 20)));
}

/** Bytes free to this user on the filesystem of `dir` (Infinity when it cannot be told). */
export function freeBytes(dir: string): number {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return Infinity;
  }
}
