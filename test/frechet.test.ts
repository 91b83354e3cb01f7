import { strict as assert } from 'assert';
import { readFileSync } from 'fs';
import * as path from 'path';

import { UserError } from '../lib/errors';
import { createLogger, setLogOutput } from '../lib/log/logger';
import { FeatureStatistics, featureStatistics, frechetDistance } from '../lib/metrics/frechet';
import { symmetricEigen } from '../lib/metrics/linalg';

interface EncodedSample {
  rows: number;
  cols: number;
  scale: number;
  int16Base64: string;
}

interface ReferenceCase {
  name: string;
  description: string;
  expected: number;
  offsetApplied: boolean;
  sample1: EncodedSample;
  sample2: EncodedSample;
}

const reference = JSON.parse(
  readFileSync(path.join(__dirname, 'fixtures/frechet/reference.json'), 'utf8'),
) as { cases: ReferenceCase[] };

function decode(sample: EncodedSample): Float64Array {
  const bytes = Buffer.from(sample.int16Base64, 'base64');
  const counts = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  return Float64Array.from(counts, (count) => count * sample.scale);
}

function statisticsOf(sample: EncodedSample): FeatureStatistics {
  return featureStatistics(decode(sample), sample.rows, sample.cols);
}

/** Seeded standard normal values (Box-Muller on a linear congruential generator). */
function gaussianSample(seed: number, count: number, dim: number, shift = 0): Float64Array {
  let state = seed >>> 0;
  const uniform = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 1) / 4294967297;
  };
  const values = new Float64Array(count * dim);
  for (let i = 0; i < values.length; i++) {
    const radius = Math.sqrt(-2 * Math.log(uniform()));
    values[i] = radius * Math.cos(2 * Math.PI * uniform()) + (i % dim === 0 ? shift : 0);
  }
  return values;
}

describe('Frechet distance', () => {
  for (const testCase of reference.cases) {
    it(`matches SciPy on ${testCase.name}`, () => {
      const first = statisticsOf(testCase.sample1);
      const second = statisticsOf(testCase.sample2);
      assert.equal(first.singular || second.singular, testCase.offsetApplied, 'singularity');

      const distance = frechetDistance(first, second);
      const relative = Math.abs(distance - testCase.expected) / Math.abs(testCase.expected);
      assert.ok(
        relative <= 1e-6,
        `${testCase.description}: got ${distance}, SciPy ${testCase.expected}, relative ${relative}`,
      );
    });
  }

  it('is near zero for two samples of one distribution', () => {
    const dim = 16;
    const first = featureStatistics(gaussianSample(1, 4000, dim), 4000, dim);
    const second = featureStatistics(gaussianSample(2, 4000, dim), 4000, dim);
    const distance = frechetDistance(first, second);
    // The finite-sample bias must stay well below the 1 that a unit mean shift adds.
    assert.ok(distance < 0.15, `distance ${distance}`);
  });

  it('is zero for a sample against itself', () => {
    const statistics = featureStatistics(gaussianSample(3, 500, 32), 500, 32);
    assert.ok(frechetDistance(statistics, statistics) < 1e-9);
  });

  it('grows monotonically as one sample is shifted', () => {
    const dim = 8;
    const reference = featureStatistics(gaussianSample(4, 2000, dim), 2000, dim);
    let previous = -1;
    for (const shift of [0, 0.25, 0.5, 1, 2, 4]) {
      const shifted = featureStatistics(gaussianSample(5, 2000, dim, shift), 2000, dim);
      const distance = frechetDistance(reference, shifted);
      assert.ok(distance > previous, `shift ${shift}: ${distance} after ${previous}`);
      previous = distance;
    }
  });

  it('stays finite when both samples are constant', () => {
    const constant = new Float64Array(20 * 4).fill(0.5);
    const statistics = featureStatistics(constant, 20, 4);
    assert.equal(statistics.singular, true);
    const distance = frechetDistance(statistics, featureStatistics(gaussianSample(6, 20, 4), 20, 4));
    assert.ok(Number.isFinite(distance), `distance ${distance}`);
    assert.ok(distance > 0);
  });

  it('rejects a sample of one vector', () => {
    assert.throws(
      () => featureStatistics(new Float64Array(8), 1, 8, { name: 'generated images' }),
      (error: Error) =>
        error instanceof UserError &&
        error.message ===
          'Frechet distance: generated images: 1 feature vector(s), at least 2 are needed',
    );
  });

  it('rejects a NaN feature', () => {
    const features = gaussianSample(7, 10, 4);
    features[9] = NaN;
    assert.throws(
      () => featureStatistics(features, 10, 4),
      (error: Error) => error instanceof UserError && /feature 1 of vector 2 is NaN/.test(error.message),
    );
  });

  it('warns when there are fewer samples than features', () => {
    const lines: string[] = [];
    const previous = setLogOutput((line) => lines.push(line));
    try {
      featureStatistics(gaussianSample(8, 5, 16), 5, 16, { logger: createLogger('evaluate') });
    } finally {
      setLogOutput(previous);
    }
    assert.equal(lines.length, 1);
    assert.match(lines[0], /level=warn .*samples=5 features=16/);
  });
});

describe('symmetric eigen-decomposition', () => {
  it('reconstructs the matrix from its eigenpairs', () => {
    const n = 12;
    const random = gaussianSample(9, n, n);
    const matrix = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) matrix[i * n + j] = random[i * n + j] + random[j * n + i];
    }
    const { values, vectors } = symmetricEigen(matrix, n, { vectors: true });
    const v = vectors as Float64Array;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let k = 0; k < n; k++) sum += v[i * n + k] * values[k] * v[j * n + k];
        assert.ok(Math.abs(sum - matrix[i * n + j]) < 1e-10, `entry ${i},${j}`);
      }
    }
    for (let k = 1; k < n; k++) assert.ok(values[k] >= values[k - 1], 'ascending');
  });
});
