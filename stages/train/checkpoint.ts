import * as tf from '@tensorflow/tfjs';

import { UserError } from '../../lib/errors';
import { loadModel, saveModel } from '../../lib/models/store-io';
import { RandomState, SeededRandom } from '../../lib/random';
import { ArtifactStore, StoreError, joinKey } from '../../lib/storage/store';
import { Gan } from './gan';

const LATEST = 'checkpoints/latest.json';
/** Checkpoints kept besides the latest, in case the latest one's store objects are damaged. */
const KEEP = 2;

/** Training position stored in a checkpoint. */
export interface TrainingState {
  /** Generator steps done so far. */
  step: number;
  /** Zero-based epoch that the next step belongs to. */
  epoch: number;
  /** Batches of the current epoch already served. */
  batchInEpoch: number;
  /** Seed of the current epoch's data order. */
  epochSeed: number;
  rng: RandomState;
}

interface CheckpointIndex {
  step: number;
  prefix: string;
  state: TrainingState;
  /** Adam's running beta powers, kept exactly; tfjs would recompute them with pow(). */
  optimizerBetaPowers: { generator: [number, number]; discriminator: [number, number] };
  createdAt: string;
}

/**
 * Writes a checkpoint: both models (weights, including batch-norm statistics), both
 * optimizers' moments and step counts, the training position and the random state. Every
 * object goes under `checkpoints/step-NNNNNNNN/`; `checkpoints/latest.json` is written last, so a
 * kill in the middle leaves the previous checkpoint as the latest one.
 */
export async function saveCheckpoint(store: ArtifactStore, out: string, gan: Gan, state: TrainingState): Promise<string> {
  const prefix = `checkpoints/step-${String(state.step).padStart(8, '0')}`;
  await saveModel(gan.generator, store, joinKey(out, prefix, 'generator'));
  await saveModel(gan.discriminator, store, joinKey(out, prefix, 'discriminator'));
  await saveOptimizer(store, joinKey(out, prefix, 'generator-optimizer'), gan.generatorOptimizer);
  await saveOptimizer(store, joinKey(out, prefix, 'discriminator-optimizer'), gan.discriminatorOptimizer);

  const index: CheckpointIndex = {
    step: state.step,
    prefix,
    state,
    optimizerBetaPowers: {
      generator: betaPowers(gan.generatorOptimizer),
      discriminator: betaPowers(gan.discriminatorOptimizer),
    },
    createdAt: new Date().toISOString(),
  };
  const body = `${JSON.stringify(index, null, 2)}\n`;
  await store.put(joinKey(out, prefix, 'checkpoint.json'), body, { contentType: 'application/json' });
  await store.put(joinKey(out, LATEST), body, { contentType: 'application/json' });
  await pruneCheckpoints(store, out, prefix);
  return prefix;
}

/**
 * Restores the latest checkpoint into `gan` and returns the training position, or undefined
 * when the run has no checkpoint yet.
 */
export async function restoreLatestCheckpoint(store: ArtifactStore, out: string, gan: Gan): Promise<TrainingState | undefined> {
  let index: CheckpointIndex;
  try {
    index = JSON.parse((await store.get(joinKey(out, LATEST))).toString('utf8')) as CheckpointIndex;
  } catch (error) {
    if (error instanceof StoreError && error.code === 'not-found') return undefined;
    if (error instanceof SyntaxError) throw new UserError(`${store.url}: ${joinKey(out, LATEST)} is not valid JSON`);
    throw error;
  }

  for (const [name, model] of [['generator', gan.generator], ['discriminator', gan.discriminator]] as const) {
    const saved = await loadModel(store, joinKey(out, index.prefix, name));
    try {
      copyWeights(saved, model, `${index.prefix}/${name}`);
    } finally {
      saved.dispose();
    }
  }
  await restoreOptimizer(store, joinKey(out, index.prefix, 'generator-optimizer'), gan.generatorOptimizer, index.optimizerBetaPowers.generator);
  await restoreOptimizer(store, joinKey(out, index.prefix, 'discriminator-optimizer'), gan.discriminatorOptimizer, index.optimizerBetaPowers.discriminator);
  gan.rng = new SeededRandom(0, index.state.rng);
  return index.state;
}

function copyWeights(from: tf.LayersModel, to: tf.LayersModel, what: string): void {
  const source = from.getWeights();
  const target = to.getWeights();
  if (source.length !== target.length || source.some((w, i) => w.shape.join() !== target[i].shape.join())) {
    throw new UserError(`checkpoint ${what} does not match the configured model; resume with the run's own configuration`);
  }
  to.setWeights(source);
}

async function saveOptimizer(store: ArtifactStore, prefix: string, optimizer: tf.Optimizer): Promise<void> {
  const weights = await optimizer.getWeights();
  const { data, specs } = await tf.io.encodeWeights(weights);
  await store.put(joinKey(prefix, 'weights.bin'), Buffer.from(data));
  await store.put(joinKey(prefix, 'weights.json'), JSON.stringify(specs), { contentType: 'application/json' });
}

async function restoreOptimizer(store: ArtifactStore, prefix: string, optimizer: tf.AdamOptimizer, powers: [number, number]): Promise<void> {
  const specs = JSON.parse((await store.get(joinKey(prefix, 'weights.json'))).toString('utf8')) as tf.io.WeightsManifestEntry[];
  const data = await store.get(joinKey(prefix, 'weights.bin'));
  const buffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  const tensors = tf.io.decodeWeights(buffer, specs);
  // setWeights wants the order of getWeights: the iteration count first, then the moments.
  await optimizer.setWeights(specs.map((spec) => ({ name: spec.name, tensor: tensors[spec.name] })));
  const adam = optimizer as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
  adam.accBeta1.assign(tf.scalar(powers[0]));
  adam.accBeta2.assign(tf.scalar(powers[1]));
  tf.dispose(Object.values(tensors));
}

function betaPowers(optimizer: tf.AdamOptimizer): [number, number] {
  const adam = optimizer as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
  return [adam.accBeta1.dataSync()[0], adam.accBeta2.dataSync()[0]];
}

async function pruneCheckpoints(store: ArtifactStore, out: string, current: string): Promise<void> {
  const keys = await store.list(joinKey(out, 'checkpoints') + '/');
  const prefixes = [...new Set(keys.map((key) => /checkpoints\/(step-\d+)\//.exec(key)?.[1]).filter(Boolean))].sort();
  const stale = prefixes.slice(0, Math.max(0, prefixes.length - KEEP)).filter((name) => `checkpoints/${name}` !== current);
  for (const name of stale) {
    for (const key of keys.filter((k) => k.includes(`/checkpoints/${name}/`) || k.startsWith(`checkpoints/${name}/`))) {
      await store.delete(key);
    }
  }
}
