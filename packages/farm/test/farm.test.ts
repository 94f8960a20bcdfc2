import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Cache, hashTree, type Manifest } from '@facecomb/runner';
import { cacheKeys, cli, cliSpawn, pidAlive, project, waitFor } from '../../runner/test/helpers.js';
import { freePort, haveRedis, startRedis } from './redis.js';

const FIXTURES = new URL('./fixtures/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');

// showa: a chunked cpu stage; showb: a chunked gpu stage; both share the plate (same key)
const pipeline = (name: string, stage: string, op: string, resources = '') => `version: 1
name: ${name}
stages:
  plate:
    uses: shell
    with: { cmd: sh plate.sh, inputs: [plate.sh, runs.sh] }
  ${stage}:
    uses: shell
    needs: [plate]
    chunk: 4${resources}
    with: { cmd: sh perframe.sh, inputs: [perframe.sh, runs.sh], env: { OP: "${op}" } }
  edit:
    uses: shell
    needs: [${stage}]
    with: { cmd: 'cat "$FACECOMB_IN_${stage.toUpperCase()}"/frames/*.txt > "$FACECOMB_OUT/all.txt"; . ./runs.sh', inputs: [runs.sh] }
`;
const A = pipeline('showa', 'grade', '* 3');
const B = pipeline('showb', 'lift', '+ 100', '\n    resources: { gpu: 1 }');
const C = `version: 1
name: showc
stages:
  bad:
    uses: shell
    with: { cmd: 'echo first-line; echo oops-this-failed >&2; exit 3' }
`;

const noRedis = haveRedis() ? undefined : 'redis-server is not installed (CI installs it with .ci/install-redis.sh)';
if (noRedis && process.env.CI === 'true') throw new Error(`${noRedis}: the farm tests cannot run`);

function entries(root: string): Manifest[] {
  const cache = new Cache(root);
  return cache.keys().map((k) => cache.manifest(k)!);
}

/** The final artifact of a stage (its assembled / whole entry, not a chunk) in a cache. */
function artifactOf(root: string, pipeline: string, stage: string): Manifest {
  const m = entries(root).filter((e) => e.pipeline.name === pipeline && e.stage === stage && !(e as { frames?: unknown }).frames);
  assert.equal(m.length, 1, `one entry of ${pipeline}/${stage} in ${root}`);
  return m[0];
}

const runLines = (dir: string) => (existsSync(join(dir, 'runs.log')) ? readFileSync(join(dir, 'runs.log'), 'utf8').trim().split('\n') : []);

test('three workers, two pipelines with chunks: each key once, gpu jobs on the gpu worker, kill -9 mid-chunk reruns it elsewhere, then all cached, same outputs as a local run', { skip: noRedis, timeout: 150_000 }, async (t) => {
  const dir = project({ 'a.yaml': A, 'b.yaml': B, 'c.yaml': C, 'plate.sh': fixture('plate.sh'), 'perframe.sh': fixture('perframe.sh'), 'runs.sh': fixture('runs.sh') });
  const shared = join(dir, 'shared-cache');
  const local = join(dir, 'local-cache');
  // the reference: the same pipelines run locally, unchunked stage by stage of the same definitions
  for (const f of ['a.yaml', 'b.yaml']) {
    const r = cli(['run', f, '--cache', local], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
  }
  writeFileSync(join(dir, 'runs.log'), '');

  const redis = await startRedis();
  const started: ReturnType<typeof cliSpawn>[] = [];
  t.after(() => {
    writeFileSync(join(dir, 'release'), '');
    for (const s of started) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    redis.stop();
  });
  const env = { FACECOMB_FARM_LOCK_MS: '2000' };
  const worker = (slots: string) => {
    const w = cliSpawn(['worker', '--farm', redis.url, '--slots', slots, '--cache', shared], { cwd: dir, env });
    started.push(w);
    return w;
  };
  const workers = [worker('cpu=2'), worker('cpu=2'), worker('cpu=0,gpu=1')];
  for (const w of workers) await waitFor(() => /worker \S+ on redis/.test(w.out()), 20_000, 'a worker to connect');
  const gpuPid = workers[2].child.pid!;

  writeFileSync(join(dir, 'hold'), '');
  const run = (f: string) => {
    // progress lines of a running stage every 200 ms (5 s by default): the chunk count must show even when the
    // killed chunk is picked up again within a few seconds
    const r = cliSpawn(['run', f, '--farm', redis.url, '--cache', shared], { cwd: dir, env: { FACECOMB_PROGRESS_INTERVAL: '200' } });
    started.push(r);
    return r;
  };
  const a = run('a.yaml');
  const b = run('b.yaml');

  // kill -9 the worker running grade's chunk of frame 5
  await waitFor(() => existsSync(join(dir, 'held.pid')) && readFileSync(join(dir, 'held.pid'), 'utf8').endsWith('\n'), 40_000, 'the held chunk to start');
  const stagePid = Number(readFileSync(join(dir, 'held.pid'), 'utf8'));
  // the stage's shell runs under `sh -c` under the worker: walk up to it
  const parent = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
  let ppid = stagePid;
  for (let i = 0; i < 4 && !workers.some((w) => w.child.pid === ppid); i++) ppid = parent(ppid);
  const victim = workers.find((w) => w.child.pid === ppid);
  assert.ok(victim, `the held stage (pid ${stagePid}) runs under a worker (parent ${ppid})`);
  assert.notEqual(ppid, gpuPid, 'a cpu chunk is not on the gpu-only worker');
  const status = cli(['farm', 'status', '--farm', redis.url, '--json'], { cwd: dir });
  assert.equal(status.code, 0, status.stderr);
  const st = JSON.parse(status.stdout) as { workers: { pid: number; slots: { gpu: number }; current: { name: string }[] }[]; pipelines: Record<string, { running: number }> };
  assert.equal(st.workers.length, 3);
  assert.ok(st.workers.find((w) => w.pid === ppid)!.current.some((c) => c.name === 'showa/grade[5-8]'), 'status shows the held chunk on its worker');
  assert.ok(st.pipelines.showa.running >= 1);
  victim.child.kill('SIGKILL');
  await victim.done;
  writeFileSync(join(dir, 'release'), '');

  const [ra, rb] = await Promise.all([a.done, b.done]);
  assert.equal(ra.code, 0, `${ra.stdout}\n${ra.stderr}`);
  assert.equal(rb.code, 0, `${rb.stdout}\n${rb.stderr}`);
  assert.match(ra.stdout, /showa: \d ran, \d cached/);
  assert.match(ra.stdout, /grade\s+running.*chunks \d\/3/);

  // each key ran once; only the killed chunk ran twice
  const lines = runLines(dir);
  const perKey = new Map<string, string[]>();
  for (const l of lines) perKey.set(l.split(' ')[0], [...(perKey.get(l.split(' ')[0]) ?? []), l]);
  const twice = [...perKey.values()].filter((v) => v.length > 1);
  assert.deepEqual(twice.map((v) => v[0].split(' ').slice(1).join(' ')), ['grade 5-8'], lines.join('\n'));
  // plate (shared), 3 grade chunks, edit, 3 lift chunks, edit
  assert.equal(perKey.size, 9, lines.join('\n'));

  const ms = entries(shared);
  const lift = ms.filter((m) => m.stage === 'lift');
  assert.equal(lift.length, 4, '3 lift chunks + the assembled stage');
  for (const m of lift) assert.equal(m.pid, gpuPid, `gpu job ${m.stage} ran on the gpu worker`);
  for (const m of ms.filter((x) => x.stage !== 'lift')) assert.notEqual(m.pid, gpuPid, `cpu job ${m.pipeline.name}/${m.stage} not on the gpu-only worker`);
  const held = ms.find((m) => m.stage === 'grade' && JSON.stringify((m as { frames?: unknown }).frames) === '[5,8]')!;
  assert.notEqual(held.pid, victim.child.pid, 'the killed chunk was committed by another worker');
  assert.equal(readFileSync(join(dir, 'resumed.log'), 'utf8'), '5-8\n', 'the rerun found the checkpoint its first run left in FACECOMB_RESUME');
  assert.ok(!existsSync(join(shared, 'work', held.key)), 'the resume folder is removed once the chunk succeeded');

  // nothing corrupt: every entry's files are what its manifest says; outputs equal the local run's
  for (const m of ms) assert.deepEqual(await hashTree(m.artifacts), m.outputs, `entry ${m.key.slice(0, 12)} (${m.stage}) intact`);
  for (const [p, s] of [['showa', 'grade'], ['showa', 'edit'], ['showb', 'lift'], ['showb', 'edit']]) {
    assert.deepEqual(artifactOf(shared, p, s).outputs, artifactOf(local, p, s).outputs, `${p}/${s} equals the local run's`);
  }
  assert.equal(readFileSync(join(artifactOf(shared, 'showa', 'edit').artifacts, 'all.txt'), 'utf8'), Array.from({ length: 12 }, (_, i) => `${(i + 1) * 21}\n`).join(''));

  // a second run: all cache hits, nothing runs
  for (const f of ['a.yaml', 'b.yaml']) {
    const r = await run(f).done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /0 ran, 3 cached/);
  }
  assert.equal(runLines(dir).length, lines.length, 'no stage process ran again');

  // a failing stage: the same report as a local run (exit 1, log tail, log path), listed by farm status
  const rc = await run('c.yaml').done;
  assert.equal(rc.code, 1, rc.stdout);
  assert.match(rc.stdout, /stage 'bad' failed on \S+ \(exit code 3\); last \d+ lines of its log:/);
  assert.match(rc.stdout, /\| oops-this-failed/);
  const logPath = /full log: (\S+)/.exec(rc.stdout)?.[1];
  assert.ok(logPath && readFileSync(logPath, 'utf8').includes('first-line'), 'the full log is in the shared cache');
  const st2 = JSON.parse(cli(['farm', 'status', '--farm', redis.url, '--json'], { cwd: dir }).stdout) as { pipelines: Record<string, { failed: number }> };
  assert.equal(st2.pipelines.showc?.failed, 1);
  assert.equal(st2.pipelines.showa, undefined, 'nothing left queued, running or failed for showa');
  assert.ok(!pidAlive(victim.child.pid!));
});

test('a worker waits for Redis, reconnects after a Redis restart; Ctrl-C of a farm run cancels its running job', { skip: noRedis, timeout: 120_000 }, async (t) => {
  const slow = (name: string) => `version: 1
name: ${name}
stages:
  s:
    uses: shell
    with: { cmd: 'echo $$ > ${name}.pid; while [ ! -f go ]; do sleep 0.05; done; echo ok > $FACECOMB_OUT/ok' }
`;
  const dir = project({ 'one.yaml': slow('one'), 'two.yaml': slow('two') });
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const started: ReturnType<typeof cliSpawn>[] = [];
  let redis: Awaited<ReturnType<typeof startRedis>> | undefined;
  t.after(() => {
    writeFileSync(join(dir, 'go'), '');
    for (const s of started) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    redis?.stop();
  });
  const w = cliSpawn(['worker', '--farm', url, '--slots', 'cpu=1'], { cwd: dir, env: { FACECOMB_FARM_LOCK_MS: '2000' } });
  started.push(w);
  await waitFor(() => w.out().includes(`cannot reach Redis at ${url}`), 20_000, 'the worker to say Redis is not there');
  redis = await startRedis(port);
  await waitFor(() => /worker \S+ on redis/.test(w.out()), 20_000, 'the worker to connect once Redis is up');

  // Ctrl-C while the stage runs on the worker: exit 130, the stage is killed there, nothing committed
  const run = cliSpawn(['run', 'one.yaml', '--farm', url], { cwd: dir });
  started.push(run);
  await waitFor(() => existsSync(join(dir, 'one.pid')) && readFileSync(join(dir, 'one.pid'), 'utf8').endsWith('\n'), 30_000, 'the stage to start');
  const stagePid = Number(readFileSync(join(dir, 'one.pid'), 'utf8'));
  await waitFor(() => /s\s+running.*on \S+/.test(run.out()), 10_000, 'the submitter to show the stage running on the worker');
  run.child.kill('SIGINT');
  const r = await run.done;
  assert.equal(r.code, 130, r.stdout);
  assert.match(r.stdout, /1 interrupted/);
  await waitFor(() => !pidAlive(stagePid), 10_000, 'the worker to kill the cancelled stage');
  await waitFor(() => w.out().includes('interrupted one/s'), 10_000, 'the worker to report the cancel');
  assert.deepEqual(cacheKeys(dir), []);

  // Redis goes away and comes back: the worker says so and takes the next job
  redis.stop();
  await waitFor(() => w.out().includes(`lost Redis at ${url}`), 20_000, 'the worker to notice');
  redis = await startRedis(port);
  await waitFor(() => w.out().includes(`reconnected to Redis at ${url}`), 30_000, 'the worker to reconnect');
  writeFileSync(join(dir, 'go'), '');
  const two = cliSpawn(['run', 'two.yaml', '--farm', url], { cwd: dir });
  started.push(two);
  const r2 = await two.done;
  assert.equal(r2.code, 0, r2.stdout + r2.stderr);
  assert.match(r2.stdout, /two: 1 ran, 0 cached/);
});

test('Redis unreachable or a wrong URL: a clear error naming the URL, no hang', { skip: noRedis, timeout: 30_000 }, async () => {
  const dir = project({ 'c.yaml': C });
  const t0 = Date.now();
  const down = cli(['run', 'c.yaml', '--farm', 'redis://127.0.0.1:1'], { cwd: dir });
  assert.equal(down.code, 1);
  assert.match(down.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
  const st = cli(['farm', 'status', '--farm', 'redis://127.0.0.1:1'], { cwd: dir });
  assert.equal(st.code, 1);
  assert.match(st.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  const bad = cli(['worker', '--farm', 'http://127.0.0.1:6379'], { cwd: dir });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--farm http:\/\/127\.0\.0\.1:6379: expected a redis:\/\/ or rediss:\/\/ URL/);
  assert.ok(Date.now() - t0 < 20_000, 'answers at once');
  assert.equal(readdirSync(dir).includes('.facecomb') ? readdirSync(join(dir, '.facecomb')).includes('cache') : false, false, 'nothing ran');
});
