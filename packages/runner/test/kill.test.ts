import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cacheKeys, cli, cliSpawn, pidAlive, project, sleep, statusJson, waitFor } from './helpers.js';

// `slow` writes part of its output, then waits until a `release` file appears in the pipeline folder (not an
// input: it does not change the key), so a test can interrupt it mid-stage and later let the same key finish.
const PIPE = `version: 1
name: killme
stages:
  quick:
    uses: shell
    with:
      cmd: "echo quick > $FACECOMB_OUT/q.txt; echo ran >> quick.runs"
  slow:
    uses: shell
    needs: [quick]
    with:
      cmd: "echo $$ > slow.pid; echo partial > $FACECOMB_OUT/half.txt; echo checkpoint > $FACECOMB_RESUME/ckpt; while [ ! -f release ]; do sleep 0.05; done; echo full > $FACECOMB_OUT/full.txt"
`;

function listDir(dir: string, sub: string): string[] {
  try {
    return readdirSync(join(dir, '.facecomb', sub));
  } catch {
    return [];
  }
}

async function startAndWaitForSlow(dir: string) {
  const run = cliSpawn(['run', 'p.yaml'], { cwd: dir });
  const pidFile = join(dir, 'slow.pid');
  await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), 20_000, 'the slow stage to start');
  await waitFor(() => run.out().includes('slow'), 5000, 'the runner to report slow');
  return { run, stagePid: Number(readFileSync(pidFile, 'utf8')) };
}

test('a run killed with SIGKILL mid-stage leaves no cache entry for it; the next run reuses the finished stage', async (t) => {
  const dir = project({ 'p.yaml': PIPE });
  // whatever happens, let every waiting stage loop end
  t.after(() => writeFileSync(join(dir, 'release'), ''));
  const { run, stagePid } = await startAndWaitForSlow(dir);
  const [quick, slow] = statusJson(dir, 'p.yaml');
  assert.equal(quick.state, 'cached');
  run.child.kill('SIGKILL');
  await run.done;
  // nothing can catch SIGKILL: the stage process group lives on until the next run ends it
  assert.ok(pidAlive(stagePid), 'the orphaned stage is still running');
  assert.deepEqual(cacheKeys(dir), [quick.key], 'only the finished stage is in the cache');
  assert.equal(listDir(dir, 'tmp').length, 1, 'the killed run left its temp folder behind');
  assert.equal(statusJson(dir, 'p.yaml')[1].state, 'stale');
  assert.ok(existsSync(join(dir, '.facecomb', 'work', slow.key, 'ckpt')), 'the resume folder survives a kill');

  const next = cliSpawn(['run', 'p.yaml'], { cwd: dir });
  await waitFor(() => !pidAlive(stagePid), 20_000, 'the next run to end the orphaned stage');
  await waitFor(() => readFileSync(join(dir, 'slow.pid'), 'utf8') !== `${stagePid}\n` && readFileSync(join(dir, 'slow.pid'), 'utf8').endsWith('\n'), 20_000, 'slow to start again');
  assert.equal(listDir(dir, 'tmp').length, 1, 'the stale temp folder was replaced by the new run');
  writeFileSync(join(dir, 'release'), '');
  const r = await next.done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /removed 1 unfinished temp folder/);
  assert.match(r.stdout, /1 ran, 1 cached/);
  assert.equal(readFileSync(join(dir, 'quick.runs'), 'utf8'), 'ran\n', 'quick ran once');
  assert.deepEqual(cacheKeys(dir).sort(), [quick.key, slow.key].sort());
  assert.deepEqual(listDir(dir, 'tmp'), []);
  assert.ok(!existsSync(join(dir, '.facecomb', 'work', slow.key)), 'the resume folder is removed once the stage succeeded');
  const out = join(dir, '.facecomb', 'cache', slow.key, 'out');
  assert.deepEqual(readdirSync(out).sort(), ['full.txt', 'half.txt']);
});

test('SIGINT stops cleanly: the stage process tree is killed, its temp folder removed, exit 130', async (t) => {
  const dir = project({ 'p.yaml': PIPE });
  // whatever happens, let every waiting stage loop end
  t.after(() => writeFileSync(join(dir, 'release'), ''));
  const { run, stagePid } = await startAndWaitForSlow(dir);
  const slowKey = statusJson(dir, 'p.yaml')[1].key;
  assert.ok(pidAlive(stagePid));
  run.child.kill('SIGINT');
  const res = await run.done;
  assert.equal(res.code, 130, res.stdout + res.stderr);
  assert.match(res.stdout, /slow\s+interrupted/);
  await sleep(100);
  assert.equal(pidAlive(stagePid), false, 'the stage shell was killed');
  assert.equal(cacheKeys(dir).length, 1);
  assert.ok(!cacheKeys(dir).includes(slowKey));
  assert.deepEqual(listDir(dir, 'tmp'), [], 'no temp folder left');
  // a released lease stays as its key's highest generation, marked free (mtime 0)
  const held = listDir(dir, 'locks').flatMap((k) => readdirSync(join(dir, '.facecomb', 'locks', k)).filter((g) => statSync(join(dir, '.facecomb', 'locks', k, g)).mtimeMs > 0));
  assert.deepEqual(held, [], 'no lock left held');
  assert.ok(existsSync(join(dir, '.facecomb', 'work', slowKey, 'ckpt')), 'FACECOMB_RESUME is kept for the next run');
});

test('two runners on the same pipeline: the lock lets one run each stage, the other reuses it', async (t) => {
  const dir = project({ 'p.yaml': PIPE });
  // whatever happens, let every waiting stage loop end
  t.after(() => writeFileSync(join(dir, 'release'), ''));
  const a = cliSpawn(['run', 'p.yaml'], { cwd: dir });
  await waitFor(() => existsSync(join(dir, 'slow.pid')), 20_000, 'the first runner to start slow');
  const b = cliSpawn(['run', 'p.yaml'], { cwd: dir });
  await waitFor(() => /slow\s+waiting\s+another runner/.test(b.out()), 20_000, 'the second runner to wait');
  writeFileSync(join(dir, 'release'), '');
  const [ra, rb] = await Promise.all([a.done, b.done]);
  assert.equal(ra.code, 0, ra.stdout + ra.stderr);
  assert.equal(rb.code, 0, rb.stdout + rb.stderr);
  assert.match(ra.stdout, /2 ran/);
  assert.match(rb.stdout, /0 ran, 2 cached/);
  assert.equal(readFileSync(join(dir, 'quick.runs'), 'utf8'), 'ran\n');
});
