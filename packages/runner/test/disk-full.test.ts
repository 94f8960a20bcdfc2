// A full disk: the cache folder on a real 128 KB tmpfs (mounted here; the tests run as root in CI) filled by
// the stages themselves (after a moment: the runner's first writes go first, as with any real stage) or by a
// filler file. Each case ends with one plain message naming the file, a non-zero exit, no temp folder, .tmp
// file or held lock left, and a cache that holds only whole entries.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { Cache, hashTree } from '../src/index.js';
import { cli, project } from './helpers.js';

const P = `version: 1
name: full
stages:
  small:
    uses: shell
    with: { cmd: 'cp in.txt $FACECOMB_OUT/ok.txt', inputs: [in.txt] }
  outputs:
    uses: shell
    needs: [small]
    with: { cmd: 'sleep 0.3; head -c 1000000 /dev/zero > $FACECOMB_OUT/big.bin' }
  chatty:
    uses: shell
    needs: [small]
    with: { cmd: 'sleep 0.3; i=0; while [ $i -lt 30000 ]; do echo "a log line that fills the disk $i"; i=$((i+1)); done; echo ok > $FACECOMB_OUT/ok.txt' }
`;

const notRoot = process.getuid?.() === 0 ? undefined : 'mounting a tmpfs needs root (CI runs as root)';

/** Every file under `dir`, relative. */
function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) (e.isDirectory() ? walk(join(d, e.name)) : out.push(relative(dir, join(d, e.name))));
  };
  walk(dir);
  return out;
}

function assertClean(cacheDir: string): void {
  const all = files(cacheDir);
  assert.deepEqual(all.filter((f) => f.startsWith('tmp/') || f.endsWith('.tmp')), [], 'no temp folder or .tmp file left');
  assert.deepEqual(all.filter((f) => f.startsWith('locks/') && statSync(join(cacheDir, f)).mtimeMs > 0), [], 'no lock left held');
}

test('a full disk (stage outputs, the stage log, hashes.json): one plain message naming the file, exit 1, nothing half-made left', { skip: notRoot, timeout: 60_000 }, async (t) => {
  const dir = project({ 'p.yaml': P, 'in.txt': 'x' });
  const cacheDir = join(dir, 'disk');
  mkdirSync(cacheDir);
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=128k', 'tmpfs', cacheDir], { encoding: 'utf8' });
  assert.equal(m.status, 0, `mount -t tmpfs failed: ${m.stderr}`);
  t.after(() => spawnSync('umount', ['-l', cacheDir]));

  const r = cli(['run', 'p.yaml', '--cache', cacheDir, '--jobs', '1'], { cwd: dir });
  const out = r.stdout + r.stderr;
  assert.equal(r.code, 1, out);
  assert.doesNotMatch(out, /\n\s+at |Unhandled|ENOSPC:/, 'no stack, no raw errno');
  assert.match(out, /stage 'outputs' failed \(no space left on device writing \S+\/tmp\/\S+\/out: free 1 MB and rerun\)/);
  assert.match(out, /stage 'chatty' failed \(no space left on device writing \S+\/tmp\/\S+\/log\.txt: free 1 MB and rerun\)/);
  assert.match(out, /full: 1 ran, 0 cached, 2 failed/);
  assertClean(cacheDir);
  const cache = new Cache(cacheDir);
  assert.equal(cache.keys().length, 1, 'only the stage that fitted is cached');
  for (const k of cache.keys()) assert.deepEqual(await hashTree(cache.artifacts(k)), cache.manifest(k)!.outputs, 'a whole entry');

  // 0 bytes free: status cannot save hashes.json (an input changed) and says so, leaving no .tmp
  writeFileSync(join(dir, 'in.txt'), 'changed');
  try {
    writeFileSync(join(cacheDir, 'filler'), Buffer.alloc(128 * 1024));
  } catch {
    /* filled up to the last byte */
  }
  const st = cli(['status', 'p.yaml', '--cache', cacheDir], { cwd: dir });
  assert.equal(st.code, 1, st.stdout + st.stderr);
  assert.match(st.stderr, /^runner: no space left on device writing \S+\/hashes\.json: free 1 MB and rerun\n$/);
  assertClean(cacheDir);
});
