// The loss chart's data: a metrics.jsonl as train writes it (one record a step, a held-out loss every few
// steps), through trainMetrics: the schedule marks, the held-out column, thinning that keeps held-out points.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { trainMetrics } from '../src/details.js';

const dir = mkdtempSync(join(tmpdir(), 'facecomb-metrics-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** 16 px stable for 4 steps, 32 px fading in over 4 steps then stable; a held-out loss every 5th step. */
function write(heldout: (step: number) => number | Record<string, number> | undefined): string {
  const lines: string[] = [];
  for (let step = 1; step <= 16; step++) {
    const resolution = step <= 4 ? 16 : 32;
    const alpha = step <= 4 ? 1 : Math.min(1, (step - 4) / 4);
    const rec: Record<string, unknown> = { step, resolution, level: Math.log2(resolution), alpha, identity: 'ava', loss: 0.1, losses: { ava: 0.1, bea: 0.2 }, imgPerSec: 10, msPerStep: 800 };
    const ho = step % 5 === 0 ? heldout(step) : undefined;
    // as train writes it: the mean as heldoutLoss, and one per identity as heldoutLosses
    if (ho && typeof ho === 'object') Object.assign(rec, { heldoutLosses: ho, heldoutLoss: 0 });
    else if (ho !== undefined) rec.heldoutLoss = ho;
    lines.push(JSON.stringify(rec));
  }
  const file = join(dir, `m${Math.random()}.jsonl`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

test('marks where a resolution fades in and where its fade-in ends', () => {
  const m = trainMetrics(write(() => 0.3));
  assert.deepEqual(m.marks, [
    { step: 5, what: '32 px fades in' },
    { step: 8, what: '32 px stable' },
  ]);
  assert.deepEqual(m.alpha.slice(3, 9), [1, 0.25, 0.5, 0.75, 1, 1]);
});

test('a held-out loss: one column, null on the steps without one; one per identity when train writes them', () => {
  const one = trainMetrics(write((s) => s / 100));
  assert.deepEqual(Object.keys(one.heldout), ['held-out']);
  assert.deepEqual(one.heldout['held-out'].map((v, i) => (v === null ? null : [one.step[i], v])).filter(Boolean), [[5, 0.05], [10, 0.1], [15, 0.15]]);
  const per = trainMetrics(write((s) => ({ ava: s / 100, bea: s / 50 })));
  assert.deepEqual(Object.keys(per.heldout), ['ava', 'bea']);
  assert.equal(per.heldout.bea[per.step.indexOf(10)], 0.2);
  assert.deepEqual(trainMetrics(write(() => undefined)).heldout, {}, 'none written: no column');
});

test('thinned to a few points, every held-out point is kept', () => {
  const m = trainMetrics(write((s) => s / 100), 4);
  assert.ok(m.step.length < 16, `thinned (${m.step.length} points)`);
  for (const s of [5, 10, 15]) assert.ok(m.step.includes(s), `step ${s} kept`);
  assert.equal(m.step.at(-1), 16, 'the last step kept');
  assert.deepEqual(m.marks.map((k) => k.step), [5, 8], 'marks from every line, not the thinned ones');
});
