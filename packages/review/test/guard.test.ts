// Who the review server answers and what it sends: a foreign Host header (DNS rebinding) is refused, cache
// internals (hashes.json, manifests, index, locks, the farm key) are not served, no absolute path of this
// machine reaches the browser, live pages are capped, a page that stops reading is dropped, and binding a
// non-loopback address warns.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, realpathSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MAX_EVENT_CLIENTS, startReviewServer } from '../src/server.js';
import { get, project, runner, serve } from './helpers.js';

const P = `version: 1
name: guard
stages:
  made:
    uses: shell
    with:
      inputs: [in.txt]
      cmd: 'echo "working in $PWD" && cp in.txt "$FACECOMB_OUT/copy.txt"'
`;

let dir = '';
let url = '';
let key = '';
let server: Awaited<ReturnType<typeof serve>>;

before(async () => {
  dir = project({ 'guard.yaml': P, 'in.txt': 'plate\n' });
  const r = runner(['run', 'guard.yaml'], dir);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  key = readdirSync(join(dir, '.facecomb', 'cache'))[0];
  // every interface: the bound address answers, with a warning
  server = await serve(['guard.yaml', '--host', '0.0.0.0', '--allow-host', 'review.studio'], dir);
  url = server.url.replace('0.0.0.0', '127.0.0.1');
});
after(() => server.stop());

const port = () => new URL(url).port;

test('binding a non-loopback address warns, naming the Host names it answers', () => {
  assert.match(server.stderr(), /warning: --host 0\.0\.0\.0 serves the review page .* to every machine .* port \d+.*localhost, 127\.0\.0\.1, \[::1\], 0\.0\.0\.0, review\.studio/);
});

test('a foreign Host header (DNS rebinding) is refused; the bound host, loopback names and --allow-host names are served', async () => {
  for (const host of [`evil.example:${port()}`, 'evil.example', `127.0.0.1.evil.example:${port()}`, 'localhost.evil.example']) {
    for (const path of ['/', '/api/pipelines', `/files/cache/${key}/out/copy.txt`]) {
      const r = await get(url, path, { headers: { host } });
      assert.equal(r.status, 403, `${host} ${path}`);
      assert.doesNotMatch(r.text, /plate|guard\.yaml|<html/i);
      assert.match(r.text, /is not served here.*--allow-host/);
    }
  }
  for (const host of [`127.0.0.1:${port()}`, `localhost:${port()}`, `[::1]:${port()}`, `review.studio:${port()}`, `REVIEW.studio`, `0.0.0.0:${port()}`]) {
    assert.equal((await get(url, '/api/pipelines', { headers: { host } })).status, 200, host);
  }
});

test('only artifacts and logs are served: not hashes.json, manifests, the index, locks or the farm key', async () => {
  assert.equal((await get(url, `/files/cache/${key}/out/copy.txt`)).text, 'plate\n');
  for (const p of ['hashes.json', `cache/${key}/manifest.json`, 'index/guard/made.json', `locks/${key}`, 'farm.key']) {
    const r = await get(url, `/files/${p}`);
    assert.ok(r.status === 403 || r.status === 404, `${p}: ${r.status}`);
    assert.doesNotMatch(r.text, /sha256|"inputs"/, p);
  }
});

test('no absolute path of this machine in what the browser gets', async () => {
  const real = realpathSync(dir);
  const texts = await Promise.all(
    ['/api/pipelines', '/api/stage?pipeline=guard&stage=made', '/api/log?pipeline=guard&stage=made', `/files/cache/${key}/log.txt`, '/api/stage?pipeline=guard&stage=nope', '/files/nothing/here'].map(async (p) => (await get(url, p)).text),
  );
  assert.match(texts[0], /"file":"\.\/guard\.yaml"/, 'the pipeline file relative to its project');
  assert.match(texts[2], /working in \./, 'the log is sent with the project folder replaced');
  for (const t of texts) {
    assert.ok(!t.includes(dir) && !t.includes(real), `no ${dir} in ${t.slice(0, 300)}`);
  }
});

test(`at most ${MAX_EVENT_CLIENTS} live pages; one more is refused until one closes`, async () => {
  const u = new URL(url);
  const open = () =>
    new Promise<{ status: number; close: () => void }>((res, rej) => {
      const req = request({ host: u.hostname, port: u.port, path: '/api/events' }, (r) => {
        r.resume();
        res({ status: r.statusCode ?? 0, close: () => req.destroy() });
      });
      req.on('error', rej);
      req.end();
    });
  const pages = [];
  for (let i = 0; i < MAX_EVENT_CLIENTS; i++) pages.push(await open());
  assert.ok(pages.every((p) => p.status === 200));
  const extra = await open();
  assert.equal(extra.status, 503);
  pages.pop()!.close();
  await new Promise((r) => setTimeout(r, 200));
  const again = await open();
  assert.equal(again.status, 200);
  again.close();
  for (const p of pages) p.close();
});

test('a live page that stops reading is dropped once its unread events pass the bound; a reading page keeps getting them', { timeout: 90_000 }, async () => {
  const root = join(project({}), '.facecomb');
  mkdirSync(join(root, 'cache'), { recursive: true });
  // the server's own status source: 2000 stages with long reasons, a new reason each time (~1 MB per event)
  let plan = 0;
  const status = async () => {
    plan++;
    return [{ name: 'big', file: join(root, '..', 'big.yaml'), stages: Array.from({ length: 2000 }, (_, i) => ({ name: `s${i}`, kind: 'shell', needs: [], state: 'stale' as const, reasons: [`plan ${plan}: ${'x'.repeat(400)}`], key: String(i).padStart(64, '0') })) }];
  };
  const srv = await startReviewServer({ root, status, port: 0 });
  try {
    const { port } = new URL(srv.url);
    const slow = connect(Number(port), '127.0.0.1');
    slow.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    slow.pause();
    let slowEnded = false;
    slow.on('close', () => (slowEnded = true));
    let fastBytes = 0;
    const fast = request({ host: '127.0.0.1', port, path: '/api/events' }, (r) => r.on('data', (d: Buffer) => (fastBytes += d.length)));
    fast.end();
    // each new entry folder in cache/ plans again and pushes a ~1 MB event to both pages
    let pushed = 0;
    for (let i = 0; i < 60 && !slowEnded; i++) {
      mkdirSync(join(root, 'cache', `n${i}`));
      await new Promise((r) => setTimeout(r, 250));
      pushed = fastBytes;
    }
    let slowBytes = 0;
    slow.on('data', (d: Buffer) => (slowBytes += d.length));
    slow.resume();
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(slowEnded, 'the slow page was dropped');
    assert.ok(pushed > 30e6, `the reading page got every event (${(pushed / 1e6).toFixed(1)} MB)`);
    assert.ok(slowBytes < pushed / 2, `the slow page was not buffered without bound (${(slowBytes / 1e6).toFixed(1)} of ${(pushed / 1e6).toFixed(1)} MB)`);
    fast.destroy();
  } finally {
    await srv.close();
  }
});
