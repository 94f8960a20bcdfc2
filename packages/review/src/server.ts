import { closeSync, openSync, readFileSync, readSync, realpathSync, statSync, unwatchFile, watchFile } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CacheReader } from './cache-reader.js';
import { alignJitter, stageDetail, trainMetrics } from './details.js';
import { flicker } from './flicker.js';
import { allowedHosts, hostOf, pathRedactor, servable } from './guard.js';
import { sendError, sendFile, sendJson as sendJsonRaw, sendText } from './http.js';
import { CacheWatcher } from './live.js';
import { PathError, safeResolve } from './paths.js';
import { scoreView } from './overview.js';
import { Thumbnails } from './thumbs.js';
import { abCandidates, listFolder } from './history.js';
import { labelsView, saveLabels, type LabelledStage } from './labels-api.js';
import { embedToken, newToken } from './write-guard.js';
import type { PipelineStatus, StageView, StatusSource } from './types.js';

export interface ReviewOptions {
  /** The cache folder (`.facecomb/`). */
  root: string;
  status: StatusSource;
  port?: number;
  /** Default 127.0.0.1: only this machine. */
  host?: string;
  /** Files whose change makes the stages' state be planned again (the pipeline files). */
  watchFiles?: string[];
  /** More Host header names to answer (`--allow-host`), besides the bound host and the loopback names. */
  allowHosts?: string[];
}

/** At most this many live pages (SSE streams) at once; more are refused with 503. */
export const MAX_EVENT_CLIENTS = 32;
/** A page that has not read this much of its event stream is dropped (it reloads and starts afresh). */
export const EVENT_BUFFER_BYTES = 4 * 1024 * 1024;

export interface ReviewServer {
  url: string;
  server: Server;
  /** Pipelines as the page shows them now. */
  pipelines(): ReturnType<CacheReader['views']>;
  close(): Promise<void>;
}

const publicDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'public');
const uplotDir = join(dirname(createRequire(import.meta.url).resolve('uplot')));
// dagre's own browser build (graphlib bundled in): the overview's layout, served like uPlot, nothing fetched from elsewhere
const dagreFile = join(dirname(createRequire(import.meta.url).resolve('@dagrejs/dagre')), 'dagre.min.js');
const INDEX = join(publicDir, 'index.html');
const STATIC: Record<string, string> = {
  '/static/app.js': join(publicDir, 'app.js'),
  '/static/style.css': join(publicDir, 'style.css'),
  '/static/player.js': join(publicDir, 'player.js'),
  '/static/graph.js': join(publicDir, 'graph.js'),
  '/static/labels.js': join(publicDir, 'labels.js'),
  '/static/dagre.js': dagreFile,
  '/static/uplot.js': join(uplotDir, 'uPlot.iife.min.js'),
  '/static/uplot.css': join(uplotDir, 'uPlot.min.css'),
};

function tail(file: string, lines: number): string {
  const size = statSync(file).size;
  const want = Math.min(size, 256 * 1024);
  const buf = Buffer.alloc(want);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, want, size - want);
  } finally {
    closeSync(fd);
  }
  const all = buf.toString('utf8').split('\n');
  if (all[all.length - 1] === '') all.pop();
  return all.slice(-lines).join('\n') + '\n';
}

/** Starts the read-only review server over a cache; resolves once it listens. */
export async function startReviewServer(o: ReviewOptions): Promise<ReviewServer> {
  const rootReal = realpathSync(o.root);
  const reader = new CacheReader(rootReal);
  const thumbs = new Thumbnails(rootReal);
  let statuses: PipelineStatus[] = await o.status();
  let views = reader.views(statuses);
  const redact = pathRedactor(rootReal, (o.watchFiles ?? []).map((f) => dirname(f)));
  const sendJson = (res: ServerResponse, body: unknown, status = 200) => sendJsonRaw(res, JSON.parse(redact(JSON.stringify(body))), status);
  let viewsText = redact(JSON.stringify(views));
  const hosts = allowedHosts(o.host ?? '127.0.0.1', o.allowHosts);
  // the page's write (labels) carries this token, which only a page served here can read
  const token = newToken();
  const clients = new Set<ServerResponse>();
  /** Writes to a live page; one that lets its buffer grow past the bound is dropped. */
  const push = (c: ServerResponse, text: string) => {
    if (c.writableLength > EVENT_BUFFER_BYTES) {
      clients.delete(c);
      c.destroy();
      return;
    }
    c.write(text);
  };
  let refreshing: Promise<void> | null = null;
  let again: boolean | null = null;

  const refresh = async (planAgain: boolean): Promise<void> => {
    if (refreshing) {
      again = (again ?? false) || planAgain;
      return;
    }
    refreshing = (async () => {
      try {
        if (planAgain) statuses = await o.status();
      } catch {
        /* a pipeline file is being edited: keep the last plan */
      }
      views = reader.views(statuses);
      const text = redact(JSON.stringify(views));
      if (text !== viewsText) {
        viewsText = text;
        for (const c of clients) push(c, `event: pipelines\ndata: ${text}\n\n`);
      }
    })();
    await refreshing;
    refreshing = null;
    if (again !== null) {
      const p = again;
      again = null;
      await refresh(p);
    }
  };

  const plannedParams = (pipeline: string, stage: string): Record<string, unknown> =>
    statuses.find((p) => p.name === pipeline)?.stages.find((s) => s.name === stage)?.params ?? {};
  const findStage = (url: URL): { stage: StageView; pipeline: (typeof views)[number] } => {
    const pname = url.searchParams.get('pipeline');
    const sname = url.searchParams.get('stage');
    const pipeline = views.find((p) => p.name === pname);
    if (!pipeline) throw new PathError(`no pipeline '${pname}' is served; pipelines: ${views.map((p) => p.name).join(', ')}`, 404);
    const stage = pipeline.stages.find((s) => s.name === sname);
    if (!stage) throw new PathError(`no stage '${sname}' in pipeline '${pname}'`, 404);
    return { stage, pipeline };
  };
  const upstreamOf = (stage: StageView, pipeline: (typeof views)[number]): Map<string, StageView> =>
    new Map(pipeline.stages.filter((s) => stage.needs.includes(s.name)).map((s) => [s.name, s]));
  const stageDir = (s: StageView): string => {
    if (!s.dir) throw new PathError(`stage '${s.name}' has no artifacts yet (${s.display})`, 404);
    return join(rootReal, s.dir);
  };

  const labelled = (url: URL): LabelledStage => {
    const { stage, pipeline } = findStage(url);
    const file = statuses.find((p) => p.name === pipeline.name)?.file;
    if (!file) throw new PathError(`pipeline '${pipeline.name}' has no file`, 404);
    return { stage, pipelineFile: file, params: plannedParams(pipeline.name, stage.name), upstream: [...upstreamOf(stage, pipeline).values()] };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // the one write: POST /api/labels (checked in saveLabels); everything else only reads
    const write = req.method === 'POST' && (req.url ?? '').split('?')[0] === '/api/labels';
    if (req.method !== 'GET' && req.method !== 'HEAD' && !write) {
      res.setHeader('allow', 'GET, HEAD');
      return sendError(res, 405, `${req.method} not allowed: the review page only reads (its one write is POST /api/labels)`);
    }
    // DNS rebinding: a foreign page reaching this port under its own name sends that name
    const host = hostOf(req.headers.host);
    if (!host || !hosts.has(host)) {
      return sendError(res, 403, `Host '${req.headers.host ?? ''}' is not served here: open the address runner serve printed, or start it with --allow-host ${host ?? 'NAME'}`);
    }
    // the raw path, not URL-normalised: '..' and '%2e%2e' must reach the path check, not be folded away
    const raw = req.url ?? '/';
    const rawPath = raw.split('?')[0];
    const url = new URL(raw.startsWith('/') ? raw : `/${raw}`, 'http://review.local');
    if (rawPath === '/') return sendText(res, embedToken(readFileSync(INDEX, 'utf8'), token), 200, 'text/html; charset=utf-8');
    if (STATIC[rawPath]) return sendFile(req, res, STATIC[rawPath], false);
    if (rawPath.startsWith('/files/')) {
      const file = safeResolve(rootReal, rawPath.slice('/files/'.length));
      if (!servable(file.slice(rootReal.length + 1))) throw new PathError(`path '${rawPath.slice('/files/'.length)}': only artifacts and logs are served`, 403);
      // a stage's log names this machine's folders: sent with them replaced, like every other text
      if (/(^|\/)log\.txt$|\.log$/.test(file)) return sendText(res, redact(readFileSync(file, 'utf8')));
      return sendFile(req, res, file, file.startsWith(join(rootReal, 'cache') + '/'));
    }
    if (rawPath.startsWith('/thumb/')) {
      const file = safeResolve(rootReal, rawPath.slice('/thumb/'.length));
      if (!servable(file.slice(rootReal.length + 1))) throw new PathError(`path '${rawPath.slice('/thumb/'.length)}': only artifacts are served`, 403);
      if (!/\.(png|jpe?g|webp)$/i.test(file)) throw new PathError(`thumbnails are made of images only`, 400);
      const buf = await thumbs.get(file, Thumbnails.width(Number(url.searchParams.get('w') ?? 128) || 128));
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': buf.length, 'cache-control': 'public, max-age=3600' });
      res.end(req.method === 'HEAD' ? undefined : buf);
      return;
    }
    switch (rawPath) {
      case '/api/pipelines':
        return sendJson(res, views);
      case '/api/events': {
        if (clients.size >= MAX_EVENT_CLIENTS) return sendError(res, 503, `${clients.size} pages are following this server already (at most ${MAX_EVENT_CLIENTS}): close some`);
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        res.write(`event: pipelines\ndata: ${viewsText}\n\n`);
        clients.add(res);
        const beat = setInterval(() => push(res, ': keep-alive\n\n'), 15000);
        req.on('close', () => {
          clearInterval(beat);
          clients.delete(res);
        });
        return;
      }
      case '/api/stage': {
        const { stage, pipeline } = findStage(url);
        const key = stage.display === 'running' ? null : stage.state === 'cached' ? stage.key : stage.lastKey;
        const planned = plannedParams(pipeline.name, stage.name);
        const d = stageDetail(rootReal, stage, upstreamOf(stage, pipeline), (key ? reader.manifest(key)?.params : null) ?? planned);
        if (stage.kind === 'score') d.score = scoreView(rootReal, stage, (planned.thresholds ?? {}) as Record<string, unknown>);
        return sendJson(res, d);
      }
      case '/api/history': {
        const { stage, pipeline } = findStage(url);
        return sendJson(res, abCandidates(rootReal, reader.history(pipeline.name, stage.name), stage));
      }
      case '/api/list': {
        const { stage } = findStage(url);
        if (!stage.dir) throw new PathError(`stage '${stage.name}' has no artifacts yet (${stage.display})`, 404);
        return sendJson(res, listFolder(rootReal, stage.dir, url.searchParams.get('sub') ?? ''));
      }
      case '/api/metrics': {
        const { stage } = findStage(url);
        return sendJson(res, trainMetrics(join(stageDir(stage), 'metrics.jsonl')));
      }
      case '/api/jitter': {
        const { stage } = findStage(url);
        const d = stageDetail(rootReal, stage, new Map(), null);
        if (!d.align) throw new PathError(`stage '${stage.name}' is not an align stage`, 400);
        return sendJson(res, alignJitter(join(stageDir(stage), 'faces'), d.align.frames));
      }
      case '/api/flicker': {
        const { stage, pipeline } = findStage(url);
        const d = stageDetail(rootReal, stage, upstreamOf(stage, pipeline), null);
        if (!d.compare) throw new PathError(`stage '${stage.name}' is not a swap or blend stage`, 400);
        return sendJson(res, await flicker(rootReal, d.compare.a.dir, d.compare.b.dir, d.compare.frames));
      }
      case '/api/labels': {
        if (!write) return sendJson(res, labelsView(rootReal, labelled(url)));
        const saved = await saveLabels(req, url, rootReal, token, labelled(url));
        void refresh(true); // the labels file is an input of the stage: it is stale now
        return sendJson(res, saved);
      }
      case '/api/log': {
        const { stage } = findStage(url);
        if (!stage.log) throw new PathError(`stage '${stage.name}' has no log yet`, 404);
        const file = safeResolve(rootReal, stage.log);
        const n = Math.min(10000, Math.max(1, Number(url.searchParams.get('tail') ?? 200) || 200));
        return sendText(res, redact(tail(file, n)));
      }
      default:
        return sendError(res, 404, `no such page '${rawPath}'`);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) return res.destroy();
      if (e instanceof PathError) return sendError(res, e.status, redact(e.message));
      sendError(res, 500, redact((e as Error).message));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8080, o.host ?? '127.0.0.1', () => resolve());
  });
  // watch only once listening: a failed listen leaves nothing running
  const watcher = new CacheWatcher(rootReal, (p) => void refresh(p));
  // a pipeline file edited (a param changed): plan again; one stat a second per file (an editor's save
  // replaces the file, which fs.watch loses track of)
  for (const f of o.watchFiles ?? []) watchFile(f, { interval: 1000 }, () => void refresh(true));
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}/`,
    server,
    pipelines: () => views,
    close: async () => {
      watcher.close();
      for (const f of o.watchFiles ?? []) unwatchFile(f);
      for (const c of clients) c.end();
      clients.clear();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
