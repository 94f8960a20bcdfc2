import { linkSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { diskFullError } from './disk.js';
import { readJsonOrNull } from '@facecomb/stage';

/** This machine's name in lock and temp folder names (a shared cache tells machines apart by it). */
export const HOST_TAG = hostname().replace(/[^A-Za-z0-9-]/g, '-') || 'host';

/** Lease of a lock: renewed every third of it while its holder lives; after it another process may take the key. */
export const DEFAULT_LEASE_MS = 30_000;

export function leaseMsFrom(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.FACECOMB_LOCK_LEASE_MS);
  return Number.isFinite(v) && v >= 200 ? v : DEFAULT_LEASE_MS;
}

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface Holder {
  host: string;
  pid: number;
  leaseMs: number;
}

const isGen = (name: string) => /^\d+$/.test(name);

/**
 * A lease lock on a folder of numbered generation files (`<dir>/<gen>`), safe for many processes on many
 * machines sharing the folder. Taking it creates generation max+1 with an exclusive `link` and then checks that
 * it is still the highest: generations are only removed once a higher one exists, so the highest never goes
 * down and two takers of the same dead holder cannot both win (a plain "remove the stale file, create mine"
 * let both win). A generation is free once released (mtime 0), its lease ran out (mtime older than its
 * lease), or its holder is a dead process of this machine.
 */
export class LeaseLock {
  private gen = 0;

  constructor(
    readonly dir: string,
    readonly leaseMs = DEFAULT_LEASE_MS,
  ) {}

  get held(): boolean {
    return this.gen > 0;
  }

  private gens(): number[] {
    try {
      return readdirSync(this.dir).filter(isGen).map(Number).sort((a, b) => a - b);
    } catch {
      return [];
    }
  }

  /** Whether generation `g` is free to be superseded; null when it vanished meanwhile. */
  private free(g: number): boolean | null {
    const file = join(this.dir, String(g));
    let mtime: number;
    try {
      mtime = statSync(file).mtimeMs;
    } catch {
      return null;
    }
    // unreadable: judged by its lease alone
    const h = readJsonOrNull<Partial<Holder>>(file) ?? {};
    const lease = typeof h.leaseMs === 'number' ? h.leaseMs : this.leaseMs;
    if (mtime + lease < Date.now()) return true;
    return h.host === HOST_TAG && typeof h.pid === 'number' && h.pid !== process.pid && !pidAlive(h.pid);
  }

  /** Takes the lock if it is free; false while another live holder has it. */
  tryAcquire(): boolean {
    if (this.held) return true;
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (e) {
      throw diskFullError(e, this.dir);
    }
    const top = this.gens().at(-1) ?? 0;
    if (top > 0) {
      const f = this.free(top);
      if (f === false) return false;
      if (f === null) return false; // changed under us: look again on the next try
    }
    const mine = top + 1;
    const tmp = join(this.dir, `.${HOST_TAG}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
    try {
      writeFileSync(tmp, JSON.stringify({ host: HOST_TAG, pid: process.pid, leaseMs: this.leaseMs } satisfies Holder));
      linkSync(tmp, join(this.dir, String(mine)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw diskFullError(e, join(this.dir, String(mine)));
      return false;
    } finally {
      rmSync(tmp, { force: true });
    }
    const now = this.gens();
    if (now.at(-1) !== mine) {
      // a taker that read an older listing created a lower generation after ours was superseded: not ours
      rmSync(join(this.dir, String(mine)), { force: true });
      return false;
    }
    this.gen = mine;
    for (const g of now) if (g < mine) rmSync(join(this.dir, String(g)), { force: true });
    return true;
  }

  /** Extends the lease; false when it was lost (taken over after it ran out). */
  renew(): boolean {
    if (!this.held) return false;
    if ((this.gens().at(-1) ?? 0) !== this.gen) return false;
    try {
      const t = new Date();
      utimesSync(join(this.dir, String(this.gen)), t, t);
      return true;
    } catch {
      return false;
    }
  }

  /** Frees the lock at once (its generation stays, marked free, so the highest never goes down). */
  release(): void {
    if (!this.held) return;
    try {
      utimesSync(join(this.dir, String(this.gen)), 0, 0);
    } catch {
      /* superseded meanwhile */
    }
    this.gen = 0;
  }
}
