/**
 * What the review server answers, and to whom: the Host names it serves (a page on another site that rebinds
 * its DNS name to this machine sends its own name, and is refused), the cache files a page may read, and the
 * absolute paths of this machine kept out of what it sends.
 */
import { homedir } from 'node:os';
import { dirname } from 'node:path';

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];

/** `--host` as it appears in a Host header (IPv6 in brackets), lower case. */
function hostName(h: string): string {
  const s = h.trim().toLowerCase();
  return s.includes(':') && !s.startsWith('[') ? `[${s}]` : s;
}

/** Host header names served: the bound host, the loopback names and those given with --allow-host. */
export function allowedHosts(bound: string, extra: string[] = []): Set<string> {
  return new Set([...LOOPBACK, hostName(bound), ...extra.map(hostName)]);
}

/** The name of a Host header without its port (`[::1]:8080` -> `[::1]`); null when absent or malformed. */
export function hostOf(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::\d+)?$/i.exec(header.trim());
  return m ? m[1].toLowerCase() : null;
}

/** Whether a bind address reaches only this machine. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}

/**
 * Cache paths a page may read (relative to the cache root): artifacts and logs of entries, of runs in progress
 * and of failed runs. Not manifests (absolute paths), hashes.json (every input's path), index/, locks/, work/
 * (checkpoints) or the farm key.
 */
export function servable(rel: string): boolean {
  return /^cache\/[0-9a-f]{64}\/(out\/.+|log\.txt)$/.test(rel) || /^tmp\/[^/]+\/(out\/.+|log\.txt)$/.test(rel) || /^logs\/[^/]+\/[^/]+\.log$/.test(rel);
}

/**
 * Replaces this machine's folders in a text sent to the browser: the cache root by `.facecomb`-style name
 * relative to its project, the project folder by `.`, the home folder by `~`. Longest first, so the cache
 * inside the project keeps its own name.
 */
export function pathRedactor(cacheRoot: string, extra: string[] = []): (text: string) => string {
  const project = dirname(cacheRoot);
  const pairs: [string, string][] = [
    [cacheRoot, cacheRoot.slice(project.length + 1)],
    [project, '.'],
    ...extra.map((d): [string, string] => [d, d.startsWith(`${project}/`) ? `.${d.slice(project.length)}` : `…/${d.split('/').pop()}`]),
    [homedir(), '~'],
  ];
  const sorted = pairs.filter(([from]) => from.length > 1).sort((a, b) => b[0].length - a[0].length);
  // a whole folder name only: /root must not touch /rootfs
  const res = sorted.map(([from, to]): [RegExp, string] => [new RegExp(`${from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w.-])`, 'g'), to]);
  return (text) => res.reduce((t, [re, to]) => t.replace(re, () => to), text);
}
