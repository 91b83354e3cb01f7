import { Logger } from '../../lib/log/logger';
import { FeatureStatistics, featureStatistics, frechetDistance } from '../../lib/metrics/frechet';
import {
  argmaxRows,
  classHistogram,
  classesCovered,
  conditionalAgreement,
  inceptionScore,
  perClassFrechet,
} from '../../lib/metrics/scores';
import { Classification, FEATURE_SIZE } from '../../lib/models/classifier';

/** The `metrics.json` that the evaluate stage writes; distances in squared feature units. */
export interface EvaluationMetrics {
  /** FID-proxy between the generated samples and the test split. */
  fid: number;
  /** FID-proxy between training and test samples of the same count: the best reachable. */
  fidFloor: number;
  /** exp(mean KL(p(y|x) || p(y))) over generated samples, 1 to 10. */
  inceptionScore: number;
  /** Generated samples per predicted class. */
  classHistogram: number[];
  /** Classes with at least a quarter of their uniform share of the samples, 0 to 10. */
  classesCovered: number;
  /** Fraction of samples classified as the requested class; null when unconditional. */
  conditionalAgreement: number | null;
  /** FID-proxy per requested class against the test images of that class; null if unconditional. */
  perClassFid: number[] | null;
  samples: number;
  /** Seed of the latent vectors; with the generator and `samples` it fixes the samples. */
  seed: number;
  /** Real images per side of the floor: `samples`, or the test split size when smaller. */
  floorSamples: number;
  classifier: { key: string; testAccuracy: number };
  gate: { maxFid: number | null; passed: boolean };
  datasetHash: string;
  createdAt: string;
}

/** Wall-clock seconds per step of an evaluation. */
export interface EvaluateTimings {
  /** Running the generator on the latent vectors. */
  generate: number;
  /** Classifier features of generated, test and training images. */
  features: number;
  /** Means and covariances of the feature samples. */
  statistics: number;
  /** Frechet distances (overall, floor and per class) and the other scores. */
  distance: number;
}

/** Generated samples with their classification and, when conditional, the requested classes. */
export interface GeneratedSamples extends Classification {
  requested: Uint8Array | null;
}

/** Metrics computed from features alone; evaluateGenerator adds the classifier and data set. */
export type FeatureMetrics = Omit<
  EvaluationMetrics,
  'seed' | 'floorSamples' | 'classifier' | 'datasetHash' | 'createdAt'
>;

/**
 * Computes the FID-proxy, its floor, the IS-style score, coverage and, for a conditional
 * generator, agreement and per-class FID-proxy from classifier outputs.
 */
export function scoreGenerated(
  generated: GeneratedSamples,
  real: Classification,
  trainReal: Classification,
  realLabels: Uint8Array,
  maxFidOption: number | null | undefined,
  timings: EvaluateTimings,
  logger: Logger,
): FeatureMetrics {
  const started = performance.now();
  const statistics = (source: Classification, name: string): FeatureStatistics =>
    featureStatistics(source.features, source.count, FEATURE_SIZE, { name, logger });
  const generatedStatistics = statistics(generated, 'generated images');
  const realStatistics = statistics(real, 'test images');
  const trainStatistics = statistics(trainReal, 'training images');
  const computed = performance.now();
  timings.statistics += (computed - started) / 1000;

  const fid = frechetDistance(generatedStatistics, realStatistics);
  const fidFloor = frechetDistance(trainStatistics, realStatistics);
  const predicted = argmaxRows(generated.probabilities, generated.count);
  const histogram = classHistogram(predicted);

  let agreement: number | null = null;
  let perClassFid: number[] | null = null;
  if (generated.requested) {
    agreement = conditionalAgreement(predicted, generated.requested);
    perClassFid = perClassFidOrNull(generated, real, realLabels, logger);
  }

  timings.distance += (performance.now() - computed) / 1000;
  const maxFid = maxFidOption ?? null;
  return {
    fid,
    fidFloor,
    inceptionScore: inceptionScore(generated.probabilities, generated.count),
    classHistogram: histogram,
    classesCovered: classesCovered(histogram),
    conditionalAgreement: agreement,
    perClassFid,
    samples: generated.count,
    gate: { maxFid, passed: maxFid === null || fid <= maxFid },
  };
}

/** Computes the per-class FID-proxy, or returns null when a class has fewer than 2 samples. */
function perClassFidOrNull(
  generated: GeneratedSamples,
  real: Classification,
  realLabels: Uint8Array,
  logger: Logger,
): number[] | null {
  const requested = generated.requested as Uint8Array;
  const labels = realLabels.subarray(0, real.count);
  const smallest = Math.min(
    ...classHistogram(requested),
    ...classHistogram(labels),
  );
  if (smallest < 2) {
    logger.warn('per-class FID-proxy skipped: a class has fewer than 2 samples', {
      samples: generated.count,
    });
    return null;
  }
  if (smallest < FEATURE_SIZE) {
    logger.warn('per-class FID-proxy uses fewer samples per class than features', {
      per_class: smallest,
      features: FEATURE_SIZE,
    });
  }
  return perClassFrechet(
    { features: generated.features, labels: requested, dim: FEATURE_SIZE },
    { features: real.features, labels, dim: FEATURE_SIZE },
  );
}
