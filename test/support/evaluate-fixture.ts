import * as tf from '@tensorflow/tfjs';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';

import { IMAGE_PIXELS, IMAGE_SHAPE, NUM_CLASSES, byteToPixel } from '../../lib/constants';
import { Split, loadSplit, readManifest } from '../../lib/dataset/prepared';
import { readSourceFolder } from '../../lib/dataset/source';
import { createLogger } from '../../lib/log/logger';
import { ClassifierConfig } from '../../lib/models/classifier';
import { buildGenerator, DEFAULT_GENERATOR_CONFIG, generatorMeta } from '../../lib/models/generator';
import { saveGenerator } from '../../lib/models/generator-store';
import { FileStore } from '../../lib/storage/file-store';
import { prepareDataset } from '../../stages/prepare/prepare';

/** The real Fashion-MNIST files, read-only; tests prepare a small cut of them into a temp store. */
export const FASHION_MNIST_SOURCE = '/work/shared/data/fashion-mnist';

/** A classifier small enough to train in seconds on a few thousand images. */
export const TINY_CLASSIFIER: ClassifierConfig = {
  width: 4,
  epochs: 3,
  batchSize: 64,
  learningRate: 3e-3,
  seed: 7,
};

export interface EvaluateFixture {
  root: string;
  store: FileStore;
  dataset: string;
  /** Removes the temporary folder. */
  cleanUp(): Promise<void>;
}

/** Prepares the first `train` and `test` Fashion-MNIST samples into a new temporary file store. */
export async function prepareSmallDataset(train: number, test: number): Promise<EvaluateFixture> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'fashion-gan-evaluate-'));
  const store = new FileStore(root);
  const dataset = 'datasets/small';
  const files = await readSourceFolder(FASHION_MNIST_SOURCE);
  await prepareDataset(
    files,
    store,
    { out: dataset, limitTrain: train, limitTest: test, sourceDescription: 'test cut' },
    createLogger('test'),
  );
  return { root, store, dataset, cleanUp: () => fs.rm(root, { recursive: true, force: true }) };
}

/** Saves an untrained conditional generator of tiny width: its samples are noise. */
export async function saveUntrainedGenerator(fixture: EvaluateFixture, trainOut: string) {
  const config = { ...DEFAULT_GENERATOR_CONFIG, width: 8, embeddingSize: 4, seed: 3 };
  const model = buildGenerator(config);
  const manifest = await readManifest(fixture.store, fixture.dataset);
  const meta = generatorMeta(config, { datasetHash: manifest.hash, step: 0, epoch: 0, runId: 'untrained' });
  await saveGenerator(fixture.store, trainOut, model, meta);
  model.dispose();
}

/**
 * A stand-in for a well-trained conditional generator: it returns real training images of the
 * requested class, picking one of `perClass` stored images from the first latent value. Its
 * samples follow the real distribution, so it must pass any sensible gate.
 */
class RealImageLookup extends tf.layers.Layer {
  static className = 'RealImageLookup';
  private readonly perClass: number;
  private images?: tf.LayerVariable;

  constructor(config: { perClass: number; name?: string }) {
    super(config);
    this.perClass = config.perClass;
  }

  override build(): void {
    this.images = this.addWeight(
      'images',
      [NUM_CLASSES * this.perClass, IMAGE_PIXELS],
      'float32',
      tf.initializers.zeros(),
      undefined,
      false,
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape[]): tf.Shape {
    return [inputShape[0][0], ...IMAGE_SHAPE];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [latent, label] = inputs as tf.Tensor[];
      // The fractional part of a scaled latent value is close to uniform on [0, 1).
      const scaled = latent.slice([0, 0], [-1, 1]).abs().mul(1000);
      const pick = scaled.sub(scaled.floor()).mul(this.perClass).floor();
      const row = label.reshape([-1, 1]).mul(this.perClass).add(pick).reshape([-1]).toInt();
      const pixels = tf.gather((this.images as tf.LayerVariable).read(), row);
      return pixels.reshape([-1, ...IMAGE_SHAPE]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), perClass: this.perClass };
  }
}
tf.serialization.registerClass(RealImageLookup);

/**
 * Saves the RealImageLookup stand-in, filled with the first `perClass` training images of each
 * class (pixels in [-1, 1]), as a conditional generator under `trainOut`.
 */
export async function saveRealImageGenerator(
  fixture: EvaluateFixture,
  trainOut: string,
  perClass: number,
): Promise<void> {
  const manifest = await readManifest(fixture.store, fixture.dataset);
  const train = await loadSplit(fixture.store, fixture.dataset, 'train', { manifest });
  const table = firstImagesPerClass(train, perClass);

  const latent = tf.input({ shape: [DEFAULT_GENERATOR_CONFIG.latentSize], name: 'latent' });
  const label = tf.input({ shape: [1], name: 'label' });
  const lookup = new RealImageLookup({ perClass, name: 'real_image_lookup' });
  const output = lookup.apply([latent, label]) as tf.SymbolicTensor;
  const model = tf.model({ inputs: [latent, label], outputs: output, name: 'real_image_lookup' });
  const values = tf.tensor2d(table, [NUM_CLASSES * perClass, IMAGE_PIXELS]);
  lookup.setWeights([values]);
  values.dispose();

  const meta = generatorMeta(
    { ...DEFAULT_GENERATOR_CONFIG, conditional: true },
    { datasetHash: manifest.hash, step: 0, epoch: 0, runId: 'real-image-lookup' },
  );
  await saveGenerator(fixture.store, trainOut, model, meta);
  model.dispose();
}

function firstImagesPerClass(split: Split, perClass: number): Float32Array {
  const table = new Float32Array(NUM_CLASSES * perClass * IMAGE_PIXELS);
  const filled = new Array<number>(NUM_CLASSES).fill(0);
  for (let i = 0; i < split.count; i++) {
    const label = split.labels[i];
    if (filled[label] >= perClass) continue;
    const row = label * perClass + filled[label];
    for (let p = 0; p < IMAGE_PIXELS; p++) {
      table[row * IMAGE_PIXELS + p] = byteToPixel(split.images[i * IMAGE_PIXELS + p]);
    }
    filled[label] += 1;
  }
  if (filled.some((value) => value < perClass)) {
    throw new Error(`the training split has fewer than ${perClass} images of some class`);
  }
  return table;
}
