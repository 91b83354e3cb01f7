import { strict as assert } from 'assert';
import { promises as fs } from 'fs';
import * as tf from '@tensorflow/tfjs';

import { createLogger, setLogOutput } from '../lib/log/logger';
import { loadModel } from '../lib/models/store-io';
import { loadGenerator } from '../lib/models/generator-store';
import { SeededRandom } from '../lib/random';
import { FileStore } from '../lib/storage/file-store';
import { loadBackend } from '../lib/tensorflow/backend';
import { loadSplit } from '../lib/dataset/prepared';
import { DEFAULT_TRAIN_CONFIG, TrainConfig, checkTrainConfig } from '../stages/train/config';
import { BatchSource, Gan } from '../stages/train/gan';
import { train } from '../stages/train/train';
import { runCli } from './support/cli';
import { preparedSample } from './support/fashion-sample';

const logger = createLogger('test');

/** Returns a configuration small enough for a test: 256 samples, batch 32, tiny widths. */
function tinyConfig(out: string, dataset: string, overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    ...DEFAULT_TRAIN_CONFIG,
    runId: 'test',
    dataset,
    out,
    latentSize: 16,
    generatorWidth: 8,
    discriminatorWidth: 4,
    batchSize: 32,
    limit: 256,
    epochs: 3,
    checkpointEvery: 5,
    logEvery: 2,
    seed: 11,
    ...overrides,
  };
}

async function generatorWeights(store: FileStore, out: string): Promise<Float32Array[]> {
  const model = await loadModel(store, `${out}/model/generator`);
  const values = model.getWeights().map((w) => w.dataSync() as Float32Array);
  model.dispose();
  return values;
}

function maxDifference(a: Float32Array[], b: Float32Array[]): number {
  let max = 0;
  a.forEach((values, i) => values.forEach((value, j) => (max = Math.max(max, Math.abs(value - b[i][j])))));
  return max;
}

describe('train stage', function () {
  this.timeout(180_000);
  let store: FileStore;
  let dataset: string;
  let root: string;
  let restoreLog: (line: string) => void;

  before(async () => {
    loadBackend({ device: 'cpu' });
    ({ store, dataset, root } = await preparedSample(512, 128));
    restoreLog = setLogOutput(() => {});
  });

  after(async () => {
    setLogOutput(restoreLog);
    await fs.rm(root, { recursive: true, force: true });
  });

  it('runs on libtensorflow, not the JavaScript backend', () => {
    assert.equal(tf.getBackend(), 'tensorflow');
    const binding = (tf.backend() as unknown as { binding?: { TF_Version?: string } }).binding;
    assert.ok(binding, 'the native binding is loaded');
  });

  it('trains with finite losses and changes the weights', async () => {
    const config = tinyConfig('runs/a/train', dataset, { epochs: 1 });
    const gan = new Gan(config, new SeededRandom(config.seed));
    const before = gan.generator.getWeights().map((w) => w.dataSync().slice());
    const split = await loadSplit(store, dataset, 'train', { limit: 256 });
    const source = new BatchSource(split.images, split.labels, 32, 3);
    for (let i = 0; i < 5; i++) {
      const losses = gan.trainStep(() => source.next());
      for (const value of Object.values(losses)) assert.ok(Number.isFinite(value), `loss ${value} is finite`);
    }
    const after = gan.generator.getWeights().map((w) => w.dataSync());
    const changed = before.filter((values, i) => values.some((value, j) => value !== after[i][j])).length;
    assert.ok(changed >= before.length - 2, `${changed} of ${before.length} generator weights changed`);
    gan.dispose();
  });

  it('leaks no tensors over 50 steps', async () => {
    const config = tinyConfig('runs/leak/train', dataset);
    const gan = new Gan(config, new SeededRandom(config.seed));
    const split = await loadSplit(store, dataset, 'train', { limit: 256 });
    const source = new BatchSource(split.images, split.labels, 32, 3);
    gan.trainStep(() => source.next());
    const afterFirst = tf.memory().numTensors;
    for (let i = 0; i < 49; i++) gan.trainStep(() => source.next());
    assert.equal(tf.memory().numTensors, afterFirst);
    gan.dispose();
  });

  it('writes checkpoints, samples, losses and the generator', async () => {
    const out = 'runs/outputs/train';
    const result = await train(store, tinyConfig(out, dataset, { epochs: 2 }), { resume: false }, logger);
    assert.equal(result.step, 16);
    const keys = await store.list(`${out}/`);
    for (const key of ['config.json', 'checkpoints/latest.json', 'samples/epoch-0001.png', 'samples/epoch-0002.png', 'logs/losses.jsonl', 'model/generator/model.json', 'model/generator-meta.json']) {
      assert.ok(keys.includes(`${out}/${key}`), `${key} written`);
    }
    assert.ok(keys.some((key) => key.startsWith(`${out}/logs/tensorboard/events.out.tfevents`)), 'TensorBoard events written');
    const losses = (await store.get(`${out}/logs/losses.jsonl`)).toString().trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(losses.map((record) => record.step), [2, 4, 6, 8, 10, 12, 14, 16]);
    const { model, meta } = await loadGenerator(store, out);
    assert.equal(meta.step, 16);
    assert.deepEqual(model.outputs[0].shape, [null, 28, 28, 1]);
    model.dispose();
  });

  it('resumes mid-epoch and ends with the weights of an uninterrupted run', async () => {
    await train(store, tinyConfig('runs/straight/train', dataset), { resume: false }, logger);
    const stopped = await train(store, tinyConfig('runs/resumed/train', dataset, { maxSteps: 11 }), { resume: false }, logger);
    assert.equal(stopped.stoppedEarly, true);
    const resumed = await train(store, tinyConfig('runs/resumed/train', dataset), { resume: true }, logger);
    assert.equal(resumed.step, 24);

    const difference = maxDifference(await generatorWeights(store, 'runs/straight/train'), await generatorWeights(store, 'runs/resumed/train'));
    // On the CPU build the two runs have agreed bit for bit (difference 0): every random number
    // comes from the checkpointed seeds, and Eigen splits work the same way for the same thread
    // count. The tolerance allows for GPU kernels, whose reductions are not deterministic.
    assert.ok(difference <= 1e-5, `largest weight difference ${difference}`);
    const losses = (await store.get('runs/resumed/train/logs/losses.jsonl')).toString().trim().split('\n').map((line) => JSON.parse(line).step);
    assert.deepEqual(losses, [...new Set(losses)].sort((a, b) => a - b), 'no step is logged twice');
  });

  it('rejects bad configuration with one line naming the problem', async () => {
    const cases: [Partial<TrainConfig>, RegExp][] = [
      [{ arch: 'resnet' as TrainConfig['arch'] }, /unknown architecture 'resnet', expected one of dcgan, upsample/],
      [{ batchSize: 0 }, /--batch-size must be a positive integer, got 0/],
      [{ dropout: 1.5 }, /--dropout must be in \[0, 1\), got 1.5/],
    ];
    for (const [overrides, pattern] of cases) {
      assert.throws(() => checkTrainConfig(tinyConfig('x', dataset, overrides)), pattern);
    }
    await assert.rejects(train(store, tinyConfig('runs/x/train', 'datasets/none'), { resume: false }, logger), /no prepared data set at 'datasets\/none' \(datasets\/none\/dataset.json not found\); run the prepare stage first/);
    await store.put('datasets/broken/dataset.json', '{"format": "something-else"}');
    await assert.rejects(train(store, tinyConfig('runs/x/train', 'datasets/broken'), { resume: false }, logger), /has format 'something-else', expected 'fashion-gan-dataset\/1'/);
  });

  it('resumes after being killed during a run', async function () {
    const args = ['train', '--store', `file://${root}`, '--dataset', dataset, '--out', 'runs/killed/train', '--limit', '256', '--batch-size', '32', '--latent-size', '16', '--generator-width', '8', '--discriminator-width', '4', '--epochs', '40', '--checkpoint-every', '4', '--seed', '3'];
    const { spawn } = await import('child_process');
    const child = spawn(process.execPath, ['bin/fashion-gan.js', ...args], { env: { ...process.env, CI: 'true' }, stdio: 'ignore' });
    // Kill the process once a checkpoint exists, wherever it is in its step.
    const deadline = Date.now() + 120_000;
    while (!(await store.exists('runs/killed/train/checkpoints/latest.json')) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    const latest = JSON.parse((await store.get('runs/killed/train/checkpoints/latest.json')).toString());
    assert.ok(latest.step >= 4);

    const resumed = runCli([...args, '--resume', '--max-steps', String(latest.step + 4)]);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`msg="resumed from checkpoint" step=${latest.step}`));
  });
});
