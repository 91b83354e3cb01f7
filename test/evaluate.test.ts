import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';

import { UserError } from '../lib/errors';
import { StoreError } from '../lib/storage/store';
import { createLogger, setLogOutput } from '../lib/log/logger';
import { DEFAULT_GENERATOR_CONFIG, generatorMeta } from '../lib/models/generator';
import { saveGenerator } from '../lib/models/generator-store';
import { loadBackend } from '../lib/tensorflow/backend';
import { readManifest } from '../lib/dataset/prepared';
import { obtainClassifier, settingsHash } from '../stages/evaluate/classifier-cache';
import {
  EvaluateOptions,
  EvaluationMetrics,
  enforceGate,
  evaluateGenerator,
  formatAbove,
} from '../stages/evaluate/evaluate';
import { formatReport } from '../stages/evaluate/report';
import {
  EvaluateFixture,
  TINY_CLASSIFIER,
  prepareSmallDataset,
  saveRealImageGenerator,
  saveUntrainedGenerator,
} from './support/evaluate-fixture';

const logger = createLogger('evaluate');

describe('evaluate stage', function () {
  this.timeout(300000);
  let fixture: EvaluateFixture;
  let restoreLog: (line: string) => void;
  const logLines: string[] = [];

  const options = (model: string, extra: Partial<EvaluateOptions> = {}): EvaluateOptions => ({
    dataset: fixture.dataset,
    model,
    samples: 400,
    seed: 1,
    batchSize: 100,
    classifierConfig: TINY_CLASSIFIER,
    ...extra,
  });

  before(async () => {
    loadBackend({ device: 'cpu' });
    restoreLog = setLogOutput((line) => logLines.push(line));
    fixture = await prepareSmallDataset(3000, 1000);
    await saveUntrainedGenerator(fixture, 'runs/untrained');
    await saveRealImageGenerator(fixture, 'runs/real-images', 100);
  });

  after(async () => {
    setLogOutput(restoreLog);
    await fixture?.cleanUp();
  });

  let bad: EvaluationMetrics;
  let good: EvaluationMetrics;

  it('trains the classifier once and then reuses it', async () => {
    const manifest = await readManifest(fixture.store, fixture.dataset);
    const settings = { datasetPrefix: fixture.dataset, manifest, config: TINY_CLASSIFIER, logger };
    const first = await obtainClassifier(fixture.store, settings);
    first.model.dispose();
    const second = await obtainClassifier(fixture.store, settings);
    second.model.dispose();

    assert.equal(first.trained, true);
    assert.equal(second.trained, false);
    assert.equal(first.key, `classifiers/${manifest.hash}/${settingsHash(TINY_CLASSIFIER)}`);
    assert.equal(second.record.createdAt, first.record.createdAt);
    assert.ok(await fixture.store.exists(`${first.key}/model.json`));
    // A width-4 classifier on 3000 images; the full-size one must reach 0.92 (see the bench).
    assert.ok(first.record.testAccuracy > 0.7, `test accuracy ${first.record.testAccuracy}`);
  });

  it('keeps a classifier per settings', async () => {
    const manifest = await readManifest(fixture.store, fixture.dataset);
    const settings = { datasetPrefix: fixture.dataset, manifest, logger };
    const other = { ...TINY_CLASSIFIER, epochs: 1, seed: TINY_CLASSIFIER.seed + 1 };
    const trained = await obtainClassifier(fixture.store, { ...settings, config: other });
    trained.model.dispose();
    const original = await obtainClassifier(fixture.store, { ...settings, config: TINY_CLASSIFIER });
    original.model.dispose();

    assert.equal(trained.trained, true);
    assert.equal(original.trained, false, 'the first classifier was replaced');
    assert.notEqual(trained.key, original.key);
  });

  it('hashes settings whatever their key order', () => {
    const reordered = Object.fromEntries(Object.entries(TINY_CLASSIFIER).reverse());

    assert.equal(settingsHash(reordered as typeof TINY_CLASSIFIER), settingsHash(TINY_CLASSIFIER));
    assert.notEqual(settingsHash({ ...TINY_CLASSIFIER, epochs: 9 }), settingsHash(TINY_CLASSIFIER));
  });

  it('checks the store takes writes before training', async () => {
    const manifest = await readManifest(fixture.store, fixture.dataset);
    const readOnly = Object.assign(Object.create(fixture.store) as typeof fixture.store, {
      put: async (key: string) => {
        throw new StoreError('access-denied', `${fixture.store.url}: permission denied on '${key}'`);
      },
    });
    const config = { ...TINY_CLASSIFIER, seed: TINY_CLASSIFIER.seed + 2 };
    const started = logLines.length;

    await assert.rejects(
      obtainClassifier(readOnly, { datasetPrefix: fixture.dataset, manifest, config, logger }),
      /permission denied on 'classifiers\/.*\/write-check'/,
    );
    const epochs = logLines.slice(started).filter((line) => line.includes('classifier epoch done'));
    assert.equal(epochs.length, 0, 'trained before finding the store read-only');
  });

  it('gate fails an untrained tiny generator', async () => {
    const result = await evaluateGenerator(fixture.store, options('runs/untrained', { maxFid: 10 }), logger);
    bad = result.metrics;

    assert.equal(result.metricsKey, 'runs/untrained/metrics.json');
    assert.ok(await fixture.store.exists(result.metricsKey));
    assert.equal(bad.gate.passed, false);
    assert.ok(bad.fid > 10, `FID-proxy ${bad.fid}`);
    assert.throws(
      () => enforceGate(bad),
      (error: Error) =>
        error instanceof UserError &&
        error.message ===
          `evaluate: FID-proxy ${bad.fid.toFixed(1)} is above --max-fid 10: ` +
            'the generator is not good enough to publish',
    );
  });

  it('repeats its samples for seed 0', async () => {
    // This stand-in picks its image from the latent vector, so other latents give other scores.
    const run = (out: string) =>
      evaluateGenerator(fixture.store, options('runs/real-images', { seed: 0, samples: 200, out }), logger);
    const first = await run('evaluations/seed-0-a');
    const second = await run('evaluations/seed-0-b');

    assert.equal(first.metrics.fid, second.metrics.fid);
    assert.deepEqual(first.metrics.classHistogram, second.metrics.classHistogram);
  });

  it('draws the same samples at any batch size', async () => {
    const run = (batchSize: number, out: string) =>
      evaluateGenerator(fixture.store, options('runs/real-images', { batchSize, samples: 300, out }), logger);
    const large = await run(300, 'evaluations/batch-300');
    const small = await run(70, 'evaluations/batch-70');

    assert.deepEqual(small.metrics.classHistogram, large.metrics.classHistogram);
    assert.ok(Math.abs(small.metrics.fid - large.metrics.fid) < 1e-6 * large.metrics.fid);
    assert.equal(small.metrics.seed, 1);
  });

  it('rejects a classifier whose weights no longer match its record', async () => {
    const manifest = await readManifest(fixture.store, fixture.dataset);
    const key = `classifiers/${manifest.hash}/${settingsHash(TINY_CLASSIFIER)}/classifier.json`;
    const original = await fixture.store.get(key);
    const record = JSON.parse(original.toString());
    const wholeTestSplit = options('runs/real-images', { samples: 1000, out: 'evaluations/whole' });
    const intact = await evaluateGenerator(fixture.store, wholeTestSplit, logger);
    assert.equal(intact.metrics.floorSamples, 1000);

    await fixture.store.put(key, JSON.stringify({ ...record, testAccuracy: record.testAccuracy - 0.1 }));
    try {
      await assert.rejects(
        evaluateGenerator(fixture.store, wholeTestSplit, logger),
        (error: Error) =>
          error instanceof UserError && /its stored weights changed\. Delete 'classifiers\//.test(error.message),
      );
    } finally {
      await fixture.store.put(key, original);
    }
  });

  it('rejects a damaged classifier record', async () => {
    const manifest = await readManifest(fixture.store, fixture.dataset);
    const key = `classifiers/${manifest.hash}/${settingsHash(TINY_CLASSIFIER)}/classifier.json`;
    const original = await fixture.store.get(key);
    const record = JSON.parse(original.toString());
    const cases: [object, RegExp][] = [
      [{ testAccuracy: 7 }, /has testAccuracy 7, expected a number from 0 to 1/],
      [{ testAccuracy: null }, /has testAccuracy null, expected a number from 0 to 1/],
      [{ featureSize: 64 }, /describes feature layer 'features' of 64 units, expected 'features' of 128/],
      [{ datasetHash: 'f'.repeat(64) }, /belongs to data set ffffffffffffffff, not to this one/],
    ];
    try {
      for (const [change, message] of cases) {
        await fixture.store.put(key, JSON.stringify({ ...record, ...change }));
        await assert.rejects(
          obtainClassifier(fixture.store, {
            datasetPrefix: fixture.dataset,
            manifest,
            config: TINY_CLASSIFIER,
            logger,
          }),
          (error: Error) => error instanceof UserError && message.test(error.message),
          JSON.stringify(change),
        );
      }
    } finally {
      await fixture.store.put(key, original);
    }
  });

  it('prints a failed gate value above its limit', () => {
    assert.equal(formatAbove(469.23, 10), '469.2');
    assert.equal(formatAbove(213.354, 213.35), '213.354');
    assert.equal(formatAbove(10.04, 10), '10.04');
  });

  it('gate passes a stand-in generator that returns real training images', async () => {
    const result = await evaluateGenerator(
      fixture.store,
      options('runs/real-images', { maxFid: 10, out: 'evaluations/real-images' }),
      logger,
    );
    good = result.metrics;

    assert.equal(result.metricsKey, 'evaluations/real-images/metrics.json');
    assert.equal(good.gate.passed, true);
    assert.doesNotThrow(() => enforceGate(good));
    assert.ok(good.fid < 10, `FID-proxy ${good.fid}`);
    assert.ok(good.fid < bad.fid / 5, `good ${good.fid} against bad ${bad.fid}`);
  });

  it('scores real images near the floor', () => {
    assert.ok(good.fidFloor > 0);
    // The stand-in repeats 100 images per class, so it sits a little above the floor.
    assert.ok(good.fid < 4 * good.fidFloor + 1, `FID-proxy ${good.fid}, floor ${good.fidFloor}`);
  });

  it('reports coverage and agreement of real images', () => {
    assert.equal(good.classesCovered, 10);
    assert.equal(good.classHistogram.reduce((sum, value) => sum + value, 0), 400);
    assert.ok((good.conditionalAgreement ?? 0) > 0.6, `agreement ${good.conditionalAgreement}`);
    assert.ok(good.inceptionScore > 2, `IS-style score ${good.inceptionScore}`);
    assert.ok(good.inceptionScore > bad.inceptionScore);
  });

  it('reports a per-class FID-proxy for a conditional generator', () => {
    assert.equal(good.perClassFid?.length, 10);
    assert.equal(bad.perClassFid?.length, 10);
    for (let label = 0; label < 10; label++) {
      const goodFid = (good.perClassFid as number[])[label];
      const badFid = (bad.perClassFid as number[])[label];
      assert.ok(goodFid < badFid, `class ${label}: ${goodFid} against ${badFid}`);
    }
  });

  it('writes metrics.json in the contract shape', async () => {
    const stored = JSON.parse(
      (await fixture.store.get('evaluations/real-images/metrics.json')).toString('utf8'),
    ) as EvaluationMetrics;
    assert.deepEqual(stored, good);
    const manifest = await readManifest(fixture.store, fixture.dataset);
    assert.equal(stored.datasetHash, manifest.hash);
    assert.equal(stored.samples, 400);
    assert.equal(stored.classifier.key, `classifiers/${manifest.hash}/${settingsHash(TINY_CLASSIFIER)}`);
    assert.equal(stored.gate.maxFid, 10);
    assert.ok(!Number.isNaN(Date.parse(stored.createdAt)));
  });

  it('prints a table with one row per class', () => {
    const table = formatReport(good);
    assert.match(table, /^FID-proxy\s+\d+\.\d\d$/m);
    assert.match(table, /^quality gate\s+passed/m);
    assert.match(table, /^Ankle boot\s+\d+\.\d%\s+\d+\.\d\d$/m);
    assert.match(table, /^class\s+classified as\s+FID-proxy when requested$/m);
  });

  it('leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    await evaluateGenerator(fixture.store, options('runs/real-images', { samples: 50 }), logger);
    assert.equal(tf.memory().numTensors, before);
  });

  it('rejects a store with no model', async () => {
    await assert.rejects(
      evaluateGenerator(fixture.store, options('runs/missing'), logger),
      (error: Error) =>
        error instanceof UserError &&
        error.message ===
          `evaluate: ${fixture.store.url}: no trained generator at 'runs/missing' ` +
            `(runs/missing/model/generator-meta.json not found); run the train stage first`,
    );
  });

  it('rejects generator metadata it cannot use', async () => {
    const metaKey = 'runs/untrained/model/generator-meta.json';
    const original = await fixture.store.get(metaKey);
    const meta = JSON.parse(original.toString());
    const cases: [unknown, string][] = [
      [{}, 'latentSize is undefined, expected a positive integer'],
      [{ ...meta, latentSize: '100' }, 'latentSize is "100", expected a positive integer'],
      [{ ...meta, numClasses: 5 }, 'numClasses is 5, expected 10'],
      [{ ...meta, imageShape: [32, 32, 1] }, 'imageShape is [32,32,1], expected [28,28,1]'],
      [{ ...meta, pixelRange: [0, 1] }, 'pixelRange is [0,1], expected [-1,1]'],
    ];
    try {
      for (const [changed, problem] of cases) {
        await fixture.store.put(metaKey, JSON.stringify(changed));
        await assert.rejects(
          evaluateGenerator(fixture.store, options('runs/untrained'), logger),
          (error: Error) =>
            error instanceof UserError &&
            error.message === `evaluate: ${fixture.store.url}: ${metaKey}: ${problem}`,
          problem,
        );
      }
    } finally {
      await fixture.store.put(metaKey, original);
    }
  });

  it('rejects a generator with the wrong output shape', async () => {
    const latent = tf.input({ shape: [DEFAULT_GENERATOR_CONFIG.latentSize] });
    const output = tf.layers.reshape({ targetShape: [10, 10, 1] }).apply(latent) as tf.SymbolicTensor;
    const model = tf.model({ inputs: latent, outputs: output });
    const meta = generatorMeta(
      { ...DEFAULT_GENERATOR_CONFIG, conditional: false },
      { datasetHash: '', step: 0, epoch: 0, runId: 'wrong-shape' },
    );
    await saveGenerator(fixture.store, 'runs/wrong-shape', model, meta);
    model.dispose();

    await assert.rejects(
      evaluateGenerator(fixture.store, options('runs/wrong-shape'), logger),
      (error: Error) =>
        error instanceof UserError &&
        error.message.startsWith(`evaluate: ${fixture.store.url}: generator at 'runs/wrong-shape'`) &&
        error.message.includes('10, 10, 1') &&
        error.message.includes('28, 28, 1'),
    );
  });

  it('rejects a sample count below 2', async () => {
    await assert.rejects(
      evaluateGenerator(fixture.store, options('runs/real-images', { samples: 1 }), logger),
      (error: Error) =>
        error instanceof UserError &&
        error.message === 'evaluate: --samples must be an integer of at least 2, got 1',
    );
  });
});
