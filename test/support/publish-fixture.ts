import * as tf from '@tensorflow/tfjs';

import { NUM_CLASSES } from '../../lib/constants';
import { composeGrid } from '../../lib/images/grid';
import { GrayImage, encodePng } from '../../lib/images/png';
import { buildGenerator, generatorMeta } from '../../lib/models/generator';
import { saveGenerator } from '../../lib/models/generator-store';
import { ArtifactStore, joinKey } from '../../lib/storage/store';

/** What a fake training run wrote, for assertions. */
export interface FakeRun {
  trainOut: string;
  metricsKey: string;
  runId: string;
  datasetHash: string;
}

/**
 * Writes what the train and evaluate stages leave behind for a tiny untrained generator: the
 * saved model, config.json, losses.jsonl, two epoch sample grids and a metrics.json with
 * plausible values. `seed` changes the weights and so the release id.
 */
export async function writeFakeRun(
  store: ArtifactStore,
  options: { runId: string; seed: number; fid?: number },
): Promise<FakeRun> {
  const trainOut = joinKey('runs', options.runId, 'train');
  const datasetHash = 'ab'.repeat(32);
  const config = {
    arch: 'dcgan' as const,
    conditional: true,
    latentSize: 8,
    width: 8,
    embeddingSize: 4,
    seed: options.seed,
  };
  const model = buildGenerator(config);
  try {
    // Untrained DCGAN kernels, N(0, 0.02), give flat gray images; wider kernels give pictures
    // whose pixels visibly differ between styles and categories.
    const widened = model.weights.map((weight, index) =>
      /kernel|embeddings/.test(weight.originalName)
        ? tf.randomNormal(weight.shape as number[], 0, 0.5, 'float32', options.seed * 100 + index)
        : weight.read().clone(),
    );
    model.setWeights(widened);
    tf.dispose(widened);
    const meta = generatorMeta(config, { datasetHash, step: 40, epoch: 2, runId: options.runId });
    await saveGenerator(store, trainOut, model, meta);
  } finally {
    model.dispose();
  }

  await store.put(joinKey(trainOut, 'config.json'), JSON.stringify({ generator: config, epochs: 2 }));
  const losses = Array.from({ length: 40 }, (_, step) => ({
    step: step + 1,
    epoch: step < 20 ? 1 : 2,
    dLoss: 1.4 - step * 0.01,
    gLoss: 0.7 + step * 0.02,
    dReal: 0.6,
    dFake: 0.4,
    imagesPerSecond: 500,
    time: new Date(Date.UTC(2025, 0, 1, 0, 0, step)).toISOString(),
  }));
  await store.put(
    joinKey(trainOut, 'logs/losses.jsonl'),
    losses.map((record) => JSON.stringify(record)).join('\n') + '\n',
  );
  for (const epoch of [1, 2]) {
    const key = joinKey(trainOut, `samples/epoch-${String(epoch).padStart(4, '0')}.png`);
    await store.put(key, encodePng(sampleGrid(epoch)));
  }

  const metricsKey = joinKey(trainOut, 'metrics.json');
  const metrics = {
    fid: options.fid ?? 42.5,
    fidFloor: 1.2,
    inceptionScore: 6.8,
    classHistogram: Array.from({ length: NUM_CLASSES }, () => 100),
    classesCovered: NUM_CLASSES,
    conditionalAgreement: 0.81,
    perClassFid: Array.from({ length: NUM_CLASSES }, (_, label) => 40 + label),
    samples: 1000,
    classifier: { key: 'classifiers/fashion/model.json', testAccuracy: 0.91 },
    gate: { maxFid: 60, passed: true },
    datasetHash,
    createdAt: '2025-01-01T00:00:00.000Z',
  };
  await store.put(metricsKey, JSON.stringify(metrics));
  return { trainOut, metricsKey, runId: options.runId, datasetHash };
}

/** Builds a 10x4 grid of patterned tiles in place of an epoch's samples. */
function sampleGrid(epoch: number): GrayImage {
  const rows = Array.from({ length: NUM_CLASSES }, (_, label) =>
    Array.from({ length: 4 }, (_, column) => {
      const pixels = new Uint8Array(28 * 28).map((_, i) => (i * (label + column + epoch)) % 256);
      return { width: 28, height: 28, pixels };
    }),
  );
  return composeGrid(rows, { scale: 1, gap: 1, background: 255 });
}
