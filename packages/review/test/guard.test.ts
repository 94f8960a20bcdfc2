// Who the review server answers and what it sends: a foreign Host header (DNS rebinding) is refused, cache
// internals (hashes.json, manifests, index, locks, the farm key) are not served, no absolute path of this
// machine reaches the browser, live pages are capped, and binding a non-loopback address warns.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MAX_EVENT_CLIENTS } from '../src/server.js';
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
