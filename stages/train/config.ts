import { DEFAULT_LATENT_SIZE } from '../../lib/constants';
import { UserError } from '../../lib/errors';
import { GENERATOR_ARCHS, GeneratorArch } from '../../lib/models/generator';
import { Device } from '../../lib/tensorflow/backend';

/** The full configuration of a training run, stored as `config.json` beside its outputs. */
export interface TrainConfig {
  runId: string;
  /** Key prefix of the prepared data set. */
  dataset: string;
  /** Key prefix of the run's outputs. */
  out: string;
  arch: GeneratorArch;
  conditional: boolean;
  latentSize: number;
  /** Generator width: channels of its 7x7 map. */
  generatorWidth: number;
  /** Discriminator width: filters of its first convolution. */
  discriminatorWidth: number;
  dropout: number;
  epochs: number;
  batchSize: number;
  /** Discriminator updates per generator update. */
  dSteps: number;
  learningRate: number;
  beta1: number;
  beta2: number;
  /** Target for real images in the discriminator loss; below 1 is one-sided label smoothing. */
  realLabel: number;
  seed: number;
  /** Train on the first N training samples only; all when 0. */
  limit: number;
  /** Write a checkpoint every N steps, and at every epoch end. */
  checkpointEvery: number;
  /** Append a losses line (JSON and TensorBoard) every N steps. */
  logEvery: number;
  /** Stop after this many steps in total (for tests and preemption drills); 0 for no limit. */
  maxSteps: number;
  device: Device;
}

export const DEFAULT_TRAIN_CONFIG: Omit<TrainConfig, 'runId' | 'dataset' | 'out'> = {
  arch: 'dcgan',
  conditional: true,
  latentSize: DEFAULT_LATENT_SIZE,
  generatorWidth: 128,
  discriminatorWidth: 64,
  dropout: 0.3,
  epochs: 10,
  batchSize: 64,
  dSteps: 1,
  learningRate: 2e-4,
  beta1: 0.5,
  beta2: 0.999,
  realLabel: 0.9,
  seed: 1,
  limit: 0,
  checkpointEvery: 500,
  logEvery: 50,
  maxSteps: 0,
  device: 'cpu',
};

/** Checks a configuration and returns it; each problem is a `UserError` naming the option. */
export function checkTrainConfig(config: TrainConfig): TrainConfig {
  const positiveIntegers: (keyof TrainConfig)[] = [
    'latentSize', 'generatorWidth', 'discriminatorWidth', 'epochs', 'batchSize', 'dSteps', 'checkpointEvery', 'logEvery',
  ];
  for (const name of positiveIntegers) {
    const value = config[name] as number;
    if (!Number.isInteger(value) || value < 1) {
      throw new UserError(`train: ${optionName(name)} must be a positive integer, got ${value}`);
    }
  }
  for (const name of ['limit', 'maxSteps', 'seed'] as const) {
    if (!Number.isInteger(config[name]) || config[name] < 0) {
      throw new UserError(`train: ${optionName(name)} must be a non-negative integer, got ${config[name]}`);
    }
  }
  if (!GENERATOR_ARCHS.includes(config.arch)) {
    throw new UserError(`train: unknown architecture '${config.arch}', expected one of ${GENERATOR_ARCHS.join(', ')}`);
  }
  if (config.generatorWidth % 4 !== 0) {
    throw new UserError(`train: --generator-width must be a multiple of 4, got ${config.generatorWidth}`);
  }
  if (!(config.dropout >= 0 && config.dropout < 1)) {
    throw new UserError(`train: --dropout must be in [0, 1), got ${config.dropout}`);
  }
  if (!(config.realLabel > 0.5 && config.realLabel <= 1)) {
    throw new UserError(`train: --real-label must be in (0.5, 1], got ${config.realLabel}`);
  }
  if (!(config.learningRate > 0)) throw new UserError(`train: --learning-rate must be positive, got ${config.learningRate}`);
  for (const name of ['beta1', 'beta2'] as const) {
    if (!(config[name] >= 0 && config[name] < 1)) {
      throw new UserError(`train: --${name} must be in [0, 1), got ${config[name]}`);
    }
  }
  return config;
}

function optionName(name: string): string {
  return `--${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}
