import { randomBytes } from 'crypto';
import { CommandModule } from 'yargs';

import { createLogger } from '../../lib/log/logger';
import { GENERATOR_ARCHS, GeneratorArch } from '../../lib/models/generator';
import { loadBackend } from '../../lib/tensorflow/backend';
import { openStore } from '../../lib/storage/open';
import { checkPrefix } from '../../lib/storage/store';
import { DEFAULT_TRAIN_CONFIG, TrainConfig, checkTrainConfig } from './config';
import { DATASET_OPTION, STORE_OPTION } from '../../lib/cli/options';

interface TrainArgs {
  store: string;
  dataset: string;
  out?: string;
  'run-id'?: string;
  arch: string;
  conditional: boolean;
  'latent-size': number;
  'generator-width': number;
  'discriminator-width': number;
  dropout: number;
  epochs: number;
  'batch-size': number;
  'd-steps': number;
  'learning-rate': number;
  beta1: number;
  beta2: number;
  'real-label': number;
  seed: number;
  limit: number;
  'checkpoint-every': number;
  'log-every': number;
  'max-steps': number;
  resume: boolean;
  device: string;
  'gpu-memory-growth': boolean;
  'allow-js-backend': boolean;
}

const d = DEFAULT_TRAIN_CONFIG;

export const command: CommandModule<object, TrainArgs> = {
  command: 'train',
  describe: 'Train a class-conditional GAN on the prepared data set',
  builder: (yargs) =>
    yargs
      .option('store', STORE_OPTION)
      .option('dataset', DATASET_OPTION)
      .option('out', { type: 'string', describe: 'Key prefix for the outputs (default runs/<run-id>/train)' })
      .option('run-id', { type: 'string', describe: 'Run id (default: $FASHION_GAN_RUN_ID, else time and a random suffix)' })
      .option('arch', { type: 'string', default: d.arch, describe: `Generator architecture: ${GENERATOR_ARCHS.join(' or ')}` })
      .option('conditional', { type: 'boolean', default: d.conditional, describe: 'Condition both models on the class label' })
      .option('latent-size', { type: 'number', default: d.latentSize, describe: 'Length of the latent vector' })
      .option('generator-width', { type: 'number', default: d.generatorWidth, describe: 'Channels of the 7x7 generator map' })
      .option('discriminator-width', { type: 'number', default: d.discriminatorWidth, describe: 'Filters of the first discriminator convolution' })
      .option('dropout', { type: 'number', default: d.dropout, describe: 'Discriminator dropout rate' })
      .option('epochs', { type: 'number', default: d.epochs, describe: 'Passes over the training split' })
      .option('batch-size', { type: 'number', default: d.batchSize, describe: 'Images per batch' })
      .option('d-steps', { type: 'number', default: d.dSteps, describe: 'Discriminator updates per generator update' })
      .option('learning-rate', { type: 'number', default: d.learningRate, describe: 'Adam learning rate of both models' })
      .option('beta1', { type: 'number', default: d.beta1, describe: 'Adam beta1' })
      .option('beta2', { type: 'number', default: d.beta2, describe: 'Adam beta2' })
      .option('real-label', { type: 'number', default: d.realLabel, describe: 'Target for real images (one-sided label smoothing below 1)' })
      .option('seed', { type: 'number', default: d.seed, describe: 'Seed of initial weights, data order and noise' })
      .option('limit', { type: 'number', default: d.limit, describe: 'Train on the first N samples only (0: all)' })
      .option('checkpoint-every', { type: 'number', default: d.checkpointEvery, describe: 'Steps between checkpoints (also at every epoch end)' })
      .option('log-every', { type: 'number', default: d.logEvery, describe: 'Steps between lines of the losses log' })
      .option('max-steps', { type: 'number', default: d.maxSteps, describe: 'Stop after this many steps in total (0: no limit)' })
      .option('resume', { type: 'boolean', default: false, describe: 'Continue from the latest checkpoint under --out' })
      .option('device', { type: 'string', choices: ['cpu', 'gpu'], default: 'cpu', describe: 'cpu: tfjs-node; gpu: tfjs-node-gpu' })
      .option('gpu-memory-growth', { type: 'boolean', default: true, describe: 'Let TensorFlow grow GPU memory as needed (TF_FORCE_GPU_ALLOW_GROWTH)' })
      .option('allow-js-backend', { type: 'boolean', default: false, describe: 'Run on the slow pure-JavaScript backend if libtensorflow does not load' })
      .check((args) => {
        if (args.resume && !args.out && !args['run-id']) throw new Error('--resume needs --out or --run-id of the run to continue');
        return true;
      }),
  handler: async (args) => {
    const logger = createLogger('train');
    const runId = args['run-id'] ?? process.env.FASHION_GAN_RUN_ID ?? newRunId();
    const config = checkTrainConfig({
      runId,
      dataset: checkPrefix(args.dataset),
      out: checkPrefix(args.out ?? `runs/${runId}/train`),
      arch: args.arch as GeneratorArch,
      conditional: args.conditional,
      latentSize: args['latent-size'],
      generatorWidth: args['generator-width'],
      discriminatorWidth: args['discriminator-width'],
      dropout: args.dropout,
      epochs: args.epochs,
      batchSize: args['batch-size'],
      dSteps: args['d-steps'],
      learningRate: args['learning-rate'],
      beta1: args.beta1,
      beta2: args.beta2,
      realLabel: args['real-label'],
      seed: args.seed,
      limit: args.limit,
      checkpointEvery: args['checkpoint-every'],
      logEvery: args['log-every'],
      maxSteps: args['max-steps'],
      device: args.device as TrainConfig['device'],
    });
    loadBackend({ device: config.device, gpuMemoryGrowth: args['gpu-memory-growth'], allowJsBackend: args['allow-js-backend'] }, logger);

    const store = openStore(args.store);
    try {
      // Loaded here so that --help and argument errors do not load the models.
      const { train } = await import('./train');
      const started = Date.now();
      const result = await train(store, config, { resume: args.resume }, logger);
      logger.info('done', {
        out: config.out, step: result.step, seconds: Math.round((Date.now() - started) / 1000),
        img_per_s: Math.round(result.imagesPerSecond), d_loss: result.last?.dLoss, g_loss: result.last?.gLoss,
      });
    } finally {
      await store.close();
    }
  },
};

/** Returns a sortable run id: UTC time to the second and a random suffix (20261204-171500-3fa2). */
export function newRunId(): string {
  const time = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${time}-${randomBytes(2).toString('hex')}`;
}
