import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';

import { loadSplit } from '../lib/dataset/prepared';
import { createLogger, setLogOutput } from '../lib/log/logger';
import {
  ClassifierConfig,
  FEATURE_LAYER,
  FEATURE_SIZE,
  buildClassifier,
  disposeClassifier,
  epochLearningRate,
  trainClassifier,
} from '../lib/models/classifier';
import { loadBackend } from '../lib/tensorflow/backend';
import { EvaluateFixture, TINY_CLASSIFIER, prepareSmallDataset } from './support/evaluate-fixture';

const logger = createLogger('classifier');

describe('evaluation classifier', function () {
  this.timeout(120000);
  let fixture: EvaluateFixture;
  let restoreLog: (line: string) => void;
  const logLines: string[] = [];

  before(async () => {
    loadBackend({ device: 'cpu' }, logger);
    restoreLog = setLogOutput((line) => logLines.push(line));
    fixture = await prepareSmallDataset(256, 16);
  });

  after(async () => {
    setLogOutput(restoreLog);
    await fixture?.cleanUp();
  });

  it('keeps the learning rate without decay epochs', () => {
    assert.equal(epochLearningRate(TINY_CLASSIFIER, 0), TINY_CLASSIFIER.learningRate);
    assert.equal(epochLearningRate(TINY_CLASSIFIER, 5), TINY_CLASSIFIER.learningRate);
  });

  it('decays the learning rate at each decay epoch', () => {
    const config = {
      ...TINY_CLASSIFIER,
      learningRate: 1,
      decayEpochs: [2, 4],
      learningRateDecay: 0.5,
    };
    const rates = [0, 1, 2, 3, 4, 5].map((epoch) => epochLearningRate(config, epoch));
    assert.deepEqual(rates, [1, 1, 0.5, 0.5, 0.25, 0.25]);
  });

  it('keeps the feature layer with three blocks', () => {
    const model = buildClassifier({ ...TINY_CLASSIFIER, blocks: 3 });
    const convolutions = model.layers.filter((layer) => layer.getClassName() === 'Conv2D');
    const features = model.getLayer(FEATURE_LAYER).outputShape as number[];
    const output = model.outputs[0].shape;
    disposeClassifier(model);

    const filters = convolutions.map((layer) => (layer.outputShape as number[])[3]);
    assert.deepEqual(filters, [4, 8, 16]);
    assert.equal(features[1], FEATURE_SIZE);
    assert.deepEqual(output, [null, 10]);
  });

  it('passes the batch normalization momentum on', () => {
    const model = buildClassifier({ ...TINY_CLASSIFIER, batchNormMomentum: 0.9 });
    const layers = model.layers.filter((layer) => layer.getClassName() === 'BatchNormalization');
    const momenta = layers.map((layer) => (layer.getConfig() as { momentum: number }).momentum);
    disposeClassifier(model);

    assert.ok(momenta.length > 0, 'no batch normalization layer');
    assert.ok(momenta.every((momentum) => momentum === 0.9), `momenta ${momenta}`);
  });

  it('trains the last epoch at the decayed rate', async () => {
    const config: ClassifierConfig = {
      ...TINY_CLASSIFIER,
      epochs: 2,
      decayEpochs: [1],
      learningRateDecay: 0.1,
    };
    const train = await loadSplit(fixture.store, fixture.dataset, 'train');
    const model = buildClassifier(config);
    const tensorsBefore = tf.memory().numTensors;
    await trainClassifier(model, train, config, logger);
    const rate = (model.optimizer as unknown as { learningRate: number }).learningRate;
    const tensorsAfter = tf.memory().numTensors;
    const adamMoments = model.trainableWeights.length * 2;
    disposeClassifier(model);

    assert.ok(Math.abs(rate - config.learningRate * 0.1) < 1e-12, `learning rate ${rate}`);
    assert.ok(
      logLines.some((line) => line.includes('epoch=2/2') && line.includes('learning_rate=0.0003')),
      'no epoch line with the decayed rate',
    );
    // Adam creates two moment tensors per weight on its first step, so only those may remain.
    const added = tensorsAfter - tensorsBefore;
    assert.ok(added <= adamMoments, `${added} new tensors`);
  });
});
