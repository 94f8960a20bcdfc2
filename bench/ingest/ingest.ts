/**
 * Frame I/O speed of the ingest package at 1080p: video -> PNG frames (ingest) and PNG frames -> H.264 /
 * ProRes / EXR (encode), through the media layer (FFmpeg 8 libraries in process, node-av), against the previous
 * media layer in the same run: the ffmpeg 4.x binary of @ffmpeg-installer/ffmpeg run as a child process with the
 * same arguments fluent-ffmpeg gave it (present while another workspace still installs that package).
 * Also synth at 512x512. Prints a table and writes bench/results/ingest.json.
 *   node --import tsx bench/ingest/ingest.ts            (48 frames at 1080p)
 *   node --import tsx bench/ingest/ingest.ts --quick    (16 frames)
 * The 1080p source is made from ../shared/footage/congress/katiehill.mp4 scaled to 1920x1080 (H.264 crf 18);
 * every output goes to os.tmpdir() and is deleted.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getFFmpegInfo } from 'node-av/lib';
import { decodeVideo, encodeVideo, ingest, synthesize, VideoWriter } from '@facecomb/ingest';

const quick = process.argv.includes('--quick');
const N = quick ? 16 : 48;
const root = fileURLToPath(new URL('../..', import.meta.url));
const footage = join(root, '..', 'shared', 'footage');
if (!existsSync(footage)) throw new Error(`${footage} is missing: the benchmark needs ../shared/footage beside the repository`);
const photo = join(root, 'node_modules', '@vladmandic', 'face-api', 'demo', 'sample1.jpg');

interface Row { case: string; size: string; frames: number; seconds: number; fps: number; baseline?: string; ratio?: number }
const rows: Row[] = [];
const work = mkdtempSync(join(tmpdir(), 'bench-ingest-'));

async function time(name: string, size: string, frames: number, fn: () => Promise<unknown> | unknown, baseline?: string): Promise<Row> {
  const t0 = performance.now();
  await fn();
  const s = (performance.now() - t0) / 1000;
  const row: Row = { case: name, size, frames, seconds: +s.toFixed(3), fps: +(frames / s).toFixed(2) };
  if (baseline) {
    const b = rows.find((r) => r.case === baseline);
    if (b) { row.baseline = baseline; row.ratio = +(row.fps / b.fps).toFixed(2); }
  }
  rows.push(row);
  console.error(`${name}: ${row.fps} frames/s${row.ratio ? ` (${row.ratio}x ${baseline})` : ''}`);
  return row;
}

/** The previous media layer's ffmpeg binary, if still installed. */
function oldFfmpeg(): string | null {
  try {
    const p = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    return existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

function run(bin: string, args: string[]): void {
  const r = spawnSync(bin, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${bin} failed: ${r.stderr}`);
}

try {
  // the 1080p source: real footage scaled up, H.264
  const src = join(work, 'plate1080.mp4');
  const real = join(footage, 'congress', 'katiehill.mp4');
  const writer = new VideoWriter(src, { format: 'mp4', fps: { num: 25, den: 1 }, crf: 18 });
  let made = 0;
  await decodeVideo(real, ['scale=1920:1080:flags=bicubic'], 'rgb24', async (i, pic) => {
    if (i >= N) return;
    await writer.write({ width: pic.width, height: pic.height, channels: 3, data: new Uint8Array(pic.data.buffer, pic.data.byteOffset, pic.data.length) });
    made++;
  }, 1);
  await writer.finish();
  if (made !== N) throw new Error(`${real} gave ${made} frames, wanted ${N}`);

  const old = oldFfmpeg();
  const frames = join(work, 'new', 'frames');
  if (old) {
    mkdirSync(join(work, 'old'), { recursive: true });
    // as the previous extractFrames ran it: trim by frame index, PNG level 3
    await time('ingest mp4 -> 8-bit PNG, previous (ffmpeg 4 CLI)', '1920x1080', N, () => run(old, ['-i', src, '-map', '0:v:0', '-vf', `trim=start_frame=0:end_frame=${N},setpts=PTS-STARTPTS`, '-vsync', '0', '-start_number', '1', '-pix_fmt', 'rgb24', '-compression_level', '3', '-an', '-f', 'image2', join(work, 'old', '%06d.png')]));
  }
  await time('ingest mp4 -> 8-bit PNG (node-av)', '1920x1080', N, () => ingest({ src, out: join(work, 'new'), range: [1, N] }), 'ingest mp4 -> 8-bit PNG, previous (ffmpeg 4 CLI)');
  if (readdirSync(frames).length !== N) throw new Error('ingest wrote the wrong number of frames');
  if (old) {
    await time('ingest mp4 -> 16-bit PNG, previous (ffmpeg 4 CLI)', '1920x1080', N, () => run(old, ['-i', src, '-map', '0:v:0', '-vsync', '0', '-pix_fmt', 'rgb48be', '-compression_level', '3', '-an', '-f', 'image2', join(work, 'old', '16-%06d.png')]));
  }
  await time('ingest mp4 -> 16-bit PNG (node-av)', '1920x1080', N, () => ingest({ src, out: join(work, 'new16'), range: [1, N], bitDepth: 16 }), 'ingest mp4 -> 16-bit PNG, previous (ffmpeg 4 CLI)');

  const enc = join(work, 'enc');
  mkdirSync(enc);
  if (old) {
    await time('encode H.264 crf 18, previous (ffmpeg 4 CLI)', '1920x1080', N, () => run(old, ['-framerate', '25', '-start_number', '1', '-f', 'image2', '-i', join(frames, '%06d.png'), '-map', '0:v:0', '-c:v', 'libx264', '-preset', 'medium', '-crf', '18', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2', '-r', '25', '-frames:v', String(N), join(enc, 'old.mp4')]));
  }
  await time('encode H.264 crf 18 (node-av)', '1920x1080', N, () => encodeVideo({ framesDir: frames, out: join(enc, 'a.mp4'), fps: 25 }), 'encode H.264 crf 18, previous (ffmpeg 4 CLI)');
  if (old) {
    await time('encode ProRes 422 HQ, previous (ffmpeg 4 CLI)', '1920x1080', N, () => run(old, ['-framerate', '25', '-start_number', '1', '-f', 'image2', '-i', join(frames, '%06d.png'), '-map', '0:v:0', '-c:v', 'prores_ks', '-profile:v', '3', '-pix_fmt', 'yuv422p10le', '-vendor', 'apl0', '-r', '25', '-frames:v', String(N), join(enc, 'old.mov')]));
  }
  await time('encode ProRes 422 HQ (node-av)', '1920x1080', N, () => encodeVideo({ framesDir: frames, out: join(enc, 'b.mov'), fps: 25, format: 'prores' }), 'encode ProRes 422 HQ, previous (ffmpeg 4 CLI)');
  await time('encode ProRes 4444 + alpha (node-av)', '1920x1080', N, () => encodeVideo({ framesDir: frames, out: join(enc, 'c.mov'), fps: 25, format: 'prores4444' }));
  await time('encode EXR half ZIP (node-av; no baseline: the old binary has no EXR encoder)', '1920x1080', N, () => encodeVideo({ framesDir: frames, out: join(enc, 'exr'), fps: 25, format: 'exr' }));
  await time('encode png16 (node-av)', '1920x1080', N, () => encodeVideo({ framesDir: frames, out: join(enc, 'png16'), fps: 25, format: 'png16' }));
  await time('synth (warp + PNG)', '512x512', N, () => synthesize({ image: photo, out: join(work, 's'), frames: N }));
  if (!old) console.error('note: @ffmpeg-installer/ffmpeg is not installed: no baseline rows');
} finally {
  rmSync(work, { recursive: true, force: true });
}

console.log(`\n| case | size | frames | seconds | frames/s | vs previous |\n| --- | --- | --- | --- | --- | --- |`);
for (const r of rows) console.log(`| ${r.case} | ${r.size} | ${r.frames} | ${r.seconds} | ${r.fps} | ${r.ratio ? `${r.ratio}x` : ''} |`);
const out = join(root, 'bench', 'results', 'ingest.json');
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, cpu: cpus()[0]?.model, ffmpeg: getFFmpegInfo(), quick, rows }, null, 2)}\n`);
console.log(`\nwritten ${out}`);
