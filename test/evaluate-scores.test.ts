import { strict as assert } from 'assert';

import { UserError } from '../lib/errors';
import {
  argmaxRows,
  classHistogram,
  classesCovered,
  conditionalAgreement,
  inceptionScore,
} from '../lib/metrics/scores';

/** Probability rows that put `confidence` on `label` and spread the rest evenly. */
function rows(labels: number[], confidence: number, numClasses = 10): Float64Array {
  const values = new Float64Array(labels.length * numClasses).fill((1 - confidence) / (numClasses - 1));
  labels.forEach((label, row) => (values[row * numClasses + label] = confidence));
  return values;
}

describe('IS-style score', () => {
  it('is 1 when every image gets the same prediction', () => {
    const score = inceptionScore(rows([3, 3, 3, 3], 0.9), 4);
    assert.ok(Math.abs(score - 1) < 1e-12, `score ${score}`);
  });

  it('is 1 for uniform predictions', () => {
    const score = inceptionScore(new Float64Array(50).fill(0.1), 5);
    assert.ok(Math.abs(score - 1) < 1e-12, `score ${score}`);
  });

  it('is the class count for confident balanced predictions', () => {
    const labels = Array.from({ length: 100 }, (_, i) => i % 10);
    const score = inceptionScore(rows(labels, 1), 100);
    assert.ok(Math.abs(score - 10) < 1e-9, `score ${score}`);
  });

  it('drops when predictions grow less confident', () => {
    const labels = Array.from({ length: 100 }, (_, i) => i % 10);
    const confident = inceptionScore(rows(labels, 0.95), 100);
    const unsure = inceptionScore(rows(labels, 0.5), 100);
    assert.ok(unsure < confident, `${unsure} against ${confident}`);
  });

  it('rejects an empty sample', () => {
    assert.throws(() => inceptionScore(new Float64Array(0), 0), UserError);
  });
});

describe('class coverage', () => {
  it('counts argmax predictions per class', () => {
    const predicted = argmaxRows(rows([0, 9, 9, 4], 0.6), 4);
    assert.deepEqual(Array.from(predicted), [0, 9, 9, 4]);
    assert.deepEqual(classHistogram(predicted), [1, 0, 0, 0, 1, 0, 0, 0, 0, 2]);
  });

  it('covers a class holding a quarter of its uniform share', () => {
    // 1000 samples: the uniform share is 100, so 25 covers a class and 24 does not.
    const histogram = [25, 24, 0, 0, 0, 0, 0, 0, 0, 951];
    assert.equal(classesCovered(histogram), 2);
  });

  it('covers all classes of a balanced histogram', () => {
    assert.equal(classesCovered(new Array(10).fill(7)), 10);
  });

  it('covers nothing without samples', () => {
    assert.equal(classesCovered(new Array(10).fill(0)), 0);
  });
});

describe('conditional agreement', () => {
  it('is the fraction of predictions equal to the requested class', () => {
    assert.equal(conditionalAgreement([1, 2, 3, 4], [1, 2, 0, 0]), 0.5);
  });

  it('rejects predictions and requests of different lengths', () => {
    assert.throws(() => conditionalAgreement([1, 2], [1]), /2 predictions for 1 requested labels/);
  });
});
