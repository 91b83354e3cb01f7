/**
 * Training speed of the default model: tfjs-node on libtensorflow against the same model in
 * Keras (TensorFlow 2.21 for Python, eager, tf.function and XLA), same batch size and thread
 * count, on the same machine in the same run. Prints images of the training set per second,
 * the ratio, and peak resident memory of each process.
 *
 * Usage: npx ts-node --transpile-only bench/train.ts [--steps 100] [--batch 64] [--skip-keras]
 * Needs npm run setup (libtensorflow) and, for Keras, bench/setup-keras.sh (run by this script).
 */
import { execFileSync } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';

import { readSourceFolder } from '../lib/dataset/source';
import { loadSplit } from '../lib/dataset/prepared';
import { createLogger, setLogOutput } from '../lib/log/logger';
import { SeededRandom } from '../lib/random';
import { FileStore } from '../lib/storage/file-store';
import { loadBackend } from '../lib/tensorflow/backend';
import { prepareDataset } from '../stages/prepare/prepare';
import { DEFAULT_TRAIN_CONFIG } from '../stages/train/config';
import { BatchSource, Gan } from '../stages/train/gan';

const argv = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const index = argv.indexOf(`--${name}`);
  return index >= 0 ? Number(argv[index + 1]) : fallback;
};
const steps = option('steps', 100);
const batch = option('batch', 64);
const source = path.resolve(__dirname, '..', '..', 'shared', 'data', 'fashion-mnist');

async function main(): Promise<void> {
  loadBackend({ device: 'cpu' });
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-train-'));
  const store = new FileStore(root);
  const restore = setLogOutput(() => {});
  await prepareDataset(await readSourceFolder(source), store, { out: 'data', limitTrain: 10000, limitTest: 100, sourceDescription: source }, createLogger('bench'));
  setLogOutput(restore);
  const split = await loadSplit(store, 'data', 'train');

  const config = { ...DEFAULT_TRAIN_CONFIG, runId: 'bench', dataset: 'data', out: 'out', batchSize: batch };
  const gan = new Gan(config, new SeededRandom(1));
  const batches = new BatchSource(split.images, split.labels, batch, 1);
  let peakRss = 0;
  const sample = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
  for (let i = 0; i < 5; i++) gan.trainStep(() => batches.next());
  const started = process.hrtime.bigint();
  for (let i = 0; i < steps; i++) {
    gan.trainStep(() => batches.next());
    sample();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const tfjs = (steps * batch) / seconds;
  gan.dispose();
  console.log(`tfjs-node (libtensorflow, ${tf.getBackend()}): ${tfjs.toFixed(1)} images/s, peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB, ${steps} steps of batch ${batch}`);

  if (!argv.includes('--skip-keras')) {
    const python = execFileSync('bash', [path.join(__dirname, 'setup-keras.sh')], { encoding: 'utf8' }).trim().split('\n').pop()!;
    const images = path.join(root, 'data', (await readJson(store, 'data/dataset.json')).splits.train.images);
    const labels = images.replace('train-images', 'train-labels');
    const output = execFileSync(python, [path.join(__dirname, 'keras_gan.py'), images, labels, String(split.count), '--steps', String(steps), '--batch', String(batch), '--threads', String(os.cpus().length)], {
      encoding: 'utf8',
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
    });
    for (const line of output.trim().split('\n').filter((l) => l.startsWith('{'))) {
      const result = JSON.parse(line);
      console.log(`keras ${result.mode.padEnd(8)}: ${result.images_per_second.toFixed(1)} images/s, peak RSS ${result.peak_rss_mib} MiB; tfjs-node / keras = ${(tfjs / result.images_per_second).toFixed(2)}`);
    }
  }
  await fs.rm(root, { recursive: true, force: true });
}

async function readJson(store: FileStore, key: string) {
  return JSON.parse((await store.get(key)).toString('utf8'));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
