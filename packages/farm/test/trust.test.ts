import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Queue } from 'bullmq';
import { Cache, hashTree } from '@facecomb/runner';
import { cli, cliSpawn, project, waitFor } from '../../runner/test/helpers.js';
import { signJob } from '../src/sign.js';
import { PREFIX, type FarmJobData } from '../src/queues.js';
import { redisOptions } from '../src/url.js';
import { freePort, haveRedis, startRedis } from './redis.js';

const noRedis = haveRedis() ? undefined : 'redis-server is not installed (CI installs it with .ci/install-redis.sh)';
if (noRedis && process.env.CI === 'true') throw new Error(`${noRedis}: the farm tests cannot run`);

const ONE = `version: 1
name: one
stages:
  s:
    uses: shell
    with: { cmd: 'echo run >> count; echo good > $FACECOMB_OUT/out.txt' }
`;

const lines = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').filter(Boolean) : []);

test('forged jobs injected into Redis (unsigned, another secret, a signed job under a key its content does not give) are refused, the cache untouched; AUTH works', { skip: noRedis, timeout: 90_000 }, async (t) => {
  const dir = project({ 'one.yaml': ONE });
  const redis = await startRedis(undefined, 'p@ss word');
  const started: ReturnType<typeof cliSpawn>[] = [];
  t.after(() => {
    for (const s of started) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    redis.stop();
  });
  const w = cliSpawn(['worker', '--farm', redis.url, '--slots', 'cpu=1'], { cwd: dir });
  started.push(w);
  await waitFor(() => /worker \S+ on redis/.test(w.out()), 20_000, 'the worker to connect with AUTH');
  const first = cli(['run', 'one.yaml', '--farm', redis.url], { cwd: dir });
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.match(first.stdout, /one: 1 ran, 0 cached/);
  const cache = new Cache(join(dir, '.facecomb'));
  const [key] = cache.keys();
  const real = cache.manifest(key)!;

  // the attacker can write Redis but not read the cache folder's farm.key
  const q = new Queue('cpu', { connection: redisOptions(redis.url), prefix: PREFIX });
  t.after(() => q.close());
  const evil = { ...real, key, stage: 's', pipeline: { name: 'one', file: join(dir, 'one.yaml'), dir }, kind: { kind: 'shell', version: real.version, pkg: 'shell', keep: false, chunk: null }, params: { cmd: 'touch pwned; echo forged > $FACECOMB_OUT/out.txt' }, forced: true };
  const base = { job: evil, submitter: { host: 'mallory', pid: 1 } };
  const forged: [string, FarmJobData | Omit<FarmJobData, 'sig'>][] = [
    ['unsigned', base],
    ['other-secret', signJob(base, 'not the farm secret at all')],
    // signed with the real secret (a leaked key) yet claiming the real entry's key: its content gives another
    ['wrong-key', signJob(base, readFileSync(join(dir, '.facecomb', 'farm.key'), 'utf8').trim())],
  ];
  for (const [name, data] of forged) await q.add(`forged/${name}`, data as FarmJobData, { jobId: `${name}-${key}` });
  await waitFor(() => (w.out().match(/refuse job/g) ?? []).length === 3, 20_000, 'the worker to refuse the three forged jobs');
  assert.match(w.out(), /refuse job unsigned-\w+ \(forged\/unsigned\) on cpu: unsigned/);
  assert.match(w.out(), /refuse job other-secret-\w+ \(forged\/other-secret\) on cpu: signature does not match/);
  assert.match(w.out(), /refuse job wrong-key-\w+ \(forged\/wrong-key\) on cpu: its key \w+ is not the key of its content/);
  assert.ok(!existsSync(join(dir, 'pwned')), 'no forged command ran');
  assert.deepEqual(cache.keys(), [key]);
  assert.deepEqual(cache.manifest(key), real, 'the entry is untouched');
  assert.deepEqual(await hashTree(real.artifacts), real.outputs);
  const again = cli(['run', 'one.yaml', '--farm', redis.url], { cwd: dir });
  assert.match(again.stdout, /one: 0 ran, 1 cached/);
  assert.equal(readFileSync(join(real.artifacts, 'out.txt'), 'utf8'), 'good\n');
  assert.deepEqual(lines(join(dir, 'count')), ['run']);

  // a wrong password: a clear error naming the URL (its password hidden)
  const bad = cli(['farm', 'status', '--farm', redis.url.replace('p%40ss', 'nope')], { cwd: dir });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+: .*WRONGPASS/);
});

test('rediss:// URLs: TLS on, user and password decoded, database from the path', () => {
  const o = redisOptions('rediss://render:p%40ss@queue.example:6380/2');
  assert.deepEqual([o.host, o.port, o.db, o.username, o.password, !!o.tls], ['queue.example', 6380, 2, 'render', 'p@ss', true]);
  assert.equal((o.tls as { servername?: string }).servername, 'queue.example');
  assert.equal(redisOptions('redis://queue.example').tls, undefined);
});

test('Redis killed and restarted mid-stage: the resubmitted copy waits on the key\'s lease and takes the first copy\'s result; the stage ran once and the submitter says so', { skip: noRedis, timeout: 120_000 }, async (t) => {
  const dir = project({
    'one.yaml': ONE.replace("'echo run >> count; ", "'echo run >> count; while [ ! -f go ]; do sleep 0.05; done; "),
  });
  const port = await freePort();
  let redis = await startRedis(port);
  const started: ReturnType<typeof cliSpawn>[] = [];
  t.after(() => {
    writeFileSync(join(dir, 'go'), '');
    for (const s of started) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    redis.stop();
  });
  const env = { FACECOMB_FARM_LOCK_MS: '2000' };
  const workers = [0, 1].map(() => cliSpawn(['worker', '--farm', redis.url, '--slots', 'cpu=1'], { cwd: dir, env }));
  started.push(...workers);
  for (const w of workers) await waitFor(() => /worker \S+ on redis/.test(w.out()), 20_000, 'a worker to connect');
  const run = cliSpawn(['run', 'one.yaml', '--farm', redis.url], { cwd: dir });
  started.push(run);
  await waitFor(() => lines(join(dir, 'count')).length === 1, 30_000, 'the stage to start');
  // the queue is gone with Redis (nothing saved): the submitter submits again, the idle worker takes the copy
  const gone = new Promise((r) => redis.proc.once('exit', r));
  redis.stop();
  await gone;
  redis = await startRedis(port);
  await waitFor(() => workers.some((w) => /wait one\/s \w+: another process holds its lock/.test(w.out())), 40_000, 'the second copy to wait on the lease');
  writeFileSync(join(dir, 'go'), '');
  const r = await run.done;
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(lines(join(dir, 'count')), ['run'], 'the stage ran once');
  assert.match(r.stdout, /one: 1 ran, 0 cached/);
});

test('a submitter whose queue has no live worker says so (after 10 s; 1 s here) and keeps waiting until one starts', { skip: noRedis, timeout: 60_000 }, async (t) => {
  const dir = project({ 'one.yaml': ONE });
  const redis = await startRedis();
  const started: ReturnType<typeof cliSpawn>[] = [];
  t.after(() => {
    for (const s of started) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    redis.stop();
  });
  const run = cliSpawn(['run', 'one.yaml', '--farm', redis.url], { cwd: dir, env: { FACECOMB_FARM_NO_WORKER_MS: '1000' } });
  started.push(run);
  await waitFor(() => /no live worker takes cpu jobs: start one \(runner worker --farm URL --slots cpu=N\); waiting/.test(run.out()), 20_000, 'the submitter to say no worker takes its job');
  assert.equal(run.child.exitCode, null, 'still waiting');
  const w = cliSpawn(['worker', '--farm', redis.url, '--slots', 'cpu=1'], { cwd: dir });
  started.push(w);
  const r = await run.done;
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /one: 1 ran, 0 cached/);
});
