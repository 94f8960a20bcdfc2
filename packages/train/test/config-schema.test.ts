import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { renderStagesJson, STAGES_JSON } from '../src/stages-json.js';
import { TRAIN_PARAMS } from '../src/params.js';
import { configHash, resolveConfig, storedConfig, storedModel, type TrainConfig } from '../src/config.js';
import { checkCompatible } from '../src/checkpoint.js';

const IDS = ['a', 'b'];

test('stages.json holds the train schema generated from src/params.ts (run `npm run stages-json` in packages/train)', async () => {
  const text = await readFile(STAGES_JSON, 'utf8');
  assert.equal(renderStagesJson(text), text);
});

test('every param resolves into its group, and the groups hold nothing else', () => {
  const cfg = resolveConfig({ resolution: 32 }, IDS) as unknown as Record<string, Record<string, unknown> | null>;
  const want: Record<string, string[]> = {};
  for (const [key, spec] of Object.entries(TRAIN_PARAMS)) {
    const obj = spec.schema.type === 'object' ? spec.schema : spec.schema.oneOf?.find((b) => b.type === 'object');
    // a param named like its group (loss, augment) spreads its fields into the group
    const fields = key === spec.group ? Object.keys(obj!.properties!) : [key];
    (want[spec.group] ??= []).push(...fields);
  }
  assert.deepEqual(Object.keys(cfg).sort(), Object.keys(want).sort());
  for (const [g, fields] of Object.entries(want)) assert.deepEqual(Object.keys(cfg[g]!).sort(), fields.sort(), g);
});

test('flat params resolve to the nested config with their defaults', () => {
  const cfg = resolveConfig({ resolution: 64, startResolution: 32, batch: { 64: 2 }, lr: 1e-3, loss: { ssim: 0.5 }, augment: false, seed: 7 }, IDS);
  assert.deepEqual(cfg.model.identities, IDS);
  assert.deepEqual(cfg.schedule.batch, { 32: 8, 64: 2 });
  assert.deepEqual(cfg.schedule.stepsPerStable, { 32: 20000, 64: 20000 });
  assert.deepEqual(Object.keys(cfg.model.channels), ['4', '8', '16', '32', '64']);
  assert.equal(cfg.optim.lr, 1e-3);
  assert.deepEqual({ ssim: cfg.loss.ssim, l1: cfg.loss.l1, window: cfg.loss.window }, { ssim: 0.5, l1: 1, window: 7 });
  assert.deepEqual(cfg.loss.regionWeights, { eyes: 0, brows: 0, mouth: 0 });
  assert.equal(cfg.augment, null);
  assert.deepEqual(resolveConfig({ augment: { rotate: 10 } }, IDS).augment, { rotate: 10, scale: 0.04, shift: 0.03, flip: true, colour: 0.05 });
  assert.equal(cfg.run.seed, 7);
});

test('the schema refuses bad params naming the field; augment keeps the bounds the stage enforced', () => {
  const refuses = (params: Record<string, unknown>, re: RegExp) => assert.throws(() => resolveConfig(params, IDS), re);
  refuses({ augment: { rotate: 46 } }, /train param 'augment\.rotate' = 46: must be in \[0, 45\]/);
  refuses({ augment: { scale: 0.5 } }, /train param 'augment\.scale' = 0.5: must be in \[0, 0.5\)/);
  refuses({ augment: { flip: 'yes' } }, /train param 'augment\.flip' = "yes": must be a boolean/);
  refuses({ augment: true }, /train param 'augment' = true: must be false or an object/);
  refuses({ loss: { window: 8 } }, /train param 'loss\.window' = 8: must be one of 3, 5, 7, 9/);
  refuses({ batch: { 16: 0 } }, /train param 'batch\.16' = 0: must be an integer >= 1/);
  refuses({ learningRate: 0.1 }, /train param 'learningRate': unknown field; must be one of the known fields \(resolution, startResolution/);
  refuses({ resolution: 32, startResolution: 64 }, /'startResolution' = 64: must be a power of 2 from 8 to resolution \(32\)/);
  refuses({ identities: ['a', 'c'] }, /'identities' names 'c', but the needed datasets are \[a, b\]/);
});

test('upsample: the default (nearest) leaves the identity of earlier checkpoints as it was; bilinear is another model', () => {
  const cfg = resolveConfig({ resolution: 32, latent: 16 }, IDS);
  assert.equal(cfg.model.upsample, 'nearest');
  // a checkpoint written before the field existed has no upsample in its model part
  const older = { model: { ...cfg.model } as Record<string, unknown> };
  delete older.model.upsample;
  assert.deepEqual(storedModel(older), storedModel({ model: cfg.model }));
  assert.equal(configHash(resolveConfig({ resolution: 32, latent: 16, upsample: 'nearest' }, IDS)), configHash(cfg));
  const bil = resolveConfig({ resolution: 32, latent: 16, upsample: 'bilinear' }, IDS);
  assert.notEqual(configHash(bil), configHash(cfg));
  assert.throws(() => checkCompatible('ckpt', { config: older }, bil), /'upsample' is undefined there but "bilinear" now/);
  assert.throws(() => resolveConfig({ resolution: 32, upsample: 'cubic' }, IDS), /upsample/);
});

test('a checkpoint identity is the model part; a stored flat config (older checkpoints) reads back the same', () => {
  const cfg = resolveConfig({ resolution: 32, latent: 16, lr: 1e-3, augment: false }, IDS);
  assert.equal(configHash(resolveConfig({ resolution: 32, latent: 16, lr: 0.5, seed: 3, stepsPerFade: 9 }, IDS)), configHash(cfg));
  assert.notEqual(configHash(resolveConfig({ resolution: 32, latent: 17 }, IDS)), configHash(cfg));
  // the levels are the model's: a run started at another resolution has other fromRGB/toRGB layers
  assert.notEqual(configHash(resolveConfig({ resolution: 32, latent: 16, startResolution: 32 }, IDS)), configHash(cfg));
  const flat: Record<string, unknown> = { identities: IDS };
  for (const group of Object.values(cfg as unknown as Record<string, Record<string, unknown> | null>)) Object.assign(flat, group);
  const old: Record<string, unknown> = { ...flat, loss: { ssim: 1, l1: 1, msssim: true, window: 7, detail: 0 }, regionWeights: cfg.loss.regionWeights, augment: null };
  delete old.ssim;
  assert.deepEqual(storedConfig(old), cfg);
  assert.deepEqual(storedModel(old), storedModel({ model: cfg.model }));
  assert.deepEqual(storedConfig(JSON.parse(JSON.stringify(cfg))), cfg as TrainConfig);
});
