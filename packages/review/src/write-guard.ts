/**
 * The review page's one write (saving labels) is accepted only from the page itself: the Host header is one
 * the server answers (checked for every request, guard.ts), the Origin is that same host, the request carries
 * the per-server token the page got embedded in its HTML, and the body is JSON. A page of another site can
 * neither read the token (same-origin policy) nor send a JSON body without a preflight this server never
 * answers; a rebound DNS name fails the Host check.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { PathError } from './paths.js';

/** The header the page sends its token in. */
export const TOKEN_HEADER = 'x-facecomb-token';

/** A fresh per-server token (a restarted server hands its page a new one: an old tab must reload). */
export function newToken(): string {
  return randomBytes(24).toString('hex');
}

/** The page's HTML with the token in its `<meta name="facecomb-token">`. */
export function embedToken(html: string, token: string): string {
  return html.replace(/<meta name="facecomb-token" content="[^"]*">/, `<meta name="facecomb-token" content="${token}">`);
}

/** Throws (403 / 415) unless the write comes from this server's own page. Host is checked before. */
export function checkWriteRequest(req: IncomingMessage, token: string): void {
  const origin = req.headers.origin;
  if (origin !== `http://${req.headers.host}`) {
    throw new PathError(`write refused: Origin '${origin ?? '(none)'}' is not this page (http://${req.headers.host}); save from the review page itself`, 403);
  }
  const sent = Buffer.from(String(req.headers[TOKEN_HEADER] ?? ''));
  const want = Buffer.from(token);
  if (sent.length !== want.length || !timingSafeEqual(sent, want)) {
    throw new PathError(`write refused: missing or wrong ${TOKEN_HEADER} header (the server was restarted? reload the page)`, 403);
  }
  if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) {
    throw new PathError(`write refused: the body must be sent as application/json, not '${req.headers['content-type'] ?? '(none)'}'`, 415);
  }
}

/** The request body as text, refused (413) past `max` bytes. */
export function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((res, rej) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        rej(new PathError(`write refused: the body is over ${max} bytes`, 413));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => res(Buffer.concat(chunks).toString('utf8')));
    req.on('error', rej);
  });
}
