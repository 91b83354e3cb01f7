/**
 * Trains one evaluation classifier from a prepared data set and prints its test accuracy and
 * training time. It compares classifier settings without touching the classifier cache.
 *
 * Usage: npx ts-node --transpile-only bench/classifier.ts [trainImages] [configJson]
 *   trainImages  first N training images, or all when empty. The whole test split is scored.
 *   configJson   fields that override DEFAULT_CLASSIFIER_CONFIG, such as '{"epochs":2}'.
 *   BENCH_DATASET_STORE  store URL of the prepared data set
 *                        (default file://~/.cache/fashion-gan/bench/evaluate-store)
 *   BENCH_DATASET        key prefix of the data set (default datasets/fashion-mnist)
 *   BENCH_SAVE           store URL that receives the trained model under `classifier` (optional)
 * Output: `key=value` lines on standard output; logs on standard error.
 */
import * as os from 'os';
import * as path from 'path';

import { loadSplit, readManifest } from '../lib/dataset/prepared';
import { createLogger } from '../lib/log/logger';
import {
  ClassifierConfig,
  DEFAULT_CLASSIFIER_CONFIG,
  buildClassifier,
  disposeClassifier,
  featureExtractor,
  splitAccuracy,
  trainClassifier,
} from '../lib/models/classifier';
import { saveModel } from '../lib/models/store-io';
import { openStore } from '../lib/storage/open';
import { loadBackend } from '../lib/tensorflow/backend';

async function main(): Promise<void> {
  const { limit, overrides } = parseArguments(process.argv.slice(2));
  const config: ClassifierConfig = { ...DEFAULT_CLASSIFIER_CONFIG, ...overrides };
  const storeUrl =
    process.env.BENCH_DATASET_STORE ??
    `file://${path.join(os.homedir(), '.cache', 'fashion-gan', 'bench', 'evaluate-store')}`;
  const prefix = process.env.BENCH_DATASET ?? 'datasets/fashion-mnist';
  const logger = createLogger('bench');
  loadBackend({ device: 'cpu' }, logger);
  const store = openStore(storeUrl);

  try {
    const manifest = await readManifest(store, prefix);
    const train = await loadSplit(store, prefix, 'train', { manifest, limit });
    const test = await loadSplit(store, prefix, 'test', { manifest });
    const model = buildClassifier(config);
    try {
      const cpuBefore = process.cpuUsage();
      const trainSeconds = await trainClassifier(model, train, config, logger);
      const cpu = process.cpuUsage(cpuBefore);
      const accuracy = splitAccuracy(featureExtractor(model), test, 500);
      if (process.env.BENCH_SAVE) {
        const saveStore = openStore(process.env.BENCH_SAVE);
        await saveModel(model, saveStore, 'classifier');
        await saveStore.close();
      }
      print({
        config: JSON.stringify(config),
        train_images: train.count,
        test_images: test.count,
        test_accuracy: accuracy.toFixed(4),
        train_s: trainSeconds.toFixed(1),
        train_cpu_s: ((cpu.user + cpu.system) / 1e6).toFixed(1),
        load_average_1m: os.loadavg()[0].toFixed(2),
      });
    } finally {
      disposeClassifier(model);
    }
  } finally {
    await store.close();
  }
}

const SETTINGS: Array<keyof ClassifierConfig> = [
  'width',
  'blocks',
  'epochs',
  'batchSize',
  'learningRate',
  'decayEpochs',
  'learningRateDecay',
  'batchNormMomentum',
  'seed',
];

const USAGE = 'usage: bench/classifier.ts [trainImages] [configJson], e.g. 6000 \'{"epochs":2}\'';

/** Reads the image count and the settings overrides, or exits with one line naming the problem. */
function parseArguments(args: string[]): { limit?: number; overrides: Partial<ClassifierConfig> } {
  const fail = (problem: string): never => {
    process.stderr.write(`bench/classifier: ${problem}\n${USAGE}\n`);
    process.exit(2);
  };
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }

  const [imagesArgument, configArgument] = args;
  let limit: number | undefined;
  if (imagesArgument) {
    limit = Number(imagesArgument);
    if (!Number.isInteger(limit) || limit < 1) {
      fail(`trainImages '${imagesArgument}' must be a positive integer`);
    }
  }

  let overrides: unknown = {};
  try {
    overrides = JSON.parse(configArgument ?? '{}');
  } catch {
    fail(`configJson '${configArgument}' is not valid JSON`);
  }
  if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) {
    fail(`configJson '${configArgument}' must be a JSON object`);
  }
  for (const [name, value] of Object.entries(overrides as object)) {
    if (!(SETTINGS as string[]).includes(name)) {
      fail(`configJson: unknown setting '${name}'`);
    }
    if (name === 'epochs' && !(Number.isInteger(value) && value >= 1)) {
      fail(`configJson: epochs must be a positive integer, got ${JSON.stringify(value)}`);
    }
  }
  return { limit, overrides: overrides as Partial<ClassifierConfig> };
}

function print(fields: Record<string, string | number>): void {
  for (const [key, value] of Object.entries(fields)) process.stdout.write(`${key}=${value}\n`);
}

main().catch((error) => {
  process.stderr.write(`bench/classifier: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
