import * as tf from '@tensorflow/tfjs';

import { UserError } from '../../lib/errors';
import { Logger } from '../../lib/log/logger';
import { startProgress } from '../../lib/log/progress';
import { loadSplit, readManifest } from '../../lib/dataset/prepared';
import { generatorMeta } from '../../lib/models/generator';
import { saveGenerator } from '../../lib/models/generator-store';
import { SeededRandom } from '../../lib/random';
import { ArtifactStore, joinKey } from '../../lib/storage/store';
import { restoreLatestCheckpoint, saveCheckpoint, TrainingState } from './checkpoint';
import { TrainConfig } from './config';
import { BatchSource, Gan, StepLosses } from './gan';
import { TrainingLog, fixedNoise, renderSampleGrid } from './outputs';

export interface TrainResult {
  step: number;
  epoch: number;
  /** True when training stopped at --max-steps before the last epoch ended. */
  stoppedEarly: boolean;
  last?: StepLosses;
  imagesPerSecond: number;
}

/**
 * Trains a GAN on the prepared training split and writes everything under `config.out`: the
 * configuration, checkpoints, per-epoch sample grids, the losses log, TensorBoard events and
 * the final generator. With `resume`, continues from the latest checkpoint.
 */
export async function train(store: ArtifactStore, config: TrainConfig, options: { resume: boolean }, logger: Logger): Promise<TrainResult> {
  const manifest = await readManifest(store, config.dataset);
  const split = await loadSplit(store, config.dataset, 'train', { manifest, limit: config.limit || undefined });
  if (split.count < config.batchSize) {
    throw new UserError(`train: the training split has ${split.count} samples, fewer than --batch-size ${config.batchSize}`);
  }
  await store.put(joinKey(config.out, 'config.json'), `${JSON.stringify({ ...config, datasetHash: manifest.hash }, null, 2)}\n`, {
    contentType: 'application/json',
  });

  const gan = new Gan(config, new SeededRandom(config.seed));
  const log = new TrainingLog(store, config.out, logger);
  const noise = fixedNoise(config);
  try {
    let state: TrainingState | undefined;
    if (options.resume) {
      state = await restoreLatestCheckpoint(store, config.out, gan);
      if (state) logger.info('resumed from checkpoint', { step: state.step, epoch: state.epoch + 1 });
      else logger.info('no checkpoint to resume from; starting at step 0');
    }
    await log.resume(state?.step ?? 0);
    state ??= { step: 0, epoch: 0, batchInEpoch: 0, epochSeed: gan.rng.opSeed(), rng: gan.rng.state() };

    return await runEpochs(store, config, gan, log, noise, state, split, manifest.hash, logger);
  } finally {
    noise.latent.dispose();
    gan.dispose();
    log.close();
  }
}

async function runEpochs(
  store: ArtifactStore,
  config: TrainConfig,
  gan: Gan,
  log: TrainingLog,
  noise: ReturnType<typeof fixedNoise>,
  state: TrainingState,
  split: { images: Uint8Array; labels: Uint8Array; count: number },
  datasetHash: string,
  logger: Logger,
): Promise<TrainResult> {
  const stepsPerEpoch = Math.floor(Math.floor(split.count / config.batchSize) / config.dSteps);
  const totalSteps = stepsPerEpoch * config.epochs;
  const stopAt = config.maxSteps > 0 ? Math.min(config.maxSteps, totalSteps) : totalSteps;
  logger.info('training', {
    run: config.runId, samples: split.count, batch: config.batchSize, steps_per_epoch: stepsPerEpoch,
    epochs: config.epochs, start_step: state.step, stop_step: stopAt, arch: config.arch, conditional: config.conditional,
  });

  const progress = startProgress(logger, { total: stopAt, unit: 'step' });
  const started = Date.now();
  const startStep = state.step;
  let last: StepLosses | undefined;
  let imagesPerSecond = 0;

  while (state.step < stopAt) {
    const source = new BatchSource(split.images, split.labels, config.batchSize, state.epochSeed);
    source.position = state.batchInEpoch * config.batchSize;

    while (state.batchInEpoch < stepsPerEpoch * config.dSteps && state.step < stopAt) {
      last = gan.trainStep(() => source.next());
      state.step += 1;
      state.batchInEpoch += config.dSteps;
      checkFinite(last, state.step);

      const seconds = (Date.now() - started) / 1000;
      // Counts training-set images consumed, the convention of Keras and the benchmarks.
      imagesPerSecond = ((state.step - startStep) * config.batchSize * config.dSteps) / Math.max(seconds, 1e-3);
      const fields = { epoch: `${state.epoch + 1}/${config.epochs}`, img_per_s: Math.round(imagesPerSecond), d_loss: last.dLoss, g_loss: last.gLoss };
      progress.update(state.step, fields);

      if (state.step % config.logEvery === 0) {
        log.add({ step: state.step, epoch: state.epoch + 1, ...last, imagesPerSecond, time: new Date().toISOString() });
      }
      const epochEnds = state.batchInEpoch >= stepsPerEpoch * config.dSteps;
      if (!epochEnds && state.step % config.checkpointEvery === 0) {
        await checkpoint(store, config, gan, log, { ...state, rng: gan.rng.state() });
      }
    }

    if (state.batchInEpoch >= stepsPerEpoch * config.dSteps) {
      // The epoch's grid, then a checkpoint already positioned at the next epoch's start.
      const epochNumber = state.epoch + 1;
      await store.put(joinKey(config.out, `samples/epoch-${String(epochNumber).padStart(4, '0')}.png`), renderSampleGrid(gan.generator, config, noise), {
        contentType: 'image/png',
      });
      state.epoch += 1;
      state.batchInEpoch = 0;
      state.epochSeed = gan.rng.opSeed();
      await checkpoint(store, config, gan, log, { ...state, rng: gan.rng.state() });
      logger.info('epoch done', { epoch: `${epochNumber}/${config.epochs}`, step: state.step, d_loss: last?.dLoss, g_loss: last?.gLoss });
    }
    if (config.maxSteps > 0 && state.step >= config.maxSteps) break;
  }
  progress.stop({ step: state.step });

  const finished = state.step >= totalSteps;
  if (!finished) {
    await checkpoint(store, config, gan, log, { ...state, rng: gan.rng.state() });
    logger.info('stopped at --max-steps; resume with --resume', { step: state.step });
  }
  await saveGenerator(store, config.out, gan.generator, generatorMeta(
    { ...config, width: config.generatorWidth, embeddingSize: 50 },
    { datasetHash, step: state.step, epoch: state.epoch, runId: config.runId },
  ));
  await store.put(joinKey(config.out, 'train.json'), `${JSON.stringify({ step: state.step, epoch: state.epoch, finished, imagesPerSecond, last }, null, 2)}\n`, {
    contentType: 'application/json',
  });
  logger.info('generator saved', { model: joinKey(config.out, 'model/generator/model.json'), tensors: tf.memory().numTensors });
  return { step: state.step, epoch: state.epoch, stoppedEarly: !finished, last, imagesPerSecond };
}

async function checkpoint(store: ArtifactStore, config: TrainConfig, gan: Gan, log: TrainingLog, state: TrainingState): Promise<void> {
  await log.flush();
  await saveCheckpoint(store, config.out, gan, state);
}

function checkFinite(losses: StepLosses, step: number): void {
  if (!Number.isFinite(losses.dLoss) || !Number.isFinite(losses.gLoss)) {
    throw new UserError(`train: losses became non-finite at step ${step} (d_loss=${losses.dLoss}, g_loss=${losses.gLoss}); lower --learning-rate`);
  }
}
