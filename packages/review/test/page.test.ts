// The review page over a small real pipeline (demo-like: synth clips, align, identity sets, a tiny comb
// model trained for 12 steps, swap, blend, encode), run by the real runner: the per-kind data endpoints,
// then Debian's chromium (puppeteer-core, no browser download) loads the page, sees every stage, finds a
// rendered loss chart in the train view, moves the wipe slider in the blend view and saves screenshots.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cliSpawn } from '../../runner/test/helpers.js';
import { REPO, get, getJson, openChromium, project, runner, serve } from './helpers.js';

const PHOTOS = join(REPO, 'node_modules', '@vladmandic', 'face-api', 'demo');
const MINI = `version: 1
name: mini
stages:
  ava-clip: { uses: synth, with: { image: "${PHOTOS}/sample6.jpg", crop: [1004, 175, 540, 540], size: [128, 128], frames: 6, motion: 0.06, light: 0.15, seed: 1 } }
  bea-clip: { uses: synth, with: { image: "${PHOTOS}/sample3.jpg", crop: [404, 184, 560, 560], size: [128, 128], frames: 6, motion: 0.06, light: 0.15, seed: 2 } }
  shot: { uses: synth, with: { image: "${PHOTOS}/sample6.jpg", crop: [1313, 131, 560, 560], size: [160, 160], frames: 4, motion: 0.04, light: 0.08, seed: 4 } }
  ava-align: { uses: align, needs: [ava-clip], with: { size: 64, samples: 1 } }
  bea-align: { uses: align, needs: [bea-clip], with: { size: 64, samples: 1 } }
  shot-align: { uses: align, needs: [shot], with: { size: 64, samples: 1 } }
  ava: { uses: dataset, needs: [ava-align], with: { name: ava, heldoutFrames: 0.2 } }
  bea: { uses: dataset, needs: [bea-align], with: { name: bea, heldoutFrames: 0.2 } }
  train:
    uses: train
    needs: [ava, bea]
    with: { resolution: 16, startResolution: 8, stepsPerFade: 4, stepsPerStable: 4, batch: 2, channels: { "4": 8, "8": 8, "16": 8 }, latent: 16, previewEvery: 4, checkpointEvery: 4, heldoutEvery: 4, seed: 3 }
  swap: { uses: swap, needs: [train, shot-align], with: { source: ava } }
  blend: { uses: blend, needs: [shot, shot-align, swap], with: { mode: multiband } }
  encode: { uses: encode, needs: [blend, shot], with: { name: mini } }
  score: { uses: score, needs: [swap, blend, shot-align, train, ava, bea], with: { thresholds: { seamRatio: { max: 1000 } } } }
`;
const STAGES = ['ava-clip', 'bea-clip', 'shot', 'ava-align', 'bea-align', 'shot-align', 'ava', 'bea', 'train', 'swap', 'blend', 'encode', 'score'];

let dir = '';
let url = '';
let stop: () => Promise<void> = async () => undefined;
const q = (stage: string) => `pipeline=mini&stage=${stage}`;

before(async () => {
  dir = project({ 'mini.yaml': MINI });
  const r = runner(['run', 'mini.yaml', '--backend', 'wasm', '--jobs', '2'], dir);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  ({ url, stop } = await serve(['mini.yaml'], dir));
});
after(() => stop());

test('each kind shows what it made', async () => {
  const clip = await getJson(url, `/api/stage?${q('ava-clip')}`);
  assert.deepEqual(clip.frames.frames, [1, 2, 3, 4, 5, 6]);

  const align = await getJson(url, `/api/stage?${q('ava-align')}`);
  assert.equal(align.align.withFace, 6);
  assert.equal(align.align.plate, `${clip.view.dir}/frames`, 'landmarks drawn on the clip it aligned');
  assert.equal((await get(url, `/files/${align.align.contact}`)).headers['content-type'], 'image/png');
  const face = JSON.parse((await get(url, `/files/${align.align.faces}/000003.json`)).text);
  assert.equal(face.face.landmarks.length, 68);
  const jit = await getJson(url, `/api/jitter?${q('ava-align')}`);
  assert.deepEqual(jit.frame, [1, 2, 3, 4, 5, 6]);
  assert.equal(jit.raw[0], null, 'no motion before the first frame');
  const mean = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null).reduce((s, x, _, a) => s + x / a.length, 0);
  assert.ok(mean(jit.raw) > 0);
  assert.ok(mean(jit.stabilised) < mean(jit.raw), `stabilised ${mean(jit.stabilised)} < raw ${mean(jit.raw)}`);

  const train = await getJson(url, `/api/stage?${q('train')}`);
  assert.deepEqual(train.train.identities, ['ava', 'bea']);
  assert.deepEqual(train.train.previews.map((p: any) => p.step), [4, 8, 12]);
  assert.deepEqual(train.train.previews[2].files.map((f: any) => f.identity), ['ava', 'bea']);
  const m = await getJson(url, `/api/metrics?${q('train')}`);
  const lines = readFileSync(join(dir, '.facecomb', train.view.dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(m.step, lines.map((l) => l.step));
  assert.deepEqual(m.losses.bea, lines.map((l) => l.losses.bea));
  assert.ok(m.losses.ava.every((v: number | null) => v === null || Number.isFinite(v)));

  const blend = await getJson(url, `/api/stage?${q('blend')}`);
  const shot = await getJson(url, `/api/stage?${q('shot')}`);
  assert.deepEqual(blend.compare.frames, [1, 2, 3, 4]);
  assert.equal(blend.compare.a.dir, `${shot.view.dir}/frames`, 'compared with the plate');
  const fl = await getJson(url, `/api/flicker?${q('blend')}`);
  assert.equal(fl.pairs, 3);
  assert.ok(fl.region > 0 && fl.region < 1, `the swapped region is part of the plate (${fl.region})`);
  const swap = await getJson(url, `/api/stage?${q('swap')}`);
  assert.match(swap.compare.a.dir, /\/crops$/);

  const enc = await getJson(url, `/api/stage?${q('encode')}`);
  assert.deepEqual(enc.videos.map((v: string) => v.split('/').pop()).sort(), ['compare.mp4', 'mini.mp4']);
  const video = await get(url, `/files/${enc.videos.find((v: string) => v.endsWith('mini.mp4'))}`, { headers: { range: 'bytes=0-99' } });
  assert.equal(video.status, 206);
  assert.equal(video.headers['content-type'], 'video/mp4');
  assert.equal(video.body.length, 100);
  assert.equal(video.body.subarray(4, 8).toString(), 'ftyp');
});

/** Coloured (not grey) pixels on a canvas: drawn lines of a chart. */
function colouredPixels(c: Element): number {
  const cv = c as HTMLCanvasElement;
  const px = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
  let n = 0;
  for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 0 && Math.max(px[i], px[i + 1], px[i + 2]) - Math.min(px[i], px[i + 1], px[i + 2]) > 80) n++;
  return n;
}

test('a real browser: verdict, thumbnails, playback, 1:1 zoom, loss chart, dataset grid; then a failed gate and an A/B of two blends', { timeout: 420_000 }, async (t) => {
  const chromium = await openChromium(t, dir);
  if (!chromium) return;
  const { browser, page, errors, shots } = chromium;
  try {
    const elsewhere: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(url) && !r.url().startsWith('data:')) elsewhere.push(r.url());
    });
    await page.setViewport({ width: 1400, height: 1000 });
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForFunction((n) => document.querySelectorAll('.node').length === n, {}, STAGES.length);
    const nodes = await page.$$eval('.node', (els) => els.map((e) => [e.getAttribute('data-stage'), e.getAttribute('data-state')]));
    assert.deepEqual(nodes.map(([n]) => n).sort(), [...STAGES].sort());
    assert.ok(nodes.every(([, s]) => s === 'cached'), JSON.stringify(nodes));

    // the verdict: the score gate passed, with its deciding figure
    await page.waitForSelector('#verdict.pass');
    const verdict = await page.$eval('#verdict', (e) => ({ word: e.querySelector('.word')!.textContent, figs: [...e.querySelectorAll('.fig')].map((f) => [f.className, f.textContent]) }));
    assert.equal(verdict.word, 'PASS');
    assert.equal(verdict.figs.length, 1);
    assert.match(verdict.figs[0][1]!, /seamRatio [\d.]+ \(≤ 1000\)/);
    assert.equal(verdict.figs[0][0], 'fig ok');
    // a thumbnail on every stage (each made pictures), loaded
    await page.waitForFunction((n) => [...document.querySelectorAll('.node .thumb img')].filter((i) => (i as HTMLImageElement).naturalWidth > 0).length === n, {}, STAGES.length);
    // the graph is laid out without overlaps: no two stage boxes intersect
    const boxes = await page.$$eval('.node', (els) => els.map((e) => e.getBoundingClientRect().toJSON() as DOMRect));
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i], boxes[j]];
      assert.ok(a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top, `stages ${nodes[i][0]} and ${nodes[j][0]} overlap`);
    }
    await page.screenshot({ path: join(shots, 'overview.png') });

    // click-through from the verdict: the score view, one table, the figure coloured by its threshold
    await page.click('#verdict');
    await page.waitForSelector('#score-table tr[data-figure="seamRatio"].ok');
    assert.equal(await page.$$eval('#score-table', (t) => t.length), 1);
    assert.match(await page.$eval('#score-table tr[data-figure="identityRetrieval"]', (r) => r.textContent!), /nearest trained identity/);

    // the shot's frames: playback advances, the arrow keys step, 1:1 shows one image pixel per screen pixel
    await page.click('.node[data-stage="shot"]');
    await page.waitForFunction(() => (document.querySelector('#stage img.frame') as HTMLImageElement | null)?.naturalWidth === 160);
    const frameNow = () => page.$eval('.frame-label', (e) => Number((e as HTMLElement).dataset.frame));
    assert.equal(await frameNow(), 1);
    await page.click('button.play');
    await page.waitForFunction(() => Number((document.querySelector('.frame-label') as HTMLElement).dataset.frame) >= 3);
    await page.click('button.play');
    const paused = await frameNow();
    await page.keyboard.press('ArrowRight');
    assert.equal(await frameNow(), (paused % 4) + 1, 'the right arrow steps one frame (wrapping)');
    const width = () => page.$eval('#stage img.frame', (i) => Math.round(i.getBoundingClientRect().width));
    assert.ok((await width()) >= 320, 'fitted: the 160 px frame is shown larger');
    await page.click('button.zoom');
    assert.equal(await width(), 160, '1:1');
    await page.keyboard.press('z');
    assert.ok((await width()) >= 320, 'z: back to fit');

    // train: the loss chart is drawn, with its resolution marks; the previews load
    await page.click('.node[data-stage="train"]');
    await page.waitForSelector('#loss-chart canvas');
    await page.waitForFunction(() => [...document.querySelectorAll('#previews img')].some((i) => (i as HTMLImageElement).naturalWidth > 0));
    const coloured = await page.$eval('#loss-chart canvas', colouredPixels);
    assert.ok(coloured > 100, `loss lines drawn (${coloured} coloured pixels)`);
    const legend = await page.$$eval('#loss-chart .u-legend .u-label', (els) => els.map((e) => e.textContent));
    assert.deepEqual(legend, ['step', 'ava', 'bea', 'held-out ava', 'held-out bea'], 'the held-out loss of each identity, as train measured it');
    assert.match(await page.$eval('#train-facts', (e) => e.textContent!), /img\/s \(mean of all steps\)/);
    assert.match(await page.$eval('#checkpoints', (e) => e.textContent!), /^steps 4, 8(, 12)?: /, 'the kept checkpoints, for swap step:');
    await page.screenshot({ path: join(shots, 'train.png'), fullPage: true });

    // the same page, live: a stricter gate and another blend mode, run while the page is open
    // ... and an identity set of ava's clip plus a clip of window blinds, whose frames it rejects (no face)
    const mixed = `  blinds: { uses: synth, with: { image: "${PHOTOS}/sample6.jpg", crop: [470, 0, 320, 320], size: [96, 96], frames: 4, motion: 0.02, light: 0.05, seed: 5 } }
  blinds-align: { uses: align, needs: [blinds], with: { size: 64, samples: 1 } }
  ava-mixed: { uses: dataset, needs: [ava-align, blinds-align], with: { name: ava, heldout: 0 } }
`;
    writeFileSync(join(dir, 'mini.yaml'), MINI.replace('mode: multiband', 'mode: poisson').replace('max: 1000', 'max: 0.001') + mixed);
    const run = await cliSpawn(['run', 'mini.yaml', '--backend', 'wasm', '--jobs', '2'], { cwd: dir }).done;
    assert.equal(run.code, 1, `the gate fails the run\n${run.stdout}\n${run.stderr}`);
    await page.waitForSelector('#verdict.fail', { timeout: 60_000 });
    const failed = await page.$eval('#verdict', (e) => [...e.querySelectorAll('.fig')].map((f) => [f.className, f.textContent]));
    assert.equal(failed[0][0], 'fig bad');
    assert.match(failed[0][1]!, /seamRatio [\d.]+ \(≤ 0.001\)/, 'the deciding figure stays visible on a failed gate');
    await page.click('#verdict');
    await page.waitForSelector('#score-table tr[data-figure="seamRatio"].bad');
    assert.match(await page.$eval('#stage', (e) => e.textContent!), /from the failed run/);
    assert.doesNotMatch(await page.$eval('#stage', (e) => e.textContent!), /stale: /, 'failed, not also stale');

    // A/B: the multiband and the poisson blend, both cached, in one wipe
    await page.click('.node[data-stage="blend"]');
    await page.waitForSelector('#ab-a');
    const ab = await page.$$eval('#ab-a option', (os) => os.map((o) => [(o as HTMLOptionElement).value, o.textContent]));
    assert.equal(ab.length, 2);
    assert.match(ab[1][1]!, /mode: "multiband"/, 'the other run is told apart by its params');
    await page.waitForFunction(() => [...document.querySelectorAll('#ab-wipe img')].every((i) => (i as HTMLImageElement).naturalWidth > 0));
    const srcs = await page.$$eval('#ab-wipe img', (is) => is.map((i) => (i as HTMLImageElement).src));
    assert.ok(srcs[0].includes(ab[0][0]) && srcs[1].includes(ab[1][0]), `A and B show the two runs: ${srcs.join(' ')}`);
    await page.$eval('#ab-wipe-slider', (e) => e.scrollIntoView({ block: 'center' }));
    const box = (await (await page.$('#ab-wipe-slider'))!.boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.2, box.y + box.height / 2);
    const cut = await page.$eval('#ab-wipe-slider', (s) => Number((s as HTMLInputElement).value));
    assert.ok(cut >= 12 && cut <= 28, `slider moved to about 20 (${cut})`);
    assert.equal(await page.$eval('#ab-wipe img.top', (i) => (i as HTMLElement).style.clipPath), `inset(0px 0px 0px ${cut}%)`);
    await page.waitForFunction(() => (document.querySelector('#flicker')?.textContent ?? '').includes('ratio'));
    await page.screenshot({ path: join(shots, 'blend.png'), fullPage: true });

    // the dataset grid: every kept face, and the frames it rejected, marked with why
    await page.click('.node[data-stage="ava-mixed"]');
    await page.waitForSelector('#face-grid');
    const grid = await page.$$eval('#face-grid .face', (fs) => fs.map((f) => [f.className, f.getAttribute('title')]));
    const items = JSON.parse(readFileSync(join(dir, '.facecomb', (await getJson(url, `/api/stage?${q('ava-mixed')}`)).view.dir, 'items.json'), 'utf8'));
    assert.equal(grid.filter(([c]) => c === 'face train').length, items.length);
    assert.deepEqual(grid.filter(([c]) => c === 'face rejected').map(([, why]) => why), [1, 2, 3, 4].map((f) => `blinds-align frame ${f}: rejected (no face)`));
    assert.ok(items.length >= 5, `ava's faces kept (${items.length})`);
    await page.screenshot({ path: join(shots, 'dataset.png'), fullPage: true });
    t.diagnostic(`screenshots: ${shots}`);
    assert.deepEqual(errors, [], 'no script errors');
    assert.deepEqual(elsewhere, [], 'nothing requested from elsewhere');
  } finally {
    await browser.close();
  }
});
