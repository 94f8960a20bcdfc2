// The review server's endpoints over a cache made by real runner runs of shell stages: files, thumbnails,
// logs, stage data, path escapes (.., encoded dots and slashes, absolute paths, symlinks), read-only
// behaviour, and live updates (a run in progress, then cached; a failed run) through server-sent events.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { RUNNER, get, getJson, project, runner, serve, snapshot, waitForEvent } from './helpers.js';

const FRAMES = `version: 1
name: paths
stages:
  frames:
    uses: shell
    with:
      inputs: [img.png]
      cmd: >-
        mkdir -p "$FACECOMB_OUT/frames" && cp img.png "$FACECOMB_OUT/frames/000001.png" && cp img.png "$FACECOMB_OUT/frames/000002.png" &&
        echo '{"kind": "ingest", "frames": [1, 2]}' > "$FACECOMB_OUT/meta.json" &&
        echo hello > "$FACECOMB_OUT/hello.txt" && ln -s "$FACECOMB_PIPELINE_DIR/secret.txt" "$FACECOMB_OUT/escape.txt" &&
        ln -s "$FACECOMB_PIPELINE_DIR/outside" "$FACECOMB_OUT/escape-dir" && ln -s hello.txt "$FACECOMB_OUT/inside.txt" &&
        i=0; while [ $i -lt 300 ]; do echo "log line $i"; i=$((i+1)); done; echo '::summary {"frames": 2}'
`;
const LIVE = `version: 1
name: live
stages:
  slow:
    uses: shell
    with:
      cmd: 'i=1; while [ $i -le 8 ]; do echo "::progress {\\"done\\": $i, \\"total\\": 8, \\"unit\\": \\"steps\\"}"; sleep 0.4; i=$((i+1)); done'
  broken:
    uses: shell
    needs: [slow]
    with: { cmd: 'echo "the plate is missing: check with.src" >&2; exit 3' }
`;

let dir = '';
let url = '';
let stop: () => Promise<void> = async () => undefined;
let key = '';
let before0: Record<string, string> = {};

before(async () => {
  dir = project({ 'paths.yaml': FRAMES, 'live.yaml': LIVE, 'secret.txt': 'outside the cache\n' });
  mkdirSync(join(dir, 'outside'));
  writeFileSync(join(dir, 'outside', 'secret.txt'), 'outside the cache\n');
  await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } }).png().toFile(join(dir, 'outside', 'img.png'));
  await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 200, g: 60, b: 30 } } }).png().toFile(join(dir, 'img.png'));
  const r = runner(['run', 'paths.yaml'], dir);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  key = readdirSync(join(dir, '.facecomb', 'cache'))[0];
  before0 = snapshot(join(dir, '.facecomb'), ['review-thumbs']);
  ({ url, stop } = await serve(['paths.yaml', 'live.yaml'], dir));
});
after(() => stop());

test('binds 127.0.0.1 unless told, serves the page and its local scripts', async () => {
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const page = await get(url, '/');
  assert.equal(page.status, 200);
  assert.match(page.text, /<script src="\/static\/app\.js"/);
  for (const p of ['/static/app.js', '/static/player.js', '/static/graph.js', '/static/style.css', '/static/uplot.js', '/static/uplot.css', '/static/dagre.js']) {
    const r = await get(url, p);
    assert.equal(r.status, 200, p);
    assert.ok(r.body.length > 100, p);
  }
  assert.match((await get(url, '/static/uplot.js')).text, /uPlot/);
  assert.match((await get(url, '/static/dagre.js')).text, /var dagre=/, "dagre's browser build, from node_modules");
  // the only absolute URL is the SVG namespace name (an identifier, never fetched)
  const ours = await Promise.all(['app', 'player', 'graph', 'dagre'].map(async (n) => (await get(url, `/static/${n}.js`)).text));
  const code = [page.text, ...ours].join('\n').replaceAll('http://www.w3.org/2000/svg', '');
  assert.doesNotMatch(code, /https?:\/\//i, 'nothing fetched from elsewhere');
});

test('pipelines: each stage with its state, key, reasons, duration and summary', async () => {
  const ps = await getJson(url, '/api/pipelines');
  assert.deepEqual(ps.map((p: any) => p.name), ['paths', 'live']);
  const frames = ps[0].stages[0];
  assert.equal(frames.display, 'cached');
  assert.equal(frames.key, key);
  assert.equal(frames.dir, `cache/${key}/out`);
  assert.deepEqual(frames.summary, { frames: 2 });
  assert.ok(frames.durationMs >= 0);
  const slow = ps[1].stages[0];
  assert.equal(slow.display, 'stale');
  assert.deepEqual(slow.reasons, ['never run']);
  assert.deepEqual(ps[1].stages[1].reasons, ['never run', "upstream 'slow' is stale"]);
});

test('stage data, files as they are (with byte ranges), thumbnails made once, log tail', async () => {
  const d = await getJson(url, '/api/stage?pipeline=paths&stage=frames');
  assert.deepEqual(d.frames, { dir: `cache/${key}/out/frames`, frames: [1, 2] });
  assert.ok(d.files.includes('hello.txt') && d.files.includes('frames/'));
  const png = await get(url, `/files/cache/${key}/out/frames/000001.png`);
  assert.equal(png.status, 200);
  assert.equal(png.headers['content-type'], 'image/png');
  assert.equal((await sharp(png.body).metadata()).width, 320);
  const part = await get(url, `/files/cache/${key}/out/hello.txt`, { headers: { range: 'bytes=1-3' } });
  assert.equal(part.status, 206);
  assert.equal(part.text, 'ell');
  assert.equal(part.headers['content-range'], 'bytes 1-3/6');
  assert.equal((await get(url, `/files/cache/${key}/out/inside.txt`)).text, 'hello\n', 'a link inside the cache is fine');

  const th = await get(url, `/thumb/cache/${key}/out/frames/000001.png?w=100`);
  assert.equal(th.status, 200);
  assert.equal(th.headers['content-type'], 'image/jpeg');
  const meta = await sharp(th.body).metadata();
  assert.equal(meta.width, 128, 'rounded up to a kept width');
  const thumbs = readdirSync(join(dir, '.facecomb', 'review-thumbs'));
  assert.equal(thumbs.length, 1);
  const again = await get(url, `/thumb/cache/${key}/out/frames/000001.png?w=128`);
  assert.deepEqual(again.body, th.body);
  assert.deepEqual(readdirSync(join(dir, '.facecomb', 'review-thumbs')), thumbs, 'made once');

  // a folder of the artifacts, listed for its links; nothing above the stage's folder
  const list = await getJson(url, '/api/list?pipeline=paths&stage=frames&sub=frames');
  assert.deepEqual(list, { sub: 'frames', names: ['000001.png', '000002.png'], total: 2 });
  for (const sub of ['..', 'frames/../..', '/etc']) assert.equal((await get(url, `/api/list?pipeline=paths&stage=frames&sub=${encodeURIComponent(sub)}`)).status, sub === '/etc' ? 404 : 400, sub);

  const log = await get(url, '/api/log?pipeline=paths&stage=frames&tail=5');
  assert.equal(log.status, 200);
  const lines = log.text.trimEnd().split('\n');
  assert.equal(lines.length, 5);
  assert.equal(lines[2], 'log line 299');
  assert.match(lines[4], /^# exit 0/);
  const whole = await get(url, `/files/cache/${key}/log.txt`);
  assert.match(whole.text, /log line 0\n[\s\S]*log line 299/);
});

test('no path outside the cache can be read', async () => {
  const attempts = [
    '/files/../secret.txt',
    '/files/../../secret.txt',
    '/files/%2e%2e/secret.txt',
    '/files/%2E%2E/%2E%2E/secret.txt',
    '/files/cache/%2e%2e/%2e%2e/secret.txt',
    `/files/cache/${key}/out/../../../../secret.txt`,
    '/files/..%2fsecret.txt',
    '/files/%2e%2e%2fsecret.txt',
    '/files/cache%2f..%2f..%2fsecret.txt',
    '/files/..%5csecret.txt',
    '/files//etc/passwd',
    '/files/%2fetc%2fpasswd',
    `/files/${encodeURIComponent(join(dir, 'secret.txt'))}`,
    `/files/${join(dir, 'secret.txt')}`,
    '/files/./cache',
    '/files/cache/%00',
    `/files/cache/${key}/out/escape.txt`,
    `/files/cache/${key}/out/escape-dir/secret.txt`,
    `/thumb/cache/${key}/out/escape-dir/img.png`,
    '/thumb/../img.png',
    '/thumb/%2e%2e/img.png',
  ];
  for (const p of attempts) {
    const r = await get(url, p);
    assert.ok([400, 403, 404].includes(r.status), `${p}: status ${r.status}`);
    assert.doesNotMatch(r.text, /outside the cache\n|root:/, `${p} leaked a file`);
    assert.ok(JSON.parse(r.text).error, `${p}: an error message`);
  }
  assert.equal((await get(url, `/files/cache/${key}/out/escape.txt`)).status, 403);
  assert.equal((await get(url, '/files/cache/nothing-here.txt')).status, 404);
  assert.equal((await get(url, '/api/stage?pipeline=paths&stage=nope')).status, 404);
  assert.equal((await get(url, '/api/stage?pipeline=nope&stage=frames')).status, 404);
  assert.equal((await get(url, '/api/nothing')).status, 404);
});

test('reads only: other methods are refused and serving changed nothing in the cache', async () => {
  for (const method of ['POST', 'PUT', 'DELETE']) {
    const r = await get(url, `/files/cache/${key}/out/hello.txt`, { method });
    assert.equal(r.status, 405, method);
  }
  assert.deepEqual(snapshot(join(dir, '.facecomb'), ['review-thumbs']), before0);
});

test('live: a run in progress, then cached; a failed stage with its log; an edited pipeline file', { timeout: 120_000 }, async () => {
  const running = waitForEvent<any[]>(url, (ps) => {
    const s = ps[1].stages[0];
    return s.display === 'running' && s.progress?.done >= 2;
  });
  // the run starts only once the event stream is open
  await new Promise((r) => setTimeout(r, 300));
  const child = spawn(process.execPath, [RUNNER, 'run', 'live.yaml'], { cwd: dir, env: { ...process.env, FACECOMB_CACHE: '' }, stdio: 'ignore' });
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const seen = await running;
  const slow = seen[1].stages[0];
  assert.equal(slow.progress.total, 8);
  assert.equal(slow.progress.unit, 'steps');
  assert.match(slow.dir, /^tmp\/[0-9a-f]{64}\.[^/]+\.\d+\.\w+\/out$/);
  const liveLog = await get(url, '/api/log?pipeline=live&stage=slow');
  assert.equal(liveLog.status, 200);
  assert.match(liveLog.text, /::progress/);

  const done = await waitForEvent<any[]>(url, (ps) => ps[1].stages[0].display === 'cached' && ps[1].stages[1].display === 'failed');
  assert.equal(await exited, 1);
  assert.match(done[1].stages[1].log, /^logs\/live\/broken-\d{8}-\d{6}\.log$/);
  const log = await get(url, '/api/log?pipeline=live&stage=broken');
  assert.match(log.text, /the plate is missing: check with\.src/);
  assert.ok(!existsSync(join(dir, '.facecomb', 'cache', key, 'out', 'progress.json')));
  for (const k of readdirSync(join(dir, '.facecomb', 'cache'))) {
    assert.ok(!existsSync(join(dir, '.facecomb', 'cache', k, 'progress.json')), 'progress.json never reaches the cache');
  }

  // the pipeline file edited: the page plans again and says why
  const edited = waitForEvent<any[]>(url, (ps) => ps[1].stages[0].display === 'stale');
  writeFileSync(join(dir, 'live.yaml'), LIVE.replace('sleep 0.4', 'sleep 0.3'));
  const ps = await edited;
  assert.deepEqual(ps[1].stages[0].reasons, ['param with.cmd changed']);
  assert.equal(ps[1].stages[0].lastKey, done[1].stages[0].key, 'its last run is still shown');
});

test('serve without files: every pipeline the cache has seen', async () => {
  const other = await serve([], dir);
  try {
    const ps = await getJson(other.url, '/api/pipelines');
    assert.deepEqual(ps.map((p: any) => p.name).sort(), ['live', 'paths']);
    assert.equal(ps.find((p: any) => p.name === 'paths').stages[0].display, 'cached');
  } finally {
    await other.stop();
  }
});

test('serve: clear errors for a missing cache, a busy port, a bad host', async () => {
  const empty = project({ 'x.yaml': 'version: 1\nname: x\nstages:\n  a: { uses: shell, with: { cmd: "true" } }\n' });
  const none = runner(['serve', 'x.yaml', '--port', '0'], empty);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^runner: no cache folder at .*\.facecomb: run a pipeline first/);
  const port = new URL(url).port;
  const busy = runner(['serve', 'paths.yaml', '--port', port], dir);
  assert.equal(busy.code, 2);
  assert.equal(busy.stderr, `runner: port ${port} on 127.0.0.1 is in use: choose another with --port N (0 picks a free one)\n`);
  const host = runner(['serve', 'paths.yaml', '--port', '0', '--host', '10.255.255.254'], dir);
  assert.equal(host.code, 2);
  assert.match(host.stderr, /--host 10\.255\.255\.254: not an address of this machine/);
});
