// Labelling in the review page: the occlusion stage's view draws polygons on the align stage's real crops (its
// masks overlaid) and saves them through the page's one write, POST /api/labels, which makes the stage stale. Over HTTP: the write is refused without the
// page's token, from a foreign Origin or Host, with a non-JSON body, with malformed labels or a frame that has
// no crop, and with a client-supplied path; nothing is written then. In chromium (puppeteer-core): a polygon
// drawn with the mouse, one of its points dragged, an exclude polygon closed on its first point, a third one
// selected and deleted, another stage opened and this one again (the polygons kept), saved: the file holds
// those points; a damaged labels file's error is shown on the page.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { REPO, get, getJson, openChromium, project, runner, serve, waitForEvent } from './helpers.js';

const PHOTOS = join(REPO, 'node_modules', '@vladmandic', 'face-api', 'demo');
const ALIGNED = `version: 1
name: mini
stages:
  clip: { uses: synth, with: { image: "${PHOTOS}/sample6.jpg", crop: [1004, 175, 540, 540], size: [128, 128], frames: 3, motion: 0.06, light: 0.15, seed: 1 } }
  clip-align: { uses: align, needs: [clip], with: { size: 64, samples: 1 } }
  occl: { uses: occlusion, needs: [clip, clip-align], with: { labels: hand/occl-labels.json, size: 32, steps: 2, batch: 2, contact: false } }
`;
// then two more occlusion stages: one without labels (the page says which line to add), one naming a file that
// is not a labels file (the labels file named must exist for the pipeline to load: it is an input)
const LABELLED = `${ALIGNED}  occl2: { uses: occlusion, needs: [clip, clip-align] }
  occl3: { uses: occlusion, needs: [clip, clip-align], with: { labels: mini.yaml } }
`;

let dir = '';
let url = '';
let origin = '';
let token = '';
let frames: string[] = [];
let stop: () => Promise<void> = async () => undefined;
const target = () => join(dir, 'hand', 'occl-labels.json');
const EMPTY = '{"version": 1, "frames": {}}\n';
const q = (stage: string) => `/api/labels?pipeline=mini&stage=${stage}`;
const tri = (mode: string) => ({ mode, points: [[0.1, 0.1], [0.9, 0.15], [0.5, 0.9]] });
const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  get(url, path, { method: 'POST', body, headers: { origin, 'x-facecomb-token': token, 'content-type': 'application/json', ...headers } });

before(async () => {
  dir = project({ 'mini.yaml': ALIGNED, 'hand/occl-labels.json': EMPTY });
  const r = runner(['run', 'mini.yaml', '--backend', 'wasm', '--jobs', '1'], dir);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  writeFileSync(join(dir, 'mini.yaml'), LABELLED);
  ({ url, stop } = await serve(['mini.yaml'], dir));
  origin = url.replace(/\/$/, '');
  token = /<meta name="facecomb-token" content="([0-9a-f]{48})">/.exec((await get(url, '/')).text)?.[1] ?? '';
  assert.ok(token, 'the page carries its token');
  frames = (await getJson(url, q('occl'))).crops.frames;
  assert.ok(frames.length >= 2, `the align stage cropped faces (${frames.join(', ')})`);
});
after(() => stop());

test('the labels file is the pipeline\'s own; the write is refused unless the page itself sends valid labels', async () => {
  const view = await getJson(url, q('occl'));
  assert.equal(view.file, 'hand/occl-labels.json');
  assert.equal(view.text, EMPTY);
  assert.equal(view.error, null);
  // the stage has run: its masks are there to overlay
  const stage = await getJson(url, '/api/stage?pipeline=mini&stage=occl');
  assert.equal(view.masks, `${stage.view.dir}/masks`);
  const mask = await get(url, `/files/${view.masks}/${frames[0]}.png`);
  assert.equal(mask.headers['content-type'], 'image/png', mask.text);
  const plain = await getJson(url, q('occl2'));
  assert.equal(plain.file, 'labels/occl2.json');
  assert.match(plain.hint, /add 'labels: labels\/occl2\.json' to its 'with:' in mini\.yaml/);

  const good = JSON.stringify({ version: 1, frames: { [frames[0]]: [tri('include')] } });
  const refused: [string, Promise<Awaited<ReturnType<typeof get>>>, number, RegExp][] = [
    ['no token', post(q('occl'), good, { 'x-facecomb-token': '' }), 403, /x-facecomb-token/],
    ['a wrong token', post(q('occl'), good, { 'x-facecomb-token': 'f'.repeat(48) }), 403, /x-facecomb-token/],
    ['a foreign Origin', post(q('occl'), good, { origin: 'http://evil.example' }), 403, /Origin 'http:\/\/evil\.example'/],
    ['no Origin', post(q('occl'), good, { origin: '' }), 403, /Origin/],
    ['a foreign Host', post(q('occl'), good, { host: 'evil.example' }), 403, /Host 'evil\.example'/],
    ['a form body', post(q('occl'), good, { 'content-type': 'text/plain' }), 415, /application\/json/],
    ['malformed JSON', post(q('occl'), '{"version": 1, "frames": {', {}), 400, /occl-labels\.json/],
    ['a frame with no crop', post(q('occl'), JSON.stringify({ version: 1, frames: { '999999': [tri('include')] } }), {}), 400, /999999/],
    ['a client-supplied path', post(`${q('occl')}&path=../evil.json`, good), 400, /'path' not accepted/],
    ['a labels param that is not a .json file', post(q('occl3'), good), 400, /'labels: mini\.yaml' must name a \.json file/],
    ['a stage that is not occlusion', post('/api/labels?pipeline=mini&stage=clip', good), 400, /synth stage/],
  ];
  for (const [what, r, status, message] of refused) {
    const got = await r;
    assert.equal(got.status, status, `${what}: ${got.text}`);
    assert.match(JSON.parse(got.text).error, message, what);
  }
  for (const method of ['PUT', 'DELETE', 'PATCH']) assert.equal((await get(url, q('occl'), { method, headers: { origin, 'x-facecomb-token': token } })).status, 405, method);
  assert.equal((await post('/api/stage?pipeline=mini&stage=occl', good)).status, 405, 'no other path takes a POST');
  assert.equal(readFileSync(target(), 'utf8'), EMPTY, 'nothing written');
  assert.deepEqual(readdirSync(join(dir, 'hand')), ['occl-labels.json'], 'no other file either');
  assert.ok(!existsSync(join(dir, 'labels')), 'nor in the other stage\'s folder');
  assert.equal(readFileSync(join(dir, 'mini.yaml'), 'utf8'), LABELLED, 'the pipeline file untouched');
  assert.ok(!existsSync(join(dir, 'evil.json')) && !existsSync(join(dir, '..', 'evil.json')), 'nothing written at the client\'s path');

  const ok = await post(q('occl'), good);
  assert.equal(ok.status, 200, ok.text);
  // the labels file is an input of the stage: saved labels make it (and what needs it) run again
  type Pipelines = { name: string; stages: { name: string; state: string; reasons: string[] }[] }[];
  const occl = (ps: Pipelines) => ps[0].stages.find((x) => x.name === 'occl')!;
  const after = await waitForEvent<Pipelines>(url, (ps) => occl(ps).state === 'stale');
  assert.match(occl(after).reasons.join('; '), /hand\/occl-labels\.json changed/);
  assert.deepEqual(JSON.parse(readFileSync(target(), 'utf8')), JSON.parse(good));
  assert.deepEqual(readdirSync(join(dir, 'hand')), ['occl-labels.json'], 'no temp file left beside it');
  // a malformed save after a good one leaves the good file as it was
  assert.equal((await post(q('occl'), '{"version": 1, "frames": {"x": 3}}')).status, 400);
  assert.deepEqual(JSON.parse(readFileSync(target(), 'utf8')), JSON.parse(good));
});

test('chromium: draw polygons with the mouse, move a point, save; a damaged file\'s error is shown', { timeout: 180_000 }, async (t) => {
  writeFileSync(target(), EMPTY);
  const chromium = await openChromium(t, dir);
  if (!chromium) return;
  const { browser, page, errors, shots } = chromium;
  try {
    await page.setViewport({ width: 1200, height: 1000 });
    await page.goto(`${url}#p=mini&s=occl`, { waitUntil: 'load' });
    await page.waitForSelector('#label-canvas');
    assert.equal(await page.$$eval('#label-strip .label-tile', (ts) => ts.length), frames.length, 'one tile per aligned crop');
    await page.waitForFunction(() => [...document.querySelectorAll('#label-strip img.mask')].some((i) => (i as HTMLImageElement).naturalWidth > 0));
    // the stage's picture in the graph: a mask (no contact sheet in this run)
    await page.waitForFunction(() => ((document.querySelector('.node[data-stage="occl"] .thumb img') as HTMLImageElement | null)?.naturalWidth ?? 0) > 0);
    await page.click(`#label-strip .label-tile[data-frame="${frames[1]}"]`);
    // the crop is drawn (the canvas is not all black)
    await page.waitForFunction(() => {
      const c = document.querySelector('#label-canvas') as HTMLCanvasElement;
      const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      for (let i = 0; i < px.length; i += 4) if (px[i] + px[i + 1] + px[i + 2] > 60) return true;
      return false;
    });
    await page.$eval('#label-canvas', (e) => e.scrollIntoView({ block: 'center' }));
    const box = (await (await page.$('#label-canvas'))!.boundingBox())!;
    const at = (x: number, y: number): [number, number] => [box.x + x * box.width, box.y + y * box.height];
    // an include polygon: three clicks, Enter closes it
    for (const [x, y] of [[0.2, 0.2], [0.8, 0.25], [0.5, 0.85]]) await page.mouse.click(...at(x, y));
    await page.keyboard.press('Enter');
    // its second point dragged to (0.7, 0.4)
    await page.mouse.move(...at(0.8, 0.25));
    await page.mouse.down();
    await page.mouse.move(...at(0.75, 0.3), { steps: 2 });
    await page.mouse.move(...at(0.7, 0.4), { steps: 2 });
    await page.mouse.up();
    // an exclude polygon, closed by clicking its first point
    await page.click('#label-exclude');
    for (const [x, y] of [[0.05, 0.9], [0.15, 0.9], [0.1, 0.97], [0.05, 0.9]]) await page.mouse.click(...at(x, y));
    // a third polygon, then a stray click dropped with Escape; the third selected by a click inside it, deleted
    for (const [x, y] of [[0.85, 0.8], [0.95, 0.8], [0.9, 0.95]]) await page.mouse.click(...at(x, y));
    await page.keyboard.press('Enter');
    await page.mouse.click(...at(0.6, 0.05));
    await page.keyboard.press('Escape');
    await page.mouse.click(...at(0.9, 0.85));
    await page.keyboard.press('Delete');
    // the rasterised labels: white inside the include polygon
    const white = await page.$eval('#label-raster', (c) => {
      const cv = c as HTMLCanvasElement;
      const px = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
      let n = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i] > 200) n++;
      return n / (px.length / 4);
    });
    assert.ok(white > 0.1 && white < 0.4, `the include polygon is about a fifth of the crop (${white})`);
    // unsaved polygons survive opening another stage and coming back
    await page.click('.node[data-stage="clip"]');
    await page.waitForSelector('#label-canvas', { hidden: true });
    await page.click('.node[data-stage="occl"]');
    await page.waitForSelector(`#label-strip .label-tile.on[data-frame="${frames[1]}"] b`);
    assert.equal(await page.$eval(`#label-strip .label-tile[data-frame="${frames[1]}"] b`, (b) => b.textContent), '2');
    assert.equal(await page.$eval('#label-status', (e) => e.textContent), 'unsaved changes');
    await page.click('#label-save');
    await page.waitForFunction(() => /^saved /.test(document.querySelector('#label-status')!.textContent ?? ''));
    assert.match(await page.$eval('#label-status', (e) => e.textContent!), /saved 2 polygons on 1 frame to hand\/occl-labels\.json/);
    await page.screenshot({ path: join(shots, 'labels.png'), fullPage: true });

    const saved = JSON.parse(readFileSync(target(), 'utf8'));
    assert.deepEqual(Object.keys(saved.frames), [frames[1]]);
    const [inc, exc] = saved.frames[frames[1]];
    assert.equal(inc.mode, 'include');
    assert.equal(exc.mode, 'exclude');
    const close = (got: number[][], want: number[][]) => got.length === want.length && got.every(([x, y], i) => Math.abs(x - want[i][0]) < 0.01 && Math.abs(y - want[i][1]) < 0.01);
    assert.ok(close(inc.points, [[0.2, 0.2], [0.7, 0.4], [0.5, 0.85]]), `include points ${JSON.stringify(inc.points)}`);
    assert.ok(close(exc.points, [[0.05, 0.9], [0.15, 0.9], [0.1, 0.97]]), `exclude points ${JSON.stringify(exc.points)}`);

    // a labels file damaged by hand: the view says what is wrong with which label
    writeFileSync(target(), JSON.stringify({ version: 1, frames: { '999999': [tri('include')] } }));
    await page.click('.node[data-stage="clip"]');
    await page.click('.node[data-stage="occl"]');
    await page.waitForFunction(() => /999999/.test(document.querySelector('#label-status')?.textContent ?? ''));
    assert.equal(await page.$eval('#label-status', (e) => e.className), 'err');
    assert.deepEqual(errors, [], 'no script errors');
  } finally {
    await browser.close();
  }
});
