import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { engine, progress, summary, type StageEnv } from '@facecomb/stage';
import { FaceReader } from './faces.js';
import { findInputs } from './inputs.js';
import { parseScoreParams } from './params.js';
import { scoreSwap } from './score.js';
import { ReadingCache } from './readings.js';
import { checkThresholds } from './gate.js';
import { scoreTable } from './table.js';
import { plotScore } from './plot.js';

/** The `score` stage: score.json, score.png and the summary; fails naming each figure outside its thresholds. */
export async function scoreStage(env: StageEnv): Promise<void> {
  const params = parseScoreParams(env.params);
  const inp = await findInputs(env.inputs, params);
  const reader = await FaceReader.open(env.backend);
  engine(reader.rt.backend, reader.rt.why);
  const t0 = Date.now();
  const readings = await ReadingCache.open(env.stageCache, reader);
  const r = await scoreSwap(reader, inp, params, {
    onProgress: (done, total, msg) => progress({ done, total, unit: 'steps', msg }, done === total),
    readings,
  });
  const cropReadings = { cached: readings.hits, read: readings.misses };
  const breaches = checkThresholds(r.figures, params.thresholds);
  await mkdir(env.out, { recursive: true });
  const seconds = Math.round((Date.now() - t0) / 100) / 10;
  await writeFile(join(env.out, 'score.json'), JSON.stringify({
    source: r.source, target: r.target, reconstruction: r.reconstruction, seamsAt: r.seamsAt, counts: r.counts, summary: r.figures,
    identities: r.identities, thresholds: params.thresholds, breaches: breaches.map((b) => b.message), seconds, cropReadings, frames: r.frames,
  }, null, 1) + '\n');
  await plotScore(r, join(env.out, 'score.png'));
  await writeFile(join(env.out, 'meta.json'), JSON.stringify({
    kind: 'score', source: r.source, target: r.target, swap: inp.swap.name, blend: inp.blend?.name ?? null, align: inp.align.name,
    identities: r.identities.map((i) => i.name), frameNumbers: r.frames.map((f) => f.frame), counts: r.counts,
  }, null, 2) + '\n');
  process.stdout.write(`${scoreTable(r)}\ncrop readings: ${cropReadings.cached} from the stage cache, ${cropReadings.read} by the nets${env.stageCache ? '' : ' (no FACECOMB_STAGE_CACHE)'}; ${seconds} s\n`);
  const round = (v: number | null) => (v === null ? null : Math.round(v * 10000) / 10000);
  summary({
    source: r.source, target: r.target, ...r.counts,
    ...Object.fromEntries(Object.entries(r.figures).filter(([, v]) => v !== null).map(([k, v]) => [k, round(v)])),
    seconds,
  });
  if (breaches.length) throw new Error(`score outside its thresholds: ${breaches.map((b) => b.message).join('; ')}`);
}
