import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HOST_TAG, LeaseLock } from '../src/lease.js';
import { sleep } from './helpers.js';

// the built module: 20 plain node processes start fast (no TypeScript loader)
const LEASE_JS = fileURLToPath(new URL('../dist/lease.js', import.meta.url));

/** Child: says it is ready, polls for the go file (every ms), tries the lock once, prints won/lost, then holds on. */
const TAKER = `
import { existsSync } from 'node:fs';
const { LeaseLock } = await import(process.argv[1]);
const [dir, go] = [process.argv[2], process.argv[3]];
process.stdout.write('ready ');
while (!existsSync(go)) await new Promise((r) => setTimeout(r, 1));
process.stdout.write(new LeaseLock(dir, 30000).tryAcquire() ? 'won' : 'lost');
setInterval(() => {}, 1000);
`;

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

/** n processes try the lock at the same moment; all stay alive (a won lock held) until every one has answered. */
async function race(dir: string, n: number): Promise<string[]> {
  const go = join(dir, '..', `${Math.random()}.go`);
  const kids = Array.from({ length: n }, () => {
    const c = spawn(process.execPath, ['--input-type=module', '-e', TAKER, LEASE_JS, dir, go], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    return { c, out: () => out };
  });
  while (!kids.every((k) => k.out().startsWith('ready'))) await sleep(20);
  writeFileSync(go, '');
  while (!kids.every((k) => /won|lost/.test(k.out()))) await sleep(20);
  for (const k of kids) k.c.kill('SIGKILL');
  return kids.map((k) => k.out().replace('ready ', ''));
}

test('20 processes taking over a dead holder\'s lock at once: exactly one wins, each round', { timeout: 60_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'facecomb-lease-'));
  for (let round = 0; round < 2; round++) {
    const dir = join(root, `k${round}`);
    mkdirSync(dir, { recursive: true });
    // round 0: a dead process of this machine; round 1: another machine whose lease ran out
    if (round === 0) writeFileSync(join(dir, '7'), JSON.stringify({ host: HOST_TAG, pid: deadPid(), leaseMs: 30000 }));
    if (round === 1) {
      writeFileSync(join(dir, '3'), JSON.stringify({ host: 'elsewhere', pid: 1, leaseMs: 1000 }));
      utimesSync(join(dir, '3'), new Date(Date.now() - 5000), new Date(Date.now() - 5000));
    }
    const results = await race(dir, 20);
    assert.equal(results.filter((r) => r === 'won').length, 1, `round ${round}: ${results.join(' ')}`);
    assert.equal(results.filter((r) => r === 'lost').length, 19);
    assert.equal(readdirSync(dir).filter((f) => /^\d+$/.test(f)).length, 1, 'older generations are removed by the winner');
  }
});

test('a lease is renewed while held, lost when it runs out unrenewed, free at once when released', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'facecomb-lease-')), 'k');
  const a = new LeaseLock(dir, 300);
  const b = new LeaseLock(dir, 300);
  assert.ok(a.tryAcquire());
  assert.equal(b.tryAcquire(), false, 'held by a live holder');
  for (let i = 0; i < 4; i++) {
    await sleep(120);
    assert.ok(a.renew());
  }
  assert.equal(b.tryAcquire(), false, 'renewed past its first lease: still held');
  await sleep(450);
  assert.ok(b.tryAcquire(), 'taken over once the lease ran out');
  assert.equal(a.renew(), false, 'the old holder learns it lost the lease');
  b.release();
  assert.ok(a.tryAcquire(), 'a released lock is free at once');
});
