// Labels are an input of the occlusion stage: through the real runner, saving the labels file makes occlusion
// (and what needs it) stale and a run redoes it with the new labels; unchanged labels keep it cached.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { footage } from '../../align/test/helpers.ts';
import { formatLabels } from '../src/index.ts';

const runner = new URL('../../runner/bin/runner.js', import.meta.url).pathname;
const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

test('saving the labels file reruns occlusion and its dependants', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'facecomb-occl-rerun-'));
  dirs.push(dir);
  const file = join(dir, 'shot.yaml');
  await writeFile(file, `version: 1
name: occl
stages:
  plate: { uses: ingest, with: { src: ${JSON.stringify(footage('congress', 'katiehill.mp4'))}, range: [1, 4] } }
  plate-align: { uses: align, needs: [plate], with: { size: 64, samples: 1, refine: false, contact: false } }
  occl: { uses: occlusion, needs: [plate, plate-align], with: { size: 32, steps: 2, labels: labels/occl.json, contact: false } }
  shot: { uses: dataset, needs: [plate-align, occl], with: { name: shot } }
`);
  await execa('mkdir', ['-p', join(dir, 'labels')]);
  const labels = join(dir, 'labels', 'occl.json');
  await writeFile(labels, formatLabels({ version: 1, frames: {} }));
  const cache = join(dir, '.facecomb');
  const run = () => execa('node', [runner, 'run', file, '--cache', cache, '--backend', 'wasm'], { reject: false, all: true });
  const states = async () => {
    const s = await execa('node', [runner, 'status', file, '--cache', cache, '--json']);
    return Object.fromEntries((JSON.parse(s.stdout) as { stage: string; state: string; reason?: string }[]).map((e) => [e.stage, e.state]));
  };
  const first = await run();
  assert.equal(first.exitCode, 0, first.all);
  assert.deepEqual(await states(), { plate: 'cached', 'plate-align': 'cached', occl: 'cached', shot: 'cached' });
  await writeFile(labels, formatLabels({ version: 1, frames: { '000002': [{ mode: 'include', points: [[0.2, 0.2], [0.8, 0.2], [0.5, 0.9]] }] } }));
  assert.deepEqual(await states(), { plate: 'cached', 'plate-align': 'cached', occl: 'stale', shot: 'stale' });
  const second = await run();
  assert.equal(second.exitCode, 0, second.all);
  const show = await execa('node', [runner, 'show', file, 'occl', '--cache', cache, '--json']);
  const occlDir = (JSON.parse(show.stdout) as { artifacts: string }).artifacts;
  assert.equal((JSON.parse(await readFile(join(occlDir, 'occlusion.json'), 'utf8')) as { labelled: number }).labelled, 1);
  // a malformed save fails the occlusion stage with the file, the label and what is wrong
  await writeFile(labels, '{"version": 1, "frames": {"000002": [{"mode": "include", "points": [[0, 0], [1, 1]]}]}}');
  const bad = await run();
  assert.notEqual(bad.exitCode, 0);
  assert.match(bad.all ?? '', /occl\.json: frame 000002 polygon 0: has 2 point\(s\)/);
});
