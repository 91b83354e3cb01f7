import * as tf from '@tensorflow/tfjs';
import { createHash } from 'crypto';

import { DatasetManifest, loadSplit } from '../../lib/dataset/prepared';
import { UserError } from '../../lib/errors';
import { isJsonObject } from '../../lib/json';
import { Logger } from '../../lib/log/logger';
import {
  ClassifierConfig,
  DEFAULT_CLASSIFIER_CONFIG,
  FEATURE_LAYER,
  FEATURE_SIZE,
  buildClassifier,
  disposeClassifier,
  featureExtractor,
  splitAccuracy,
  trainClassifier,
} from '../../lib/models/classifier';
import { loadModel, saveModel } from '../../lib/models/store-io';
import { ArtifactStore, StoreError, joinKey } from '../../lib/storage/store';

export const CLASSIFIER_FORMAT = 'fashion-gan-classifier/1';
export const CLASSIFIER_RECORD = 'classifier.json';

/** Default key prefix under which classifiers are cached, one folder per data set hash. */
export const CLASSIFIERS_PREFIX = 'classifiers';

/** `classifier.json`, written after the model so that its presence means the model is complete. */
export interface ClassifierRecord {
  format: string;
  datasetHash: string;
  config: ClassifierConfig;
  featureLayer: string;
  featureSize: number;
  /** Fraction of the test split classified correctly, in [0, 1]. */
  testAccuracy: number;
  trainSeconds: number;
  trainCount: number;
  testCount: number;
  createdAt: string;
}

export interface CachedClassifier {
  /** Key prefix of the classifier in the store: `classifiers/<dataset hash>/<settings hash>`. */
  key: string;
  record: ClassifierRecord;
  /** The trained model; outputs class probabilities [n, 10]. */
  model: tf.LayersModel;
  /** Shares weights with `model` and outputs [features, probabilities]; see featureExtractor. */
  extractor: tf.LayersModel;
  /** True when this call trained the classifier, false when it came from the store. */
  trained: boolean;
}

export interface ClassifierCacheOptions {
  datasetPrefix: string;
  manifest: DatasetManifest;
  config?: ClassifierConfig;
  /** Cache prefix; CLASSIFIERS_PREFIX by default. */
  prefix?: string;
  /** Test accuracy below which a freshly trained classifier is reported with a warning. */
  warnBelowAccuracy?: number;
  logger: Logger;
}

/**
 * Returns the evaluation classifier of a data set and settings: the one stored under
 * `classifiers/<dataset hash>/<settings hash>/` when there is one, or a classifier trained on
 * the training split, measured on the test split and stored there for later runs. New settings
 * thus train a new classifier beside the old one, whose FID-proxy values stay as they were.
 */
export async function obtainClassifier(
  store: ArtifactStore,
  options: ClassifierCacheOptions,
): Promise<CachedClassifier> {
  const config = options.config ?? DEFAULT_CLASSIFIER_CONFIG;
  const key = joinKey(
    options.prefix ?? CLASSIFIERS_PREFIX,
    options.manifest.hash,
    settingsHash(config),
  );
  const stored = await readRecord(store, key);

  if (stored) {
    // Settings that hash alike but differ would mix two classifiers' FID-proxy values.
    if (canonicalJson(stored.config) !== canonicalJson(config)) {
      throw new UserError(
        `${store.url}: classifier at '${key}' was trained with ${JSON.stringify(stored.config)}, ` +
          `expected ${JSON.stringify(config)}; delete '${key}/' to train it again`,
      );
    }
    const model = await loadModel(store, key);
    checkFeatureLayer(model, store, key);
    options.logger.info('classifier loaded from the store', {
      key,
      test_accuracy: stored.testAccuracy,
    });
    return { key, record: stored, model, extractor: featureExtractor(model), trained: false };
  }

  options.logger.info('no stored classifier for this data set and these settings; training one', {
    key,
  });
  // Training takes minutes on the full data, so a store that rejects writes fails before it.
  const probeKey = joinKey(key, 'write-check');
  await store.put(probeKey, '');
  await store.delete(probeKey);
  const train = await loadSplit(store, options.datasetPrefix, 'train', { manifest: options.manifest });
  const model = buildClassifier(config);
  try {
    const trainSeconds = await trainClassifier(model, train, config, options.logger);
    const test = await loadSplit(store, options.datasetPrefix, 'test', { manifest: options.manifest });
    const extractor = featureExtractor(model);
    const testAccuracy = splitAccuracy(extractor, test, 500);

    const record: ClassifierRecord = {
      format: CLASSIFIER_FORMAT,
      datasetHash: options.manifest.hash,
      config,
      featureLayer: FEATURE_LAYER,
      featureSize: FEATURE_SIZE,
      testAccuracy,
      trainSeconds,
      trainCount: train.count,
      testCount: test.count,
      createdAt: new Date().toISOString(),
    };
    // NOTE: two runs that train at once both write here. The record goes last, so a reader
    // always finds a complete model, but its weights may come from the other run.
    await saveModel(model, store, key);
    await store.put(joinKey(key, CLASSIFIER_RECORD), `${JSON.stringify(record, null, 2)}\n`, {
      contentType: 'application/json',
    });

    const fields = { key, test_accuracy: testAccuracy, train_s: Number(trainSeconds.toFixed(1)) };
    if (testAccuracy < (options.warnBelowAccuracy ?? 0)) {
      options.logger.warn('classifier accuracy is below the target', {
        ...fields,
        target: options.warnBelowAccuracy,
      });
    } else {
      options.logger.info('classifier trained and stored', fields);
    }
    return { key, record, model, extractor, trained: true };
  } catch (error) {
    disposeClassifier(model);
    throw error;
  }
}

async function readRecord(store: ArtifactStore, key: string): Promise<ClassifierRecord | undefined> {
  const recordKey = joinKey(key, CLASSIFIER_RECORD);
  let body: Buffer;
  try {
    body = await store.get(recordKey);
  } catch (error) {
    if (error instanceof StoreError && error.code === 'not-found') return undefined;
    throw error;
  }

  let record: ClassifierRecord;
  try {
    record = JSON.parse(body.toString('utf8')) as ClassifierRecord;
  } catch {
    throw new UserError(`${store.url}: ${recordKey} is not valid JSON; delete '${key}/' to retrain`);
  }
  const invalid = (problem: string) =>
    new UserError(`${store.url}: ${recordKey} ${problem}; delete '${key}/' to retrain`);
  if (!isJsonObject(record)) throw invalid('is not a JSON object');
  if (record.format !== CLASSIFIER_FORMAT) {
    throw invalid(`has format '${record.format}', expected '${CLASSIFIER_FORMAT}'`);
  }
  const accuracy = record.testAccuracy;
  if (typeof accuracy !== 'number' || !(accuracy >= 0 && accuracy <= 1)) {
    throw invalid(`has testAccuracy ${JSON.stringify(accuracy)}, expected a number from 0 to 1`);
  }
  if (record.featureLayer !== FEATURE_LAYER || record.featureSize !== FEATURE_SIZE) {
    throw invalid(
      `describes feature layer '${record.featureLayer}' of ${record.featureSize} units, ` +
        `expected '${FEATURE_LAYER}' of ${FEATURE_SIZE}`,
    );
  }
  if (!key.split('/').includes(record.datasetHash)) {
    throw invalid(`belongs to data set ${String(record.datasetHash).slice(0, 16)}, not to this one`);
  }
  return record;
}

function checkFeatureLayer(model: tf.LayersModel, store: ArtifactStore, key: string): void {
  const layer = model.layers.find((candidate) => candidate.name === FEATURE_LAYER);
  const units = layer?.outputShape as number[] | undefined;
  if (!layer || !units || units[units.length - 1] !== FEATURE_SIZE) {
    model.dispose();
    throw new UserError(
      `${store.url}: classifier at '${key}' has no ${FEATURE_SIZE}-unit layer '${FEATURE_LAYER}'; ` +
        `delete '${key}/' to train it again`,
    );
  }
}

/** Returns the first 16 hex digits of the SHA-256 of the settings, whatever their key order. */
export function settingsHash(config: ClassifierConfig): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex').slice(0, 16);
}

/** Returns JSON with object keys sorted at every level and undefined fields left out. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, field: unknown) => {
    if (field === null || typeof field !== 'object' || Array.isArray(field)) return field;
    const names = Object.keys(field).sort();
    return Object.fromEntries(names.map((name) => [name, (field as Record<string, unknown>)[name]]));
  });
}
