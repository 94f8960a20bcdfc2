// The review page's screenshots in docs/review/: `node --import tsx bench/review/screenshots.ts` from the
// repository root, after `npx runner run pipelines/demo.yaml` (synthetic demo data only: never point it at a
// pipeline of real footage). Starts `runner serve pipelines/demo.yaml`, opens each view in Debian's chromium.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Page } from 'puppeteer-core';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(REPO, 'packages/runner/bin/runner.js');
const OUT = join(REPO, 'docs/review');
const CHROMIUM = process.env.FACECOMB_CHROMIUM ?? '/usr/bin/chromium';

/** name, stage (null: the overview alone), what to wait for, what to do before the picture (default: show the stage view). */
const VIEWS: [string, string | null, string, ((p: Page) => Promise<void>)?][] = [
  ['overview', null, '.node .thumb img'],
  ['synth-1to1', 'shot', '#stage img.frame', async (p) => {
    await p.click('button.zoom');
    await p.$eval('#stage', (e) => e.scrollIntoView());
  }],
  ['align', 'shot-align', '#landmarks'],
  ['dataset', 'dee', '#face-grid img'],
  ['train', 'train', '#loss-chart canvas'],
  ['swap', 'swap', '#wipe img'],
  ['blend-ab', 'blend', '#ab-wipe img', (p) => p.$eval('.ab-slot', (e) => e.scrollIntoView())],
  ['score', 'score', '#score-table'],
  ['encode', 'encode', 'video'],
];

const profile = mkdtempSync(join(tmpdir(), 'facecomb-shots-'));
const server = spawn(process.execPath, [BIN, 'serve', 'pipelines/demo.yaml', '--port', '0'], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
try {
  const url = await new Promise<string>((res, rej) => {
    let out = '';
    server.stdout!.on('data', (d) => {
      out += d;
      const m = /(http:\/\/\S+\/)/.exec(out);
      if (m) res(m[1]);
    });
    server.on('exit', (c) => rej(new Error(`serve exited ${c}`)));
  });
  mkdirSync(OUT, { recursive: true });
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${profile}`] });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(60_000);
    await page.setViewport({ width: 1400, height: 900 });
    for (const [name, stage, ready, act] of VIEWS) {
      await page.goto(stage ? `${url}#p=demo&s=${stage}` : url, { waitUntil: 'load' });
      await page.waitForSelector(ready);
      await page.waitForFunction(() => [...document.images].every((i) => i.complete), { polling: 500 });
      if (act) await act(page);
      else if (stage) await page.$eval('#stage', (e) => e.scrollIntoView());
      await new Promise((r) => setTimeout(r, 500));
      await page.screenshot({ path: join(OUT, `${name}.png`), type: 'png' });
      console.log(`docs/review/${name}.png`);
    }
  } finally {
    await browser.close();
  }
} finally {
  server.kill('SIGTERM');
  rmSync(profile, { recursive: true, force: true });
}
