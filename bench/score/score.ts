/**
 * What the score stage spends its time on, per face, on real footage (congress/aoc-a.mp4): face-api's
 * landmark + expression + recognition nets on an aligned crop, against its detector (SSD MobileNet v1) on
 * the bare crop and on the crop centred on a grey canvas twice its side (what the stage does), with the
 * share of faces each detection finds. Crop sizes 64 and 256. Writes bench/results/score.json.
 *
 *   npx tsc -b packages/score && node --import tsx bench/score/score.ts [--frames 12]
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readImage, type Image } from '@facecomb/image';
import { alignFrames, detectFaces, parseAlignParams, readFrameSource } from '@facecomb/align';
import { FaceReader, onCanvas } from '@facecomb/score';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('../..', import.meta.url));
const video = join(root, '..', 'shared', 'footage', 'congress', 'aoc-a.mp4');
if (!existsSync(video)) throw new Error(`${video} not found: the benchmark needs the real footage in ../shared/footage`);
const n = Number(process.argv[process.argv.indexOf('--frames') + 1] ?? 12) || 12;

const work = mkdtempSync(join(tmpdir(), 'facecomb-bench-score-'));
const rows: Record<string, unknown>[] = [];
try {
  // every 10th frame: different expressions, not 12 near-copies
  const frames = join(work, 'frames');
  mkdirSync(join(frames, 'frames'), { recursive: true });
  const ffmpeg = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
  execFileSync(ffmpeg, ['-v', 'error', '-i', video, '-vf', 'select=not(mod(n\\,10))', '-vsync', '0', '-frames:v', String(n), '-start_number', '1', join(frames, 'frames', '%06d.png')]);
  const numbers = readdirSync(join(frames, 'frames')).sort().map((f) => Number(f.slice(0, 6)));
  writeFileSync(join(frames, 'meta.json'), JSON.stringify({ kind: 'ingest', fps: 2.5, width: 512, height: 512, frames: numbers }));
  const reader = await FaceReader.open('wasm');
  for (const size of [64, 256]) {
    const out = join(work, `align-${size}`);
    await alignFrames(await readFrameSource(frames), out, parseAlignParams({ size, contact: false }), {});
    const crops: Image[] = [];
    for (const f of readdirSync(join(out, 'crops')).sort()) crops.push(await readImage(join(out, 'crops', f), { channels: 3 }));
    await reader.read(crops.slice(0, 1), 'wholeface', { detect: true }); // warm-up
    const time = async (fn: () => Promise<unknown>) => { const t = performance.now(); const r = await fn(); return { ms: (performance.now() - t) / crops.length, r }; };
    const nets = await time(() => reader.read(crops, 'wholeface'));
    const detect = (canvas: boolean) => time(async () => {
      let found = 0;
      for (const c of crops) if ((await detectFaces(reader.rt, canvas ? onCanvas(c) : c, 0.5)).length) found++;
      return found / crops.length;
    });
    const bare = await detect(false), padded = await detect(true);
    rows.push({ size, faces: crops.length, netsMs: nets.ms, detectBareMs: bare.ms, detectCanvasMs: padded.ms, foundBare: bare.r, foundCanvas: padded.r, detectOverNets: padded.ms / nets.ms });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const f = (v: unknown, d = 1) => (typeof v === 'number' ? v.toFixed(d) : String(v));
console.log('crop  faces  nets ms/face  detect bare ms (found)  detect canvas ms (found)  canvas detect / nets');
for (const r of rows) {
  console.log(`${f(r.size, 0).padStart(4)}  ${f(r.faces, 0).padStart(5)}  ${f(r.netsMs).padStart(12)}  ${`${f(r.detectBareMs)} (${f(r.foundBare, 2)})`.padStart(22)}  ${`${f(r.detectCanvasMs)} (${f(r.foundCanvas, 2)})`.padStart(24)}  ${f(r.detectOverNets, 2).padStart(20)}`);
}
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', 'score.json'), JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, load: loadavg(), engine: 'wasm', rows }, null, 2));
