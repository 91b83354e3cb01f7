import * as tf from '@tensorflow/tfjs';

import { NUM_CLASSES } from '../../lib/constants';
import { Split, loadSplit, readManifest, toImageTensor } from '../../lib/dataset/prepared';
import { UserError } from '../../lib/errors';
import { Logger } from '../../lib/log/logger';
import { startProgress } from '../../lib/log/progress';
import {
  Classification,
  ClassifierConfig,
  FEATURE_SIZE,
  classifyBatch,
  disposeClassifier,
} from '../../lib/models/classifier';
import { argmaxRows } from '../../lib/metrics/scores';
import { GeneratorMeta, generateImages } from '../../lib/models/generator';
import { loadGenerator } from '../../lib/models/generator-store';
import { tfjsSeed } from '../../lib/random';
import { ArtifactStore, joinKey } from '../../lib/storage/store';
import { CachedClassifier, obtainClassifier } from './classifier-cache';
import { EvaluateTimings, EvaluationMetrics, GeneratedSamples, scoreGenerated } from './score';

export type { EvaluateTimings, EvaluationMetrics } from './score';

export const METRICS_NAME = 'metrics.json';

export interface EvaluateOptions {
  /** Prefix of the prepared data set. */
  dataset: string;
  /** Output prefix of the training run whose generator is evaluated. */
  model: string;
  /** Prefix that receives metrics.json; the model prefix by default. */
  out?: string;
  /** Generated samples, also the number of real samples in the floor; at least 2. */
  samples: number;
  /** Maximum FID-proxy that passes the quality gate; no gate when null or undefined. */
  maxFid?: number | null;
  /** Seed of the latent vectors. */
  seed: number;
  /** Images per generator and classifier call. */
  batchSize: number;
  /** Classifier settings, for tests with tiny widths; the default otherwise. */
  classifierConfig?: ClassifierConfig;
  /** Cache prefix of classifiers in the store; `classifiers` by default. */
  classifiersPrefix?: string;
}

export interface EvaluateResult {
  metrics: EvaluationMetrics;
  /** Store key of the metrics.json written. */
  metricsKey: string;
  /** Seconds spent in each step, for the bench; not stored. */
  timings: EvaluateTimings;
}

/**
 * Scores the generator of a training run against the prepared test split and writes
 * `metrics.json` under the output prefix. When `maxFid` is set and the FID-proxy is above it,
 * the metrics are still written (with gate.passed false) and then a `UserError` is thrown.
 */
export async function evaluateGenerator(
  store: ArtifactStore,
  options: EvaluateOptions,
  logger: Logger,
): Promise<EvaluateResult> {
  checkOptions(options);
  const manifest = await readManifest(store, options.dataset);
  const { model: generator, meta } = await loadGeneratorForEvaluation(store, options.model);

  try {
    const classifier = await obtainClassifier(store, {
      datasetPrefix: options.dataset,
      manifest,
      config: options.classifierConfig,
      prefix: options.classifiersPrefix,
      warnBelowAccuracy: options.classifierConfig ? 0 : 0.92,
      logger,
    });
    try {
      if (meta.datasetHash && meta.datasetHash !== manifest.hash) {
        logger.warn('the generator was trained on another data set', {
          generator_dataset: meta.datasetHash.slice(0, 16),
          dataset: manifest.hash.slice(0, 16),
        });
      }
      const test = await loadSplit(store, options.dataset, 'test', { manifest });
      const realCount = Math.min(options.samples, test.count);
      const train = await loadSplit(store, options.dataset, 'train', { manifest, limit: realCount });
      if (train.count < 2 || realCount < 2) {
        throw new UserError(`evaluate: the data set at '${options.dataset}' has fewer than 2 samples`);
      }

      const timings: EvaluateTimings = { generate: 0, features: 0, statistics: 0, distance: 0 };
      const generated = generateAndClassify(generator, meta, classifier.extractor, options, timings, logger);
      const started = performance.now();
      const real = classifySplit(classifier.extractor, test, realCount, options.batchSize);
      const trainReal = classifySplit(classifier.extractor, train, train.count, options.batchSize);
      timings.features += (performance.now() - started) / 1000;
      if (realCount === test.count) checkRecordedAccuracy(real, test, classifier);
      if (realCount < options.samples) {
        logger.warn('the floor uses fewer real images than --samples: the test split is smaller', {
          floor_samples: realCount,
          samples: options.samples,
        });
      }

      const metrics = scoreGenerated(
        generated,
        real,
        trainReal,
        test.labels,
        options.maxFid,
        timings,
        logger,
      );
      const complete: EvaluationMetrics = {
        ...metrics,
        seed: options.seed,
        floorSamples: realCount,
        classifier: { key: classifier.key, testAccuracy: classifier.record.testAccuracy },
        datasetHash: manifest.hash,
        createdAt: new Date().toISOString(),
      };
      const metricsKey = joinKey(options.out ?? options.model, METRICS_NAME);
      await store.put(metricsKey, `${JSON.stringify(complete, null, 2)}\n`, {
        contentType: 'application/json',
      });
      logger.info('metrics written', { key: metricsKey, fid: complete.fid, passed: complete.gate.passed });
      logger.info('timings', {
        generate_s: round(timings.generate),
        features_s: round(timings.features),
        statistics_s: round(timings.statistics),
        distance_s: round(timings.distance),
      });
      return { metrics: complete, metricsKey, timings };
    } finally {
      disposeClassifier(classifier.model);
    }
  } finally {
    generator.dispose();
  }
}

/** Throws the one-line message of the quality gate when the metrics failed it. */
export function enforceGate(metrics: EvaluationMetrics): void {
  if (metrics.gate.passed || metrics.gate.maxFid === null) return;
  throw new UserError(
    `evaluate: FID-proxy ${formatAbove(metrics.fid, metrics.gate.maxFid)} is above --max-fid ` +
      `${metrics.gate.maxFid}: the generator is not good enough to publish`,
  );
}

/**
 * Formats a value above `limit` with at least one decimal and at least as many as the limit
 * has, adding more (up to six) until the text is above the limit: 213.354 against 213.35
 * prints 213.354, neither 213.4 nor 213.35.
 */
export function formatAbove(value: number, limit: number): string {
  const limitDecimals = String(limit).split('.')[1]?.length ?? 0;
  for (let decimals = Math.max(1, limitDecimals); decimals < 6; decimals++) {
    const text = value.toFixed(decimals);
    if (Number(text) > limit) return text;
  }
  return value.toFixed(6);
}

/** Throws a `UserError` naming the option when a sample count, batch size or gate is invalid. */
export function checkOptions(options: EvaluateOptions): void {
  if (!Number.isInteger(options.samples) || options.samples < 2) {
    throw new UserError(`evaluate: --samples must be an integer of at least 2, got ${options.samples}`);
  }
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
    throw new UserError(`evaluate: --batch-size must be a positive integer, got ${options.batchSize}`);
  }
  const maxFid = options.maxFid;
  if (maxFid !== undefined && maxFid !== null && !(Number.isFinite(maxFid) && maxFid >= 0)) {
    throw new UserError(`evaluate: --max-fid must be a number of at least 0, got ${maxFid}`);
  }
}

async function loadGeneratorForEvaluation(
  store: ArtifactStore,
  prefix: string,
): Promise<{ model: tf.LayersModel; meta: GeneratorMeta }> {
  try {
    return await loadGenerator(store, prefix);
  } catch (error) {
    if (error instanceof UserError) throw new UserError(`evaluate: ${error.message}`, error.exitCode);
    throw error;
  }
}

/**
 * Generates `options.samples` images batch by batch and classifies each batch at once, so that
 * no more than one batch of images is in memory. A conditional generator is asked for the
 * classes in turn (i mod 10), which gives N/10 samples per class.
 */
function generateAndClassify(
  generator: tf.LayersModel,
  meta: GeneratorMeta,
  extractor: tf.LayersModel,
  options: EvaluateOptions,
  timings: EvaluateTimings,
  logger: Logger,
): GeneratedSamples {
  const count = options.samples;
  const features = new Float32Array(count * FEATURE_SIZE);
  const probabilities = new Float32Array(count * NUM_CLASSES);
  const requested = meta.conditional
    ? Uint8Array.from({ length: count }, (_, i) => i % NUM_CLASSES)
    : null;
  const latents = drawLatentVectors(count, meta.latentSize, options.seed);
  const progress = startProgress(logger, { total: count, unit: 'image' });

  for (let start = 0; start < count; start += options.batchSize) {
    const size = Math.min(options.batchSize, count - start);
    const batch = tf.tidy(() => {
      const rows = latents.subarray(start * meta.latentSize, (start + size) * meta.latentSize);
      const latent = tf.tensor2d(rows, [size, meta.latentSize]);
      const labels = requested ? Array.from(requested.subarray(start, start + size)) : undefined;
      const started = performance.now();
      const images = generateImages(generator, meta, latent, labels);
      // tfjs-node runs ops eagerly; reading one value waits for the generator to finish.
      images.max().dataSync();
      const generated = performance.now();
      const classified = classifyBatch(extractor, images);
      timings.generate += (generated - started) / 1000;
      timings.features += (performance.now() - generated) / 1000;
      return classified;
    });
    features.set(batch.features, start * FEATURE_SIZE);
    probabilities.set(batch.probabilities, start * NUM_CLASSES);
    progress.update(start + size);
  }
  progress.stop();
  return { count, features, probabilities, requested };
}

/**
 * Compares the classifier's accuracy on the whole test split, read from the floor's features
 * pass, with the accuracy in its record. A gap means its stored weights changed after
 * training, which would make every FID-proxy from it meaningless.
 */
function checkRecordedAccuracy(real: Classification, test: Split, classifier: CachedClassifier): void {
  const predicted = argmaxRows(real.probabilities, real.count);
  let correct = 0;
  for (let index = 0; index < real.count; index++) {
    if (predicted[index] === test.labels[index]) correct += 1;
  }
  const accuracy = correct / real.count;
  // Batch sizes change the order of float sums, which may flip a few borderline predictions.
  if (Math.abs(accuracy - classifier.record.testAccuracy) > 0.005) {
    throw new UserError(
      `evaluate: the classifier at '${classifier.key}' scores ${(accuracy * 100).toFixed(1)}% on ` +
        `the test split, but its record gives ${(classifier.record.testAccuracy * 100).toFixed(1)}%: ` +
        `its stored weights changed. Delete '${classifier.key}/' to train it again.`,
    );
  }
}

/** Rows of latent vectors drawn with one seed each, whatever the batch size. */
const LATENT_CHUNK = 1000;

/**
 * Draws `count` latent vectors from the standard normal distribution, `LATENT_CHUNK` rows per
 * seed (seed * 100003 + chunk index), so that the samples depend on the seed alone and not on
 * --batch-size. Returns count x latentSize values, row-major.
 */
export function drawLatentVectors(count: number, latentSize: number, seed: number): Float32Array {
  const latents = new Float32Array(count * latentSize);
  for (let chunk = 0; chunk * LATENT_CHUNK < count; chunk++) {
    const rows = Math.min(LATENT_CHUNK, count - chunk * LATENT_CHUNK);
    const values = tf.tidy(() =>
      tf.randomNormal([rows, latentSize], 0, 1, 'float32', tfjsSeed(seed * 100003 + chunk)).dataSync(),
    );
    latents.set(values, chunk * LATENT_CHUNK * latentSize);
  }
  return latents;
}

function classifySplit(
  extractor: tf.LayersModel,
  split: Split,
  count: number,
  batchSize: number,
): Classification {
  const features = new Float32Array(count * FEATURE_SIZE);
  const probabilities = new Float32Array(count * NUM_CLASSES);
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const batch = tf.tidy(() => classifyBatch(extractor, toImageTensor(split.images, size, start)));
    features.set(batch.features, start * FEATURE_SIZE);
    probabilities.set(batch.probabilities, start * NUM_CLASSES);
  }
  return { count, features, probabilities };
}

function round(seconds: number): number {
  return Number(seconds.toFixed(2));
}
