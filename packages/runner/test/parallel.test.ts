import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, manifest, project, statusJson } from './helpers.js';

type Span = { startMs: number; endMs: number; artifacts: string };
const overlap = (a: Span, b: Span) => a.startMs < b.endMs && b.startMs < a.endMs;

test('--jobs 2 runs independent stages at once; gpu stages never overlap', () => {
  const dir = project({
    'p.yaml': `version: 1
name: par
stages:
  cpu-a: {uses: shell, with: {cmd: "sleep 0.6; echo a > $FACECOMB_OUT/a"}}
  cpu-b: {uses: shell, with: {cmd: "sleep 0.6; echo b > $FACECOMB_OUT/b"}}
  gpu-a: {uses: shell, with: {cmd: "sleep 0.6; echo ga > $FACECOMB_OUT/g"}, resources: {gpu: 1}}
  gpu-b: {uses: shell, with: {cmd: "sleep 0.6; echo gb > $FACECOMB_OUT/g"}, resources: {gpu: 1}}
  gpu-c: {uses: shell, with: {cmd: "sleep 0.6; echo gc > $FACECOMB_OUT/g"}, resources: {gpu: 1}}
  last:
    uses: shell
    needs: [cpu-a, gpu-a, gpu-b, gpu-c]
    with: {cmd: "cat $FACECOMB_IN_CPU_A/a $FACECOMB_IN_GPU_A/g $FACECOMB_IN_GPU_B/g $FACECOMB_IN_GPU_C/g > $FACECOMB_OUT/all"}
`,
  });
  const r = cli(['run', 'p.yaml', '--jobs', '2'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const st = statusJson(dir, 'p.yaml');
  const m: Record<string, Span> = Object.fromEntries(st.map((s) => [s.stage, manifest(dir, s.key) as Span]));
  assert.ok(overlap(m['cpu-a'], m['cpu-b']), 'the two cpu stages ran at the same time');
  for (const [a, b] of [
    ['gpu-a', 'gpu-b'],
    ['gpu-a', 'gpu-c'],
    ['gpu-b', 'gpu-c'],
  ]) assert.ok(!overlap(m[a], m[b]), `${a} and ${b} must not overlap`);
  // never more than 2 at once
  const events = Object.values(m).flatMap((x) => [
    [x.startMs, 1],
    [x.endMs, -1],
  ]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, d] of events) peak = Math.max(peak, (now += d));
  assert.equal(peak, 2);
  assert.equal(readFileSync(join(m.last.artifacts, 'all'), 'utf8'), 'a\nga\ngb\ngc\n');
  assert.ok(m.last.startMs >= Math.max(m['gpu-c'].endMs, m['cpu-a'].endMs));
});

test('a failing stage stops its dependents, unrelated stages finish, the log tail and path are printed', () => {
  const dir = project({
    'p.yaml': `version: 1
name: fail
stages:
  ok:
    uses: shell
    with: {cmd: "sleep 0.5; echo fine > $FACECOMB_OUT/ok"}
  bad:
    uses: shell
    with: {cmd: "for i in $(seq 1 40); do echo line $i; done; echo 'no such plate: shot42.0101.exr' >&2; exit 3"}
  dep:
    uses: shell
    needs: [bad]
    with: {cmd: "touch dep-ran"}
  dep2:
    uses: shell
    needs: [dep]
    with: {cmd: "touch dep2-ran"}
  other:
    uses: shell
    needs: [ok]
    with: {cmd: "cat $FACECOMB_IN_OK/ok > $FACECOMB_OUT/other"}
`,
  });
  const r = cli(['run', 'p.yaml', '--jobs', '2'], { cwd: dir });
  assert.equal(r.code, 1);
  const out = r.stdout + r.stderr;
  assert.match(out, /stage 'bad' failed \(exit code 3\)/);
  assert.match(out, /\| line 40\n/);
  assert.match(out, /\| no such plate: shot42\.0101\.exr/);
  assert.doesNotMatch(out, /\| line 10\n/, 'only the tail is printed');
  const logPath = /full log: (.+)/.exec(out)?.[1];
  assert.ok(logPath && existsSync(logPath), `log path printed and present: ${logPath}`);
  assert.match(readFileSync(logPath!, 'utf8'), /line 1\n[\s\S]*line 40\n/);
  assert.match(out, /dep\s+skipped\s+upstream 'bad' failed/);
  assert.match(out, /dep2\s+skipped\s+upstream 'dep' skipped/);
  assert.match(out, /2 ran, 0 cached, 1 failed, 2 skipped/);
  assert.ok(!existsSync(join(dir, "dep-ran")) && !existsSync(join(dir, "dep2-ran")));
  const st = Object.fromEntries(statusJson(dir, 'p.yaml').map((s) => [s.stage, s]));
  assert.equal(st.ok.state, 'cached');
  assert.equal(st.other.state, 'cached');
  assert.equal(st.bad.state, 'stale');
  assert.equal(st.bad.reason, 'never run');
  assert.equal(st.dep.reason, "never run; upstream 'bad' is stale");
});
