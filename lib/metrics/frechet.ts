import { UserError } from '../errors';
import { Logger } from '../log/logger';
import { multiply, symmetricEigen, symmetricSqrt, trace } from './linalg';

/**
 * Diagonal offset added to both covariances when either is singular; the reference fixtures in
 * test/fixtures/frechet/ use the same value.
 */
export const SINGULAR_OFFSET = 1e-6;

/** Mean and covariance of a sample of feature vectors, in double precision. */
export interface FeatureStatistics {
  /** Feature vectors in the sample. */
  count: number;
  /** Features per vector. */
  dim: number;
  /** Length `dim`. */
  mean: Float64Array;
  /** Row-major `dim` x `dim`, unbiased (divisor count - 1), as numpy.cov computes it. */
  covariance: Float64Array;
  /**
   * True when the covariance is numerically rank-deficient: an eigenvalue at or below
   * max |eigenvalue| * dim * 2^-52, the tolerance of numpy.linalg.matrix_rank.
   */
  singular: boolean;
}

export interface StatisticsOptions {
  /** Name of the sample in messages, such as `generated images`. */
  name?: string;
  /** Receives the warning when the sample has fewer vectors than features. */
  logger?: Logger;
}

/**
 * Computes the mean and covariance of `count` feature vectors of `dim` values each, stored
 * row-major in `features` (float32 from the classifier, or float64).
 *
 * Throws a `UserError` when fewer than 2 vectors are given (no covariance exists) or when a value
 * is NaN or infinite. Logs a warning when count < dim: the covariance is then singular and the
 * distance is dominated by the small-sample bias.
 */
export function featureStatistics(
  features: Float32Array | Float64Array,
  count: number,
  dim: number,
  options: StatisticsOptions = {},
): FeatureStatistics {
  const name = options.name ?? 'sample';
  if (!Number.isInteger(count) || count < 2) {
    throw new UserError(
      `Frechet distance: ${name}: ${count} feature vector(s), at least 2 are needed`,
    );
  }
  if (features.length !== count * dim) {
    throw new Error(`featureStatistics: ${features.length} values are not ${count} x ${dim}`);
  }
  for (let i = 0; i < features.length; i++) {
    if (!Number.isFinite(features[i])) {
      throw new UserError(
        `Frechet distance: ${name}: feature ${i % dim} of vector ${Math.floor(i / dim)} is ` +
          `${features[i]}, so the images that produced it are broken`,
      );
    }
  }
  if (count < dim) {
    options.logger?.warn('fewer samples than features: the covariance is singular', {
      sample: name,
      samples: count,
      features: dim,
    });
  }

  const mean = new Float64Array(dim);
  for (let row = 0; row < count; row++) {
    for (let j = 0; j < dim; j++) mean[j] += features[row * dim + j];
  }
  for (let j = 0; j < dim; j++) mean[j] /= count;

  // Two passes (centre, then multiply) keep the covariance accurate when means are large.
  const covariance = new Float64Array(dim * dim);
  const centred = new Float64Array(dim);
  for (let row = 0; row < count; row++) {
    for (let j = 0; j < dim; j++) centred[j] = features[row * dim + j] - mean[j];
    for (let i = 0; i < dim; i++) {
      const ci = centred[i];
      if (ci === 0) continue;
      for (let j = i; j < dim; j++) covariance[i * dim + j] += ci * centred[j];
    }
  }
  for (let i = 0; i < dim; i++) {
    for (let j = i; j < dim; j++) {
      const value = covariance[i * dim + j] / (count - 1);
      covariance[i * dim + j] = value;
      covariance[j * dim + i] = value;
    }
  }

  return { count, dim, mean, covariance, singular: isSingular(covariance, dim) };
}

function isSingular(covariance: Float64Array, dim: number): boolean {
  const { values } = symmetricEigen(covariance, dim);
  const largest = Math.max(...values.map(Math.abs));
  const tolerance = largest * dim * Number.EPSILON;
  return values.some((value) => Math.abs(value) <= tolerance);
}

/**
 * Computes the Frechet distance between the Gaussians fitted to two samples:
 * |m1 - m2|^2 + tr(S1) + tr(S2) - 2 tr((sqrt(S1) S2 sqrt(S1))^(1/2)), in squared feature units,
 * always finite and >= 0.
 *
 * The symmetric form has the same trace as sqrtm(S1 S2), which pytorch-fid uses, but needs
 * only symmetric eigen-decompositions, which cannot produce complex values. Eigenvalues below
 * zero are rounding noise and count as zero.
 */
export function frechetDistance(first: FeatureStatistics, second: FeatureStatistics): number {
  const dim = first.dim;
  if (second.dim !== dim) {
    throw new Error(`frechetDistance: ${first.dim} features against ${second.dim}`);
  }

  let s1 = first.covariance;
  let s2 = second.covariance;
  if (first.singular || second.singular) {
    // A singular covariance has zero eigenvalues that come out as rounding noise, and the square
    // root magnifies noise of 1e-16 to 1e-8 per eigenvalue, so results would depend on the
    // rounding of each implementation. An offset much larger than the noise bounds the
    // eigenvalues away from zero and makes the result reproducible. pytorch-fid (fid_score.py)
    // adds the same 1e-6 when its sqrtm of the product is not finite.
    s1 = withDiagonalOffset(s1, dim, SINGULAR_OFFSET);
    s2 = withDiagonalOffset(s2, dim, SINGULAR_OFFSET);
  }

  const root1 = symmetricSqrt(s1, dim);
  const inner = multiply(multiply(root1, s2, dim), root1, dim);
  const { values } = symmetricEigen(inner, dim);
  let traceOfRoot = 0;
  for (const value of values) traceOfRoot += Math.sqrt(Math.max(0, value));

  let meanDistance = 0;
  for (let j = 0; j < dim; j++) {
    const difference = first.mean[j] - second.mean[j];
    meanDistance += difference * difference;
  }

  const distance = meanDistance + trace(s1, dim) + trace(s2, dim) - 2 * traceOfRoot;
  // Two equal samples give a tiny negative distance through rounding.
  return Math.max(0, distance);
}

function withDiagonalOffset(matrix: Float64Array, dim: number, offset: number): Float64Array {
  const result = Float64Array.from(matrix);
  for (let i = 0; i < dim; i++) result[i * dim + i] += offset;
  return result;
}
