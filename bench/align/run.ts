/**
 * Align benchmark on real footage: frames/s of the align stage on CPU (tfjs wasm), and landmark jitter
 * of the raw detections vs the stabilised landmarks.
 *
 *   npx tsc -b packages/align && node --import tsx bench/align/run.ts [video] [--size 256] [--frames N] [--detect-every 10]
 *
 * Jitter: mean over consecutive frame pairs of the mean displacement of the 68 points after removing the
 * rigid head motion (least-squares similarity between the two frames' points), divided by the
 * inter-ocular distance. Writes bench/results/align.json.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { alignFrames, landmarkJitter, trackDistance, parseAlignParams, readFrameSource, type Point } from '@facecomb/align';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('../..', import.meta.url));
const args = process.argv.slice(2);
const opt = (k: string, d: string) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const footageDir = join(root, '..', 'shared', 'footage');
const video = args[0] && !args[0].startsWith('--') ? args[0] : join(footageDir, 'congress', 'aoc-a.mp4');
if (!existsSync(video)) throw new Error(`${video} not found: the benchmark needs the real footage in ../shared/footage`);
const size = Number(opt('--size', '256'));
const maxFrames = Number(opt('--frames', '0'));

const work = await mkdtemp(join(tmpdir(), 'facecomb-bench-align-'));
try {
  const ffmpeg = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
  await mkdir(join(work, 'frames', 'frames'), { recursive: true });
  const ff = ['-v', 'error', '-i', video, '-vsync', '0', '-start_number', '1'];
  if (maxFrames > 0) ff.push('-frames:v', String(maxFrames));
  await promisify(execFile)(ffmpeg, [...ff, join(work, 'frames', 'frames', '%06d.png')]);
  const files = (await readdir(join(work, 'frames', 'frames'))).sort();
  const m = await sharp(join(work, 'frames', 'frames', files[0])).metadata();
  const frames = files.map((f) => Number(f.slice(0, 6)));
  await writeFile(join(work, 'frames', 'meta.json'), JSON.stringify({ kind: 'ingest', source: video, fps: 25, width: m.width, height: m.height, bitDepth: 8, frames, first: 1, last: frames.length, count: frames.length, audio: null, duration: frames.length / 25 }));

  const detectEvery = Number(opt('--detect-every', '10'));
  const params = parseAlignParams({ size, contact: false, detectEvery });
  const src = await readFrameSource(join(work, 'frames'));
  const run = await alignFrames(src, join(work, 'align'), params, {
    onFrame: (d, t) => { if (d % 25 === 0 || d === t) process.stderr.write(`  ${d}/${t} frames\n`); },
  });
  const cuts = new Set(run.results.map((r, i) => (r.cut && i > 0 ? i : -1)).filter((i) => i > 0));
  const track = (f: (r: (typeof run.results)[number]) => Point[] | undefined) => run.results.map((r) => f(r) ?? null);
  const raw = track((r) => r.face?.landmarksRaw);
  const multi = track((r) => r.multi);
  const refined = track((r) => r.refined);
  const stab = track((r) => r.face?.landmarks);
  const j = {
    raw: landmarkJitter(raw, cuts),
    multiSample: landmarkJitter(multi, cuts),
    refined: landmarkJitter(refined, cuts),
    stabilised: landmarkJitter(stab, cuts),
  };
  const ratio = j.raw.jitter / j.stabilised.jitter;
  const result = {
    video: video.startsWith(footageDir) ? join('../shared/footage', video.slice(footageDir.length + 1)) : video,
    frames: run.results.length,
    withFace: run.results.filter((r) => r.face).length,
    plate: `${m.width}x${m.height}`,
    size,
    faceType: params.faceType,
    samples: params.samples,
    refine: params.refine,
    smoothing: params.smoothing,
    backend: run.backend,
    detectEvery,
    detections: run.detections,
    tracked: run.results.filter((r) => r.tracked).length,
    lost: run.results.filter((r) => r.lost).map((r) => ({ frame: r.frame, why: r.lost })),
    sceneCuts: run.results.filter((r) => r.sceneCut).map((r) => r.frame),
    cpu: cpus()[0]?.model ?? 'unknown',
    seconds: Math.round(run.seconds * 100) / 100,
    fps: Math.round(run.fps * 100) / 100,
    msPerFrame: Object.fromEntries(Object.entries(run.timings).map(([k, v]) => [k, Math.round((v / run.results.length) * 1e4) / 10])),
    loadAverage: loadavg()[0],
    jitter: {
      raw: j.raw.jitter,
      multiSample: j.multiSample.jitter,
      refined: j.refined.jitter,
      stabilised: j.stabilised.jitter,
      pairs: j.raw.pairs,
      cuts: [...cuts].map((i) => run.results[i].frame),
    },
    ratio,
    // how far the stabilised landmarks sit from the per-frame estimate (lag/bias), in inter-ocular distances
    stabilisedVsRefined: trackDistance(stab, refined),
    stabilisedVsRaw: trackDistance(stab, raw),
    pass: ratio >= 2,
    date: new Date().toISOString(),
  };
  await mkdir(join(root, 'bench', 'results'), { recursive: true });
  await writeFile(join(root, 'bench', 'results', 'align.json'), JSON.stringify(result, null, 2) + '\n');
  const f = (v: number) => v.toFixed(5);
  console.log(`\nalign benchmark: ${result.video} (${result.frames} frames, ${result.plate}), crop ${size} ${params.faceType}, ${run.backend}`);
  console.log('| metric | value |');
  console.log('| --- | --- |');
  console.log(`| align fps (${run.backend}, CPU) | ${result.fps} |`);
  console.log(`| detector runs (detectEvery ${detectEvery}) | ${run.detections} of ${result.frames} frames (${result.lost.length} re-detections after a lost track, ${result.sceneCuts.length} scene cuts) |`);
  console.log(`| ms/frame: ${Object.entries(result.msPerFrame).map(([k, v]) => `${k} ${v}`).join(', ')} | (load avg ${result.loadAverage.toFixed(1)} on ${cpus().length} cores) |`);
  console.log(`| jitter raw (face-api, one pass) | ${f(j.raw.jitter)} |`);
  console.log(`| jitter multi-sample (${params.samples} windows) | ${f(j.multiSample.jitter)} |`);
  console.log(`| jitter + second pass | ${f(j.refined.jitter)} |`);
  console.log(`| jitter stabilised (+ one-euro) | ${f(j.stabilised.jitter)} |`);
  console.log(`| ratio raw / stabilised | ${ratio.toFixed(2)}x ${result.pass ? '(>= 2x: pass)' : '(< 2x: FAIL)'} |`);
  console.log(`| stabilised vs per-frame estimate | ${f(result.stabilisedVsRefined)} IOD |`);
  console.log(`\nwrote bench/results/align.json`);
} finally {
  await rm(work, { recursive: true, force: true });
}
