import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const pkgDir = fileURLToPath(new URL('..', import.meta.url));
export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/** The shared footage folder beside the repository; a clear failure when it is missing. */
export function footage(rel: string): string {
  const dir = fileURLToPath(new URL('../../../../shared/footage', import.meta.url));
  const file = join(dir, rel);
  if (!existsSync(file)) throw new Error(`test footage missing: ${file}; the tests need ../shared/footage beside the repository`);
  return file;
}

/** A sample photo that ships with @vladmandic/face-api (used by the demo pipeline). */
export function samplePhoto(n = 1): string {
  const file = join(repoRoot, 'node_modules', '@vladmandic', 'face-api', 'demo', `sample${n}.jpg`);
  if (!existsSync(file)) throw new Error(`sample photo missing: ${file}; run npm ci at the repository root`);
  return file;
}

export async function tmp(prefix = 'ingest-test-'): Promise<{ dir: string; done: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, done: () => rm(dir, { recursive: true, force: true }) };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cli.js <kind>` as the runner does (docs/STAGES.md). */
export function runCli(kind: string, env: { out: string; params: unknown; inputs?: Record<string, string>; pipelineDir?: string; stage?: string }): Promise<CliResult> {
  const cli = join(pkgDir, 'dist', 'cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (npx tsc -b packages/ingest at the repository root)`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, kind], {
      cwd: env.pipelineDir ?? pkgDir,
      env: {
        ...process.env,
        FACECOMB_OUT: env.out,
        FACECOMB_PARAMS: JSON.stringify(env.params),
        FACECOMB_INPUTS: JSON.stringify(env.inputs ?? {}),
        FACECOMB_STAGE: env.stage ?? kind,
        FACECOMB_PIPELINE_DIR: env.pipelineDir ?? pkgDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Runs a binary, collecting stdout; rejects on a non-zero exit with its stderr. */
export function exec(bin: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${bin} ${args.join(' ')} failed (${code}): ${err.slice(-800)}`))));
  });
}

export { countStreams, makeClip, pictureNumber, testPicture, type ClipSpec, type CountedStream } from './clips.js';

/** The progress lines a stage printed. */
export function progressLines(stdout: string): Array<{ done: number; total?: number; unit?: string }> {
  return stdout.split('\n').filter((l) => l.startsWith('::progress ')).map((l) => JSON.parse(l.slice(11)));
}

/** Writes an uncompressed scanline OpenEXR file with FLOAT R, G, B channels (values given in linear light). */
export async function writeExr(file: string, width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): Promise<void> {
  const parts: Buffer[] = [];
  const str = (s: string) => Buffer.from(`${s}\0`, 'latin1');
  const i32 = (...v: number[]) => { const b = Buffer.alloc(4 * v.length); v.forEach((x, i) => b.writeInt32LE(x, 4 * i)); return b; };
  const f32 = (...v: number[]) => { const b = Buffer.alloc(4 * v.length); v.forEach((x, i) => b.writeFloatLE(x, 4 * i)); return b; };
  const attr = (name: string, type: string, value: Buffer) => parts.push(str(name), str(type), i32(value.length), value);
  parts.push(Buffer.from([0x76, 0x2f, 0x31, 0x01]), i32(2));
  const chans = ['B', 'G', 'R'].map((c) => Buffer.concat([str(c), i32(2), Buffer.from([0, 0, 0, 0]), i32(1, 1)]));
  attr('channels', 'chlist', Buffer.concat([...chans, Buffer.from([0])]));
  attr('compression', 'compression', Buffer.from([0]));
  attr('dataWindow', 'box2i', i32(0, 0, width - 1, height - 1));
  attr('displayWindow', 'box2i', i32(0, 0, width - 1, height - 1));
  attr('lineOrder', 'lineOrder', Buffer.from([0]));
  attr('pixelAspectRatio', 'float', f32(1));
  attr('screenWindowCenter', 'v2f', f32(0, 0));
  attr('screenWindowWidth', 'float', f32(1));
  parts.push(Buffer.from([0]));
  const headerLen = parts.reduce((s, b) => s + b.length, 0);
  const lineBytes = 3 * 4 * width;
  const blockLen = 8 + lineBytes;
  const table = Buffer.alloc(8 * height);
  for (let y = 0; y < height; y++) table.writeBigUInt64LE(BigInt(headerLen + 8 * height + y * blockLen), 8 * y);
  parts.push(table);
  for (let y = 0; y < height; y++) {
    const line = Buffer.alloc(lineBytes);
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      line.writeFloatLE(b, 4 * x);
      line.writeFloatLE(g, 4 * (width + x));
      line.writeFloatLE(r, 4 * (2 * width + x));
    }
    parts.push(i32(y, lineBytes), line);
  }
  await writeFile(file, Buffer.concat(parts));
}
