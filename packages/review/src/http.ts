/** Small helpers over node:http responses: JSON, text, errors and files with byte ranges. */
import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname } from 'node:path';

export const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.mov': 'video/quicktime',
  '.webm': 'video/webm',
  '.m4a': 'audio/mp4',
};

export function sendJson(res: ServerResponse, body: unknown, status = 200): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': TYPES['.json'], 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendText(res: ServerResponse, text: string, status = 200, type = TYPES['.txt']): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, { error: message }, status);
}

/**
 * Streams a file as it is, answering `Range: bytes=a-b` (the video player seeks with it). `immutable`: the
 * file lives in a content-addressed cache entry and never changes.
 */
export function sendFile(req: IncomingMessage, res: ServerResponse, file: string, immutable: boolean): void {
  const st = statSync(file);
  if (!st.isFile()) return sendError(res, 404, `not a file`);
  const headers: Record<string, string | number> = {
    'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'accept-ranges': 'bytes',
    'cache-control': immutable ? 'public, max-age=86400, immutable' : 'no-cache',
    'last-modified': st.mtime.toUTCString(),
  };
  let start = 0;
  let end = st.size - 1;
  const range = req.headers.range ? /^bytes=(\d*)-(\d*)$/.exec(req.headers.range) : null;
  if (req.headers.range && !range) return sendError(res, 416, `unsupported Range '${req.headers.range}'`);
  if (range) {
    if (range[1] === '') start = Math.max(0, st.size - Number(range[2]));
    else {
      start = Number(range[1]);
      if (range[2] !== '') end = Math.min(end, Number(range[2]));
    }
    if (start > end || start >= st.size) {
      res.writeHead(416, { 'content-range': `bytes */${st.size}` });
      res.end();
      return;
    }
    headers['content-range'] = `bytes ${start}-${end}/${st.size}`;
  }
  headers['content-length'] = st.size === 0 ? 0 : end - start + 1;
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === 'HEAD' || st.size === 0) {
    res.end();
    return;
  }
  const s = createReadStream(file, { start, end });
  s.on('error', () => res.destroy());
  s.pipe(res);
}
