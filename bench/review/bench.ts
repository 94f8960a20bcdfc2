// The review page on a large cache: `node --import tsx bench/review/bench.ts` from the repository root (after
// npx tsc -b). A pipeline of 50 shell stages, one of them with 10,000 PNG frames (BENCH_FRAMES), run by the
// real runner; then `runner serve` and timings of the page's requests and, with Debian's chromium, of the
// page in a real browser (navigation to every stage drawn, and to a frame of the 10,000-frame stage shown).
// Baseline in the same run: `runner status --json` of the same pipeline (the planning the page also does).
// Prints a table, writes bench/results/review.json.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import sharp from 'sharp';
import { frameName } from '@facecomb/stage';

const BIN = fileURLToPath(new URL('../../packages/runner/bin/runner.js', import.meta.url));
const RESULTS = fileURLToPath(new URL('../results/', import.meta.url));
const FRAMES = Number(process.env.BENCH_FRAMES ?? 10000);
const STAGES = 50;
// browser loads measured per figure (the median is reported: single loads on a shared machine vary by 2x)
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const CHROMIUM = process.env.FACECOMB_CHROMIUM ?? '/usr/bin/chromium';

function timeCli(args: string[], cwd: string): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, FACECOMB_CACHE: '' } });
  if (r.status !== 0) throw new Error(`runner ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
  return (performance.now() - t0) / 1000;
}

function fetchMs(base: string, path: string): Promise<{ ms: number; bytes: number }> {
  const u = new URL(base);
  const t0 = performance.now();
  return new Promise((res, rej) => {
    request({ host: u.hostname, port: u.port, path }, (r) => {
      let n = 0;
      r.on('data', (c: Buffer) => (n += c.length));
      r.on('end', () => (r.statusCode === 200 ? res({ ms: performance.now() - t0, bytes: n }) : rej(new Error(`${path}: ${r.statusCode}`))));
    })
      .on('error', rej)
      .end();
  });
}

const dir = mkdtempSync(join(tmpdir(), 'facecomb-bench-review-'));
writeFileSync(join(dir, 'package.json'), '{}');
const rows: [string, string][] = [];
const json: Record<string, number> = {};
let server: ReturnType<typeof spawn> | undefined;
try {
  // one 1280x720 frame copied FRAMES times by a shell stage (node copies: 10,000 sh `cp` would dominate)
  await sharp({ create: { width: 1280, height: 720, channels: 3, background: { r: 90, g: 120, b: 150 } } }).png().toFile(join(dir, 'frame.png'));
  const copy = `node -e "const fs=require('fs');fs.mkdirSync(process.env.FACECOMB_OUT+'/frames');const f=[];for(let i=1;i<=${FRAMES};i++){fs.copyFileSync('frame.png',process.env.FACECOMB_OUT+'/frames/'+String(i).padStart(6,'0')+'.png');f.push(i)}fs.writeFileSync(process.env.FACECOMB_OUT+'/meta.json',JSON.stringify({kind:'ingest',frames:f,count:f.length}))"`;
  let yaml = `version: 1\nname: big\nstages:\n  plate: {uses: shell, with: {inputs: [frame.png], cmd: ${JSON.stringify(copy)}}}\n`;
  for (let i = 1; i < STAGES; i++) yaml += `  s${i}: {uses: shell, needs: [${i === 1 ? 'plate' : `s${i - 1}`}${i > 2 ? ', plate' : ''}], with: {cmd: "echo '::summary {\\"i\\": ${i}}'; echo ${i} > $FACECOMB_OUT/x"}}\n`;
  writeFileSync(join(dir, 'big.yaml'), yaml);
  const tRun = timeCli(['run', 'big.yaml', '--jobs', '2'], dir);
  const status = timeCli(['status', 'big.yaml', '--json'], dir);

  const t0 = performance.now();
  server = spawn(process.execPath, [BIN, 'serve', 'big.yaml', '--port', '0'], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FACECOMB_CACHE: '' } });
  const url = await new Promise<string>((res, rej) => {
    let out = '';
    server!.stdout!.on('data', (d) => {
      out += d;
      const m = /(http:\/\/\S+\/)/.exec(out);
      if (m) res(m[1]);
    });
    server!.on('exit', (c) => rej(new Error(`serve exited ${c}`)));
  });
  const startS = (performance.now() - t0) / 1000;
  const page = await fetchMs(url, '/');
  const app = await fetchMs(url, '/static/app.js');
  const pipes = await fetchMs(url, '/api/pipelines');
  if (process.env.BENCH_KEEP) console.log(`serving ${url}`);
  const stage = await fetchMs(url, '/api/stage?pipeline=big&stage=plate');
  const stageWarm = await fetchMs(url, '/api/stage?pipeline=big&stage=plate');
  const key = JSON.parse(spawnSync(process.execPath, [BIN, 'status', 'big.yaml', '--json'], { cwd: dir, encoding: 'utf8' }).stdout)[0].key;
  const frame = `cache/${key}/out/frames/${frameName(Math.ceil(FRAMES / 2))}`;
  const full = await fetchMs(url, `/files/${frame}`);
  const thumbCold = await fetchMs(url, `/thumb/${frame}?w=256`);
  const thumbWarm = await fetchMs(url, `/thumb/${frame}?w=256`);
  rows.push(
    [`run: ${STAGES} stages, ${FRAMES} frames (making the cache)`, `${tRun.toFixed(1)} s`],
    ['baseline: runner status --json (same pipeline)', `${(status * 1000).toFixed(0)} ms`],
    ['runner serve: start to listening', `${(startS * 1000).toFixed(0)} ms (${(startS / status).toFixed(2)}x status)`],
    ['GET / + app.js', `${(page.ms + app.ms).toFixed(1)} ms`],
    [`GET /api/pipelines (${STAGES} stages, ${(pipes.bytes / 1024).toFixed(0)} KiB)`, `${pipes.ms.toFixed(1)} ms`],
    [`GET /api/stage of the ${FRAMES}-frame stage, first / again`, `${stage.ms.toFixed(1)} / ${stageWarm.ms.toFixed(1)} ms (${(stage.bytes / 1024).toFixed(0)} KiB)`],
    [`a 1280x720 frame as it is (${(full.bytes / 1024).toFixed(0)} KiB)`, `${full.ms.toFixed(1)} ms`],
    ['its 256 px thumbnail, made / cached', `${thumbCold.ms.toFixed(1)} / ${thumbWarm.ms.toFixed(1)} ms (${(thumbCold.ms / thumbWarm.ms).toFixed(0)}x)`],
  );
  Object.assign(json, { frames: FRAMES, stages: STAGES, statusMs: status * 1000, serveStartMs: startS * 1000, pageMs: page.ms + app.ms, pipelinesMs: pipes.ms, stageMs: stage.ms, stageWarmMs: stageWarm.ms, frameMs: full.ms, thumbColdMs: thumbCold.ms, thumbWarmMs: thumbWarm.ms });

  if (existsSync(CHROMIUM)) {
    const profile = join(dir, 'profile');
    mkdirSync(profile);
    const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`] });
    try {
      const tab = await browser.newPage();
      await tab.setViewport({ width: 1400, height: 1000 });
      tab.setDefaultTimeout(180_000);
      const measure = async (hash: string, ready: string) => {
        const t = performance.now();
        await tab.goto(`${url}${hash}`, { waitUntil: 'domcontentloaded' });
        await tab.waitForFunction(ready, { polling: 'raf' }); // every frame: an image that finishes loading changes no DOM node
        return performance.now() - t;
      };
      // first load warms the browser itself (process start, cache of the static files); then measured loads
      await measure('', `document.querySelectorAll('.node').length === ${STAGES}`);
      const graph: number[] = [];
      const frames: number[] = [];
      const blank: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        // baseline: the browser navigating to one small static file of the same server
        blank.push(await measure(`static/style.css?b=${i}`, 'document.body !== null'));
        graph.push(await measure(`?r=${i}`, `document.querySelectorAll('.node').length === ${STAGES}`));
        frames.push(await measure(`?f=${i}#p=big&s=plate`, `(() => { const i = document.querySelector('#stage img.frame'); return !!i && i.complete && i.naturalWidth > 0 && document.querySelector('.frame-scrub')?.max === '${FRAMES - 1}'; })()`));
      }
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      rows.push(
        [`browser baseline: a small static file (median of ${RUNS})`, `${med(blank).toFixed(0)} ms`],
        [`browser: page with ${STAGES} stages drawn`, `${med(graph).toFixed(0)} ms (${(med(graph) / med(blank)).toFixed(1)}x baseline)`],
        [`browser: page + the ${FRAMES}-frame stage's view, first frame shown`, `${med(frames).toFixed(0)} ms (${(med(frames) / med(blank)).toFixed(1)}x baseline)`],
      );
      Object.assign(json, { browserBlankMs: med(blank), browserGraphMs: med(graph), browserFrameViewMs: med(frames) });
    } finally {
      await browser.close();
    }
  } else rows.push(['browser', `skipped: no chromium at ${CHROMIUM}`]);
} finally {
  server?.kill('SIGTERM');
  if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
}

const w = Math.max(...rows.map((r) => r[0].length));
console.log(`review page, ${STAGES} stages, ${FRAMES} frames (load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores)`);
for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
mkdirSync(RESULTS, { recursive: true });
writeFileSync(join(RESULTS, 'review.json'), `${JSON.stringify({ date: new Date().toISOString(), loadavg: loadavg()[0], ...json }, null, 2)}\n`);
