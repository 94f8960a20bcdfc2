// Fault injection: `node --import tsx bench/faults/faults.ts` from the repository root (build first; root for
// the tmpfs probes, redis-server for the farm ones). Runs each probe of issue 20 against the real CLI, a real
// review server and a real farm, then prints a table and writes bench/results/faults.json:
//   survived      the probe's expected outcome held (the run recovered, or the input was refused as it should be)
//   data lost     a cache entry whose files differ from its manifest, or a committed entry gone
//   unclear       output with a stack trace, an unhandled error or a bare errno instead of a message
//   debris        temp folders, .tmp files or held locks left behind
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { Queue } from 'bullmq';
import sharp from 'sharp';
import { Cache, hashTree } from '@facecomb/runner';
import { PREFIX } from '@facecomb/farm';
import { redisOptions } from '../../packages/farm/src/url.js';
import { cli, cliSpawn, project, waitFor } from '../../packages/runner/test/helpers.js';
import { haveRedis, startRedis } from '../../packages/farm/test/redis.js';
import { get, serve } from '../../packages/review/test/helpers.js';

const RESULTS = fileURLToPath(new URL('../results/', import.meta.url));
const LEASE_JS = fileURLToPath(new URL('../../packages/runner/dist/lease.js', import.meta.url));

interface Outcome {
  survived: boolean;
  dataLost?: number;
  unclear?: boolean;
  debris?: string[];
  note: string;
}
type Probe = [name: string, run: () => Promise<Outcome>];

const UNCLEAR = /\n\s+at \S|Unhandled|\b(ENOSPC|ENOENT|EACCES|EIO): /;
const unclear = (...texts: string[]) => texts.some((t) => UNCLEAR.test(t));
const ONE = (cmd: string, extra = '') => `version: 1\nname: probe\nstages:\n  s:\n    uses: shell\n    with: { cmd: '${cmd}'${extra} }\n`;

/** Entries whose files differ from their manifests, and what was left half-made. */
async function audit(root: string): Promise<{ lost: number; debris: string[] }> {
  const cache = new Cache(root);
  let lost = 0;
  for (const k of cache.keys()) {
    const m = cache.manifest(k);
    if (m && JSON.stringify(await hashTree(m.artifacts)) !== JSON.stringify(m.outputs)) lost++;
  }
  const debris: string[] = [];
  const walk = (d: string) => {
    for (const e of existsSync(d) ? readdirSync(d, { withFileTypes: true }) : []) {
      const p = join(d, e.name);
      const rel = relative(root, p);
      if (rel.startsWith('tmp/') && rel.split('/').length === 2) debris.push(rel);
      else if (e.name.endsWith('.tmp')) debris.push(rel);
      else if (rel.startsWith('locks/') && e.isFile() && statSync(p).mtimeMs > 0) debris.push(rel);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(root);
  return { lost, debris };
}

/** A probe over one project: runs `act`, then audits its cache. */
async function local(files: Record<string, string>, act: (dir: string) => Promise<{ ok: boolean; out: string; note: string }>): Promise<Outcome> {
  const dir = project(files);
  const r = await act(dir);
  const a = await audit(join(dir, '.facecomb'));
  return { survived: r.ok, dataLost: a.lost, unclear: unclear(r.out), debris: a.debris, note: r.note };
}

function withTmpfs<T>(dir: string, kb: number, f: () => Promise<T>): Promise<T> {
  mkdirSync(dir, { recursive: true });
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', dir], { encoding: 'utf8' });
  if (m.status !== 0) throw new Error(`mount -t tmpfs: ${m.stderr.trim()} (run as root)`);
  return f().finally(() => spawnSync('umount', ['-l', dir]));
}

const text = (r: { stdout: string; stderr: string }) => r.stdout + r.stderr;

const probes: Probe[] = [
  ['kill -9 of the runner mid-stage, then a rerun', () =>
    local({ 'p.yaml': ONE('echo $$ > pid; echo part > $FACECOMB_OUT/a; while [ ! -f go ]; do sleep 0.05; done; echo b > $FACECOMB_OUT/b') }, async (dir) => {
      const run = cliSpawn(['run', 'p.yaml'], { cwd: dir });
      await waitFor(() => existsSync(join(dir, 'pid')), 20_000, 'the stage');
      run.child.kill('SIGKILL');
      await run.done;
      writeFileSync(join(dir, 'go'), '');
      const r = cli(['run', 'p.yaml'], { cwd: dir });
      return { ok: r.code === 0 && /1 ran/.test(r.stdout), out: text(r), note: `rerun: ${/\d ran, \d cached/.exec(r.stdout)?.[0]}` };
    })],
  ['two runners on one key', () =>
    local({ 'p.yaml': ONE('echo x >> runs; sleep 0.5; echo o > $FACECOMB_OUT/o') }, async (dir) => {
      const [a, b] = [cliSpawn(['run', 'p.yaml'], { cwd: dir }), cliSpawn(['run', 'p.yaml'], { cwd: dir })];
      const [ra, rb] = await Promise.all([a.done, b.done]);
      const runs = readFileSync(join(dir, 'runs'), 'utf8').split('\n').filter(Boolean).length;
      return { ok: ra.code === 0 && rb.code === 0 && runs === 1, out: text(ra) + text(rb), note: `stage ran ${runs} time(s)` };
    })],
  ['20 processes take over a dead holder\'s lock', async () => {
    const root = project({});
    const dir = join(root, 'locks', 'k');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '1'), JSON.stringify({ host: 'gone', pid: 1, leaseMs: 10 }));
    const at = Date.now() + 2000;
    const code = `const { LeaseLock } = await import(process.argv[1]); while (Date.now() < ${at}) await new Promise((r) => setTimeout(r, 1)); process.stdout.write(new LeaseLock(process.argv[2]).tryAcquire() ? 'won' : 'lost'); setTimeout(() => {}, 3000);`;
    const outs = await Promise.all(
      Array.from({ length: 20 }, () => new Promise<string>((res) => {
        const c = spawn(process.execPath, ['--input-type=module', '-e', code, LEASE_JS, dir]);
        let o = '';
        c.stdout.on('data', (d) => (o += d));
        c.on('close', () => res(o));
      })),
    );
    const won = outs.filter((o) => o === 'won').length;
    return { survived: won === 1, note: `${won} winner(s) of 20` };
  }],
  ['empty manifest.json (power loss), then status, show and run', () =>
    local({ 'p.yaml': ONE('echo o > $FACECOMB_OUT/o') }, async (dir) => {
      cli(['run', 'p.yaml'], { cwd: dir });
      const key = new Cache(join(dir, '.facecomb')).keys()[0];
      writeFileSync(join(dir, '.facecomb', 'cache', key, 'manifest.json'), '');
      const rs = [cli(['status', 'p.yaml'], { cwd: dir }), cli(['show', 'p.yaml', 's'], { cwd: dir }), cli(['run', 'p.yaml'], { cwd: dir })];
      return { ok: rs.every((r) => r.code === 0) && /1 ran/.test(rs[2].stdout) && /damaged/.test(rs[0].stdout), out: rs.map(text).join(''), note: 'rerun, entry replaced' };
    })],
  ['a full disk under the stage outputs and log (128 KB tmpfs)', () =>
    local({ 'p.yaml': ONE('sleep 0.3; head -c 1000000 /dev/zero > $FACECOMB_OUT/big') }, async (dir) =>
      withTmpfs(join(dir, '.facecomb'), 128, async () => {
        const r = cli(['run', 'p.yaml'], { cwd: dir });
        const a = await audit(join(dir, '.facecomb'));
        return { ok: r.code === 1 && /no space left on device writing \S+: free \d+ MB and rerun/.test(r.stdout) && !a.debris.length, out: text(r), note: /no space left[^)]*/.exec(r.stdout)?.[0].replace(dir, '.') ?? r.stdout };
      }),
    )],
  ['a full disk under ingest (20 noisy 256 px frames into a 256 KB tmpfs)', () =>
    local({}, async (dir) => {
      for (let i = 1; i <= 20; i++) {
        const noise = Buffer.from(Array.from({ length: 256 * 256 * 3 }, () => Math.floor(Math.random() * 256)));
        await sharp(noise, { raw: { width: 256, height: 256, channels: 3 } }).png().toFile(join(dir, `n.${String(i).padStart(4, '0')}.png`));
      }
      writeFileSync(join(dir, 'p.yaml'), `version: 1\nname: n\nstages:\n  plate:\n    uses: ingest\n    with: { src: 'n.####.png' }\n`);
      return withTmpfs(join(dir, '.facecomb'), 256, async () => {
        const r = cli(['run', 'p.yaml'], { cwd: dir });
        return { ok: r.code === 1 && /no space left on device writing \S+: free \d+ MB and rerun/.test(r.stdout), out: text(r).replace(/\n\s+\| [^\n]*/g, ''), note: /no space left[^)]*/.exec(r.stdout)?.[0].replace(dir, '.') ?? r.stdout.slice(-300) };
      });
    })],
  ['0 bytes free, then status', () =>
    local({ 'p.yaml': ONE('cat in.txt > $FACECOMB_OUT/o', ', inputs: [in.txt]'), 'in.txt': 'x' }, async (dir) =>
      withTmpfs(join(dir, '.facecomb'), 64, async () => {
        try {
          writeFileSync(join(dir, '.facecomb', 'fill'), Buffer.alloc(64 * 1024));
        } catch {
          /* full */
        }
        const r = cli(['status', 'p.yaml'], { cwd: dir });
        const a = await audit(join(dir, '.facecomb'));
        return { ok: r.code === 1 && /no space left on device writing \S+hashes\.json/.test(r.stderr) && !a.debris.length, out: text(r), note: r.stderr.trim().replace(dir, '.') };
      }),
    )],
  ['a non-UTF-8 file name in an input folder', () =>
    local({ 'p.yaml': ONE('ls in > $FACECOMB_OUT/o', ', inputs: [in]'), 'in/a.txt': 'a' }, async (dir) => {
      writeFileSync(Buffer.concat([Buffer.from(join(dir, 'in/')), Buffer.from([0x66, 0xe9])]), 'x');
      const r = cli(['run', 'p.yaml'], { cwd: dir });
      return { ok: r.code === 2 && /folder \S+in holds a file name that is not valid UTF-8/.test(r.stderr), out: text(r), note: 'refused, folder named' };
    })],
  ["inputs named 'take #2.txt' and 'shot[1].txt'", () =>
    local({ 'p.yaml': ONE('cat \\"take #2.txt\\" > $FACECOMB_OUT/o', ", inputs: ['take #2.txt', 'shot[1].txt']").replace(/\\"/g, '"'), 'take #2.txt': '2', 'shot[1].txt': '1' }, async (dir) => {
      const r = cli(['run', 'p.yaml'], { cwd: dir });
      return { ok: r.code === 0, out: text(r), note: r.code === 0 ? 'matched as written' : r.stderr.trim() };
    })],
  ['a fan-out of symbolic links (16 levels, 2 links each)', () =>
    local({ 'p.yaml': ONE('echo o > $FACECOMB_OUT/o', ', inputs: [t]') }, async (dir) => {
      for (let i = 0; i < 16; i++) {
        mkdirSync(join(dir, 't', `d${i}`), { recursive: true });
        writeFileSync(join(dir, 't', `d${i}`, 'f'), String(i));
        if (i) for (const l of ['a', 'b']) symlinkSync(`../d${i}`, join(dir, 't', `d${i - 1}`, l));
      }
      const t0 = Date.now();
      const r = cli(['run', 'p.yaml'], { cwd: dir, timeoutMs: 120_000 });
      const key = new Cache(join(dir, '.facecomb')).keys()[0];
      const n = key ? new Cache(join(dir, '.facecomb')).manifest(key)!.inputs.length : -1;
      return { ok: r.code === 0 && n === 16, out: text(r), note: `${n} inputs hashed in ${((Date.now() - t0) / 1000).toFixed(1)} s` };
    })],
  ['a YAML alias bomb', () =>
    local({ 'p.yaml': `version: 1\nname: b\nvars:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 8 }, (_, i) => `  v${i}: &v${i} [${Array(10).fill(i ? `*v${i - 1}` : '*a').join(', ')}]`).join('\n')}\nstages: {}\n` }, async (dir) => {
      const r = cli(['status', 'p.yaml'], { cwd: dir });
      return { ok: r.code === 2, out: text(r), note: r.stderr.split('\n')[0] };
    })],
  ['a PNG whose header claims 100000x100000 pixels, ingested', () =>
    local({}, async (dir) => {
      const png = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } }).png().toBuffer();
      png.writeUInt32BE(100000, 16);
      png.writeUInt32BE(100000, 20);
      png.writeUInt32BE(crc32(png.subarray(12, 29)) >>> 0, 29);
      writeFileSync(join(dir, 'h.0001.png'), png);
      writeFileSync(join(dir, 'p.yaml'), `version: 1\nname: h\nstages:\n  plate:\n    uses: ingest\n    with: { src: 'h.####.png' }\n`);
      const r = cli(['run', 'p.yaml'], { cwd: dir });
      return { ok: r.code === 1 && /cannot read image \S+h\.0001\.png/.test(r.stdout), out: text(r).replace(/\n\s+\| [^\n]*/g, ''), note: 'refused, file named' };
    })],
];

/** The review server over one small run: Host, internals, paths, live page cap. */
async function reviewProbes(): Promise<Probe[]> {
  const dir = project({ 'p.yaml': ONE('echo in $PWD; echo o > $FACECOMB_OUT/o') });
  cli(['run', 'p.yaml'], { cwd: dir });
  const s = await serve(['p.yaml'], dir);
  const done = () => s.stop();
  const at = (path: string, host?: string) => get(s.url, path, host ? { headers: { host } } : {});
  return [
    ['review: a foreign Host header (DNS rebinding)', async () => {
      const r = await at('/api/pipelines', 'evil.example');
      return { survived: r.status === 403, note: `${r.status}` };
    }],
    ['review: hashes.json and manifests asked for', async () => {
      const key = new Cache(join(dir, '.facecomb')).keys()[0];
      const rs = await Promise.all([at('/files/hashes.json'), at(`/files/cache/${key}/manifest.json`)]);
      return { survived: rs.every((r) => r.status === 403 || r.status === 404), note: rs.map((r) => r.status).join(', ') };
    }],
    ['review: absolute paths in what the page gets', async () => {
      const rs = await Promise.all(['/api/pipelines', '/api/log?pipeline=probe&stage=s'].map((p) => at(p)));
      return { survived: rs.every((r) => !r.text.includes(dir)), note: 'project folder sent as .' };
    }],
    ['review: 40 live pages at once', async () => {
      const u = new URL(s.url);
      const { request } = await import('node:http');
      const statuses = await Promise.all(
        Array.from({ length: 40 }, () => new Promise<{ code: number; close(): void }>((res) => {
          const req = request({ host: u.hostname, port: u.port, path: '/api/events' }, (r) => {
            r.resume();
            res({ code: r.statusCode ?? 0, close: () => req.destroy() });
          });
          req.end();
        })),
      );
      statuses.forEach((x) => x.close());
      await done();
      const refused = statuses.filter((x) => x.code === 503).length;
      return { survived: refused === 8, note: `${40 - refused} served, ${refused} refused (503)` };
    }],
  ];
}

/** A farm with one worker: a forged job, a Redis restart mid-stage. */
function farmProbes(): Probe[] {
  return [
    ['farm: an unsigned job injected into Redis', () =>
      local({ 'p.yaml': ONE('echo o > $FACECOMB_OUT/o') }, async (dir) => {
        const redis = await startRedis();
        const w = cliSpawn(['worker', '--farm', redis.url, '--slots', 'cpu=1'], { cwd: dir });
        try {
          await waitFor(() => /worker \S+ on redis/.test(w.out()), 20_000, 'the worker');
          const q = new Queue('cpu', { connection: redisOptions(redis.url), prefix: PREFIX });
          const job = { key: '0'.repeat(64), stage: 's', pipeline: { name: 'x', file: join(dir, 'p.yaml'), dir }, kind: { kind: 'shell', version: '1', pkg: 'builtin', keep: false, chunk: null }, params: { cmd: 'touch pwned' }, upstream: {}, inputs: [], resources: {}, forced: false };
          await q.add('forged', { job, submitter: { host: 'm', pid: 1 } } as never, { jobId: 'forged' });
          await q.close();
          await waitFor(() => /refuse job forged/.test(w.out()), 20_000, 'the refusal');
          return { ok: !existsSync(join(dir, 'pwned')), out: '', note: /refuse job[^\n]*/.exec(w.out())?.[0] ?? '' };
        } finally {
          w.child.kill('SIGKILL');
          redis.stop();
        }
      })],
    ['farm: Redis killed and restarted mid-stage', () =>
      local({ 'p.yaml': ONE('echo x >> runs; while [ ! -f go ]; do sleep 0.05; done; echo o > $FACECOMB_OUT/o') }, async (dir) => {
        let redis = await startRedis();
        const port = Number(new URL(redis.url).port);
        const ws = [0, 1].map(() => cliSpawn(['worker', '--farm', redis.url, '--slots', 'cpu=1'], { cwd: dir, env: { FACECOMB_FARM_LOCK_MS: '2000' } }));
        try {
          for (const w of ws) await waitFor(() => /worker \S+ on redis/.test(w.out()), 20_000, 'a worker');
          const run = cliSpawn(['run', 'p.yaml', '--farm', redis.url], { cwd: dir });
          await waitFor(() => existsSync(join(dir, 'runs')), 30_000, 'the stage');
          const gone = new Promise((r) => redis.proc.once('exit', r));
          redis.stop();
          await gone;
          redis = await startRedis(port);
          await waitFor(() => ws.some((w) => /another process holds its lock/.test(w.out())), 40_000, 'the second copy to wait');
          writeFileSync(join(dir, 'go'), '');
          const r = await run.done;
          const runs = readFileSync(join(dir, 'runs'), 'utf8').split('\n').filter(Boolean).length;
          return { ok: r.code === 0 && runs === 1 && /1 ran, 0 cached/.test(r.stdout), out: text(r), note: `stage ran ${runs} time(s); submitter: ${/\d ran, \d cached/.exec(r.stdout)?.[0]}` };
        } finally {
          writeFileSync(join(dir, 'go'), '');
          ws.forEach((w) => w.child.kill('SIGKILL'));
          redis.stop();
        }
      })],
  ];
}

const all = [...probes, ...(await reviewProbes()), ...(haveRedis() ? farmProbes() : [])];
const rows: (Outcome & { probe: string })[] = [];
for (const [name, run] of all) {
  let o: Outcome;
  try {
    o = await run();
  } catch (e) {
    o = { survived: false, note: `probe error: ${(e as Error).message}` };
  }
  rows.push({ probe: name, ...o });
  process.stdout.write(`${o.survived && !o.dataLost && !o.unclear && !o.debris?.length ? 'ok  ' : 'FAIL'}  ${name}: ${o.note}${o.debris?.length ? ` (left ${o.debris.join(', ')})` : ''}\n`);
}
const totals = {
  tried: rows.length,
  survived: rows.filter((r) => r.survived).length,
  dataLost: rows.reduce((n, r) => n + (r.dataLost ?? 0), 0),
  unclearErrors: rows.filter((r) => r.unclear).length,
  debris: rows.filter((r) => r.debris?.length).length,
};
process.stdout.write(`\nprobes tried ${totals.tried}, survived ${totals.survived}, data lost ${totals.dataLost}, unclear errors ${totals.unclearErrors}, left debris ${totals.debris}\n`);
mkdirSync(RESULTS, { recursive: true });
writeFileSync(join(RESULTS, 'faults.json'), `${JSON.stringify({ totals, rows }, null, 2)}\n`);
process.exit(0);
