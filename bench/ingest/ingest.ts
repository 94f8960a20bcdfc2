/**
 * Speed of the ingest package's stages: video -> PNG frames (ingest), still photo -> shot (synth), PNG frames ->
 * H.264 / ProRes (encode). Prints a table and writes bench/results/ingest.json.
 *   node --import tsx bench/ingest/ingest.ts            (200 frames per case)
 *   node --import tsx bench/ingest/ingest.ts --quick    (50 frames per case)
 * Uses ../shared/footage (congress/aoc-a.mp4, 512x512, 200 frames; congress/speaker-2.mp4, 844x844, 125 frames) and the face-api
 * sample photos; every output goes to os.tmpdir() and is deleted.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeVideo, findFfmpeg, ingest, synthesize } from '@facecomb/ingest';

const quick = process.argv.includes('--quick');
const N = quick ? 50 : 200;
const root = fileURLToPath(new URL('../..', import.meta.url));
const footage = join(root, '..', 'shared', 'footage');
if (!existsSync(footage)) throw new Error(`${footage} is missing: the benchmark needs ../shared/footage beside the repository`);
const photo = join(root, 'node_modules', '@vladmandic', 'face-api', 'demo', 'sample1.jpg');

interface Row { case: string; size: string; frames: number; seconds: number; fps: number }
const rows: Row[] = [];
const work = mkdtempSync(join(tmpdir(), 'bench-ingest-'));

async function time(name: string, size: string, frames: number, fn: () => Promise<unknown>): Promise<void> {
  const t0 = performance.now();
  await fn();
  const s = (performance.now() - t0) / 1000;
  rows.push({ case: name, size, frames, seconds: +s.toFixed(3), fps: +(frames / s).toFixed(1) });
  console.error(`${name}: ${(frames / s).toFixed(1)} frames/s`);
}

try {
  const aoc = join(footage, 'congress', 'aoc-a.mp4');
  const big = join(footage, 'congress', 'speaker-2.mp4');
  const M = Math.min(N, 125);
  await time('ingest mp4 -> 8-bit PNG', '512x512', N, () => ingest({ src: aoc, out: join(work, 'a'), range: [1, N] }));
  await time('ingest mp4 -> 16-bit PNG', '512x512', N, () => ingest({ src: aoc, out: join(work, 'a16'), range: [1, N], bitDepth: 16 }));
  await time('ingest mp4 -> 8-bit PNG', '844x844', M, () => ingest({ src: big, out: join(work, 'o'), range: [1, M] }));
  await time('ingest mp4 + scale 512', '844x844->512x512', M, () => ingest({ src: big, out: join(work, 'os'), range: [1, M], scale: 512 }));
  await time('ingest PNG sequence (sharp)', '512x512', N, () => ingest({ src: join(work, 'a', 'frames', '%06d.png'), out: join(work, 'seq') }));
  await time('synth (warp + PNG)', '512x512', N, () => synthesize({ image: photo, out: join(work, 's'), frames: N }));
  const enc = join(work, 'enc');
  mkdirSync(enc);
  await time('encode H.264 crf 18', '512x512', N, () => encodeVideo({ framesDir: join(work, 'a', 'frames'), out: join(enc, 'a.mp4'), fps: 25 }));
  await time('encode H.264 + audio', '512x512', N, () => encodeVideo({ framesDir: join(work, 'a', 'frames'), out: join(enc, 'b.mp4'), fps: 25, audio: { file: join(work, 'a', 'audio.m4a') } }));
  await time('encode ProRes 422 HQ', '512x512', N, () => encodeVideo({ framesDir: join(work, 'a', 'frames'), out: join(enc, 'c.mov'), fps: 25, format: 'prores' }));
  await time('encode H.264 crf 18', '844x844', M, () => encodeVideo({ framesDir: join(work, 'o', 'frames'), out: join(enc, 'd.mp4'), fps: 25 }));
} finally {
  rmSync(work, { recursive: true, force: true });
}

console.log(`\n| case | size | frames | seconds | frames/s |\n| --- | --- | --- | --- | --- |`);
for (const r of rows) console.log(`| ${r.case} | ${r.size} | ${r.frames} | ${r.seconds} | ${r.fps} |`);
const out = join(root, 'bench', 'results', 'ingest.json');
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, cpu: cpus()[0]?.model, ffmpeg: findFfmpeg(), quick, rows }, null, 2)}\n`);
console.log(`\nwritten ${out}`);
