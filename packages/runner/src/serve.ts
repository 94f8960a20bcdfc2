import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { PipelineStatus } from '@facecomb/review';
import { Cache, cacheRootFor } from './cache.js';
import { PipelineError, formatDiagnostic } from './diagnostics.js';
import { HashIndex } from './files.js';
import { loadPipeline } from './pipeline.js';
import { planPipeline } from './plan.js';
import { loadRegistry } from './registry.js';
import { UsageError, type CommonOptions } from './commands.js';

export interface ServeOptions extends CommonOptions {
  port?: number;
  host?: string;
  /** Host header names answered besides the bound host and localhost (a name the page is opened by). */
  allowHosts?: string[];
  /** Called with the page's address once it listens (default: printed). */
  onListening?: (url: string) => void;
}

/** Plans each pipeline against the cache without writing anything (the hash index is read, not saved). */
async function planAll(files: string[], root: string, env?: NodeJS.ProcessEnv): Promise<PipelineStatus[]> {
  const registry = loadRegistry(env);
  const cache = new Cache(root);
  const hashes = new HashIndex(cache.hashIndexFile);
  const out: PipelineStatus[] = [];
  for (const file of files) {
    try {
      const p = loadPipeline(file, registry, { env });
      const plans = await planPipeline(p, cache, hashes);
      out.push({
        name: p.name,
        file: p.file,
        stages: p.order.map((n) => {
          const sp = plans.get(n)!;
          const last = sp.state === 'stale' ? cache.readIndex(p.name, n)?.key : undefined;
          return { name: n, kind: sp.def.kind.kind, needs: sp.def.needs, state: sp.state, reasons: sp.reasons, key: sp.key, lastKey: last && cache.has(last) ? last : undefined, params: sp.def.params };
        }),
      });
    } catch (e) {
      const msg = e instanceof PipelineError ? e.diagnostics.map((d) => formatDiagnostic(d)).join('\n') : (e as Error).message;
      out.push({ name: basename(file).replace(/\.ya?ml$/, ''), file: resolve(file), stages: [], error: msg });
    }
  }
  return out;
}

/**
 * `runner serve [FILE...]`: the review page (@facecomb/review; its one write: an occlusion stage's labels) for the given pipelines, or for every
 * pipeline the cache has seen. Runs until interrupted.
 */
export async function serveCommand(files: string[], o: ServeOptions = {}): Promise<{ url: string; close: () => Promise<void> }> {
  const root = cacheRootFor(files[0] ?? null, { cache: o.cache, env: o.env });
  if (!existsSync(root)) throw new UsageError(`no cache folder at ${root}: run a pipeline first (runner run FILE), or pass --cache DIR`);
  const { startReviewServer, CacheReader, isLoopback } = await import('@facecomb/review');
  const listed = files.length ? files.map((f) => resolve(f)) : new CacheReader(root).seenPipelineFiles().filter((f) => existsSync(f));
  if (!listed.length) throw new UsageError(`the cache ${root} has no pipeline runs recorded: name the pipeline files (runner serve FILE...)`);
  for (const f of listed) if (!existsSync(f)) throw new UsageError(`pipeline file ${f} not found`);
  const srv = await startReviewServer({ root, status: () => planAll(listed, root, o.env), port: o.port, host: o.host, allowHosts: o.allowHosts, watchFiles: listed }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'EADDRINUSE') throw new UsageError(`port ${o.port} on ${o.host ?? '127.0.0.1'} is in use: choose another with --port N (0 picks a free one)`);
    if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') throw new UsageError(`--host ${o.host}: not an address of this machine`);
    throw e;
  });
  if (o.host && !isLoopback(o.host)) {
    process.stderr.write(
      `warning: --host ${o.host} serves the review page (frames, logs, checkpoints' previews; and saving occlusion labels into the project) to every machine that reaches this one on port ${new URL(srv.url).port}, without a password; ` +
        `it answers only the Host names ${['localhost', '127.0.0.1', '[::1]', o.host, ...(o.allowHosts ?? [])].join(', ')} (add the name people open it by with --allow-host NAME)\n`,
    );
  }
  if (o.onListening) o.onListening(srv.url);
  else (o.out ?? process.stdout).write(`review page of ${listed.length} pipeline(s) over ${root}: ${srv.url}\n`);
  return srv;
}
