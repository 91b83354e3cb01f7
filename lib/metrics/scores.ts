import { NUM_CLASSES } from '../constants';
import { UserError } from '../errors';
import { FeatureStatistics, featureStatistics, frechetDistance } from './frechet';

/**
 * A class counts as covered when it receives at least this fraction of its uniform share of the
 * generated samples: with 10 classes and 10000 samples, at least 250 samples (a quarter of 1000).
 */
export const COVERAGE_FRACTION = 0.25;

/**
 * Computes the Inception-Score-style score, exp(mean over x of KL(p(y|x) || p(y))), from the
 * classifier's class probabilities, `count` rows of `numClasses` values that each sum to 1.
 *
 * Ranges from 1 (every image gets the same prediction, or predictions are uniform) to
 * `numClasses` (confident predictions spread evenly over the classes). Terms with p(y|x) = 0
 * contribute 0, the limit of p log p.
 */
export function inceptionScore(
  probabilities: Float32Array | Float64Array,
  count: number,
  numClasses = NUM_CLASSES,
): number {
  checkRows(probabilities, count, numClasses, 'inceptionScore');

  const marginal = new Float64Array(numClasses);
  for (let row = 0; row < count; row++) {
    for (let c = 0; c < numClasses; c++) marginal[c] += probabilities[row * numClasses + c];
  }
  for (let c = 0; c < numClasses; c++) marginal[c] /= count;

  let divergenceSum = 0;
  for (let row = 0; row < count; row++) {
    for (let c = 0; c < numClasses; c++) {
      const p = probabilities[row * numClasses + c];
      // marginal[c] >= p / count > 0 whenever p > 0, so the logarithm is finite.
      if (p > 0) divergenceSum += p * Math.log(p / marginal[c]);
    }
  }
  return Math.exp(divergenceSum / count);
}

/** Returns the index of the largest value of each row: the predicted class, 0 to numClasses-1. */
export function argmaxRows(
  probabilities: Float32Array | Float64Array,
  count: number,
  numClasses = NUM_CLASSES,
): Uint8Array {
  checkRows(probabilities, count, numClasses, 'argmaxRows');
  const predicted = new Uint8Array(count);
  for (let row = 0; row < count; row++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) {
      if (probabilities[row * numClasses + c] > probabilities[row * numClasses + best]) best = c;
    }
    predicted[row] = best;
  }
  return predicted;
}

/** Counts predicted classes: entry c is the number of samples classified as class c. */
export function classHistogram(predicted: ArrayLike<number>, numClasses = NUM_CLASSES): number[] {
  const histogram = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < predicted.length; i++) histogram[predicted[i]] += 1;
  return histogram;
}

/**
 * Counts the classes that hold at least COVERAGE_FRACTION of their uniform share,
 * total / numClasses, of the histogram; 0 to numClasses. A mode-collapsed generator covers few.
 */
export function classesCovered(histogram: number[]): number {
  const total = histogram.reduce((sum, value) => sum + value, 0);
  if (total === 0) return 0;
  const threshold = (COVERAGE_FRACTION * total) / histogram.length;
  return histogram.filter((value) => value >= threshold).length;
}

/**
 * Returns the fraction of samples, in [0, 1], whose predicted class equals the class that the
 * conditional generator was asked for.
 */
export function conditionalAgreement(predicted: ArrayLike<number>, requested: ArrayLike<number>): number {
  if (predicted.length !== requested.length || predicted.length === 0) {
    throw new Error(
      `conditionalAgreement: ${predicted.length} predictions for ${requested.length} requested labels`,
    );
  }
  let agreeing = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === requested[i]) agreeing += 1;
  return agreeing / predicted.length;
}

/** Feature vectors (row-major, `dim` per row) with one class label per row. */
export interface LabelledFeatures {
  features: Float32Array;
  labels: ArrayLike<number>;
  dim: number;
}

/**
 * Computes the FID-proxy of each class: the Frechet distance between the generated samples
 * requested for class c and the real samples labelled c. Returns numClasses distances.
 * A class with fewer than 2 samples on either side is a `UserError`.
 */
export function perClassFrechet(
  generated: LabelledFeatures,
  real: LabelledFeatures,
  numClasses = NUM_CLASSES,
): number[] {
  const distances: number[] = [];
  for (let c = 0; c < numClasses; c++) {
    const generatedStatistics = classStatistics(generated, c, `generated images of class ${c}`);
    const realStatistics = classStatistics(real, c, `real images of class ${c}`);
    distances.push(frechetDistance(generatedStatistics, realStatistics));
  }
  return distances;
}

function classStatistics(source: LabelledFeatures, label: number, name: string): FeatureStatistics {
  const { features, labels, dim } = source;
  let count = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === label) count += 1;

  const selected = new Float32Array(count * dim);
  let row = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== label) continue;
    selected.set(features.subarray(i * dim, (i + 1) * dim), row * dim);
    row += 1;
  }
  return featureStatistics(selected, count, dim, { name });
}

function checkRows(values: ArrayLike<number>, count: number, numClasses: number, caller: string) {
  if (count < 1) throw new UserError(`${caller}: no samples to score`);
  if (values.length !== count * numClasses) {
    throw new Error(`${caller}: ${values.length} values are not ${count} x ${numClasses}`);
  }
}
