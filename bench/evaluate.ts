/**
 * Times the evaluate stage on 10000 generated samples (generation, classifier features,
 * statistics, Frechet distances) with a full-size untrained generator, and reports the
 * classifier's test accuracy and training time on the full data set.
 *
 * The classifier is trained on the first run and cached in the bench store, so later runs time
 * only the evaluation and repeat the stored accuracy and training time.
 *
 * Usage: npx ts-node --transpile-only bench/evaluate.ts [samples]
 *   FASHION_MNIST_DIR  folder with the four IDX files (default ../shared/data/fashion-mnist)
 *   BENCH_STORE        store URL (default file://~/.cache/fashion-gan/bench/evaluate-store)
 * Output: `key=value` lines on standard output; logs on standard error.
 */
import * as os from 'os';
import * as path from 'path';

import { readManifest } from '../lib/dataset/prepared';
import { readSourceFolder } from '../lib/dataset/source';
import { createLogger } from '../lib/log/logger';
import { DEFAULT_GENERATOR_CONFIG, buildGenerator, generatorMeta } from '../lib/models/generator';
import { saveGenerator } from '../lib/models/generator-store';
import { disposeClassifier } from '../lib/models/classifier';
import { openStore } from '../lib/storage/open';
import { loadBackend } from '../lib/tensorflow/backend';
import { prepareDataset } from '../stages/prepare/prepare';
import { obtainClassifier } from '../stages/evaluate/classifier-cache';
import { evaluateGenerator } from '../stages/evaluate/evaluate';

const DATASET = 'datasets/fashion-mnist';
const GENERATOR_RUN = 'bench/untrained-generator';

async function main(): Promise<void> {
  const samples = Number(process.argv[2] ?? 10000);
  const source =
    process.env.FASHION_MNIST_DIR ?? path.resolve(__dirname, '..', '..', 'shared', 'data', 'fashion-mnist');
  const storeUrl =
    process.env.BENCH_STORE ??
    `file://${path.join(os.homedir(), '.cache', 'fashion-gan', 'bench', 'evaluate-store')}`;
  const logger = createLogger('bench');
  loadBackend({ device: 'cpu' }, logger);
  const store = openStore(storeUrl);

  try {
    await prepareDataset(await readSourceFolder(source), store, {
      out: DATASET,
      sourceDescription: `folder ${source}`,
    }, logger);
    const manifest = await readManifest(store, DATASET);

    const cpuBefore = process.cpuUsage();
    const classifier = await obtainClassifier(store, { datasetPrefix: DATASET, manifest, logger });
    const cpu = process.cpuUsage(cpuBefore);
    disposeClassifier(classifier.model);
    print({
      classifier_trained_now: classifier.trained,
      classifier_test_accuracy: classifier.record.testAccuracy,
      classifier_train_s: round(classifier.record.trainSeconds),
      classifier_train_cpu_s: classifier.trained ? round((cpu.user + cpu.system) / 1e6) : undefined,
      classifier_epochs: classifier.record.config.epochs,
      classifier_train_images: classifier.record.trainCount,
    });

    const config = { ...DEFAULT_GENERATOR_CONFIG };
    const generator = buildGenerator(config);
    const meta = generatorMeta(config, { datasetHash: manifest.hash, step: 0, epoch: 0, runId: 'bench' });
    await saveGenerator(store, GENERATOR_RUN, generator, meta);
    generator.dispose();

    const started = performance.now();
    const { timings, metrics } = await evaluateGenerator(store, {
      dataset: DATASET,
      model: GENERATOR_RUN,
      samples,
      seed: 1,
      batchSize: 500,
    }, logger);
    print({
      samples,
      generator: `${config.arch} width=${config.width} untrained`,
      generate_s: round(timings.generate),
      features_s: round(timings.features),
      statistics_s: round(timings.statistics),
      distance_s: round(timings.distance),
      evaluate_total_s: round((performance.now() - started) / 1000),
      fid_untrained: round(metrics.fid),
      fid_floor: round(metrics.fidFloor),
      cpus: os.cpus().length,
      load_average_1m: round(os.loadavg()[0]),
    });
  } finally {
    await store.close();
  }
}

function print(fields: Record<string, string | number | boolean | undefined>): void {
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) process.stdout.write(`${key}=${value}\n`);
  }
}

function round(value: number): number {
  return Number(value.toFixed(2));
}

main().catch((error) => {
  process.stderr.write(`bench/evaluate: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
