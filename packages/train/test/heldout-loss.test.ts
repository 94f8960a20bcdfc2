import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { datasetFixture } from './fixtures.js';
import { runStage } from './stage-cli.js';

let work: string | undefined;
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const params = {
  resolution: 16, startResolution: 16, stepsPerStable: 8, batch: 2, lr: 1e-3, channels: { 4: 8, 8: 8, 16: 8 }, latent: 16,
  checkpointEvery: 1000, previewEvery: 1000, augment: false, seed: 4, heldoutEvery: 4,
};

const metrics = async (dir: string) => (await readFile(join(dir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

/** The same identity set with every item a training item: a dataset with no held-out frames. */
async function allTrain(src: string, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const f of ['crops', 'masks', 'meta.json']) await symlink(join(src, f), join(dir, f));
  const items = JSON.parse(await readFile(join(src, 'items.json'), 'utf8')) as { split: string }[];
  await writeFile(join(dir, 'items.json'), JSON.stringify(items.map((i) => ({ ...i, split: 'train' }))));
  return dir;
}

test('train measures the loss on held-out frames every heldoutEvery steps, and says when there are none', async () => {
  const fx = await datasetFixture(48, 20);
  work = await mkdtemp(join(tmpdir(), 'facecomb-train-heldout-'));
  const out = join(work, 'with');
  const r = await runStage('train', work, out, params, { a: fx.datasets.aoc, k: fx.datasets.katie });
  assert.equal(r.code, 0, r.stderr);
  const lines = await metrics(out);
  assert.deepEqual(lines.filter((l) => 'heldoutLoss' in l).map((l) => l.step), [4, 8]);
  for (const l of lines.filter((x) => 'heldoutLoss' in x)) {
    const per = l.heldoutLosses as Record<string, number>;
    assert.deepEqual(Object.keys(per).sort(), ['aoc', 'katie']);
    assert.ok(Object.values(per).every((v) => Number.isFinite(v) && v > 0 && v < 2), JSON.stringify(per));
    assert.ok(Math.abs((l.heldoutLoss as number) - (per.aoc + per.katie) / 2) < 1e-9);
  }
  // the training loss is measured on other frames: the two curves differ
  assert.notEqual(lines[3].heldoutLoss, lines[3].loss);

  const none = join(work, 'without');
  const s = await runStage('train', work, none, { ...params, stepsPerStable: 4 }, { a: await allTrain(fx.datasets.aoc, join(work, 'a')), k: await allTrain(fx.datasets.katie, join(work, 'k')) });
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout + s.stderr, /held-out loss: skipped: no dataset has held-out frames/);
  assert.ok((await metrics(none)).every((l) => !('heldoutLoss' in l)));
});
