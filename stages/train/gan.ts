import * as tf from '@tensorflow/tfjs';

import { IMAGE_PIXELS, IMAGE_SIZE, NUM_CLASSES, PIXEL_MAX, PIXEL_MIN } from '../../lib/constants';
import { buildDiscriminator, dropoutLayers } from '../../lib/models/discriminator';
import { buildGenerator } from '../../lib/models/generator';
import { SeededRandom } from '../../lib/random';
import { TrainConfig } from './config';

/** Losses of one generator step and the discriminator steps before it. */
export interface StepLosses {
  dLoss: number;
  gLoss: number;
  /** Mean discriminator probability on real and on generated images. */
  dReal: number;
  dFake: number;
}

/**
 * A generator and a discriminator with their optimizers and the update steps of the training
 * loop. Every random number comes from `rng`, so a run is fixed by its seed and checkpoint.
 */
export class Gan {
  readonly generator: tf.LayersModel;
  readonly discriminator: tf.LayersModel;
  readonly generatorOptimizer: tf.AdamOptimizer;
  readonly discriminatorOptimizer: tf.AdamOptimizer;
  rng: SeededRandom;

  private readonly generatorVariables: tf.Variable[];
  private readonly discriminatorVariables: tf.Variable[];

  constructor(readonly config: TrainConfig, rng: SeededRandom) {
    this.rng = rng;
    this.generator = buildGenerator({
      arch: config.arch,
      conditional: config.conditional,
      latentSize: config.latentSize,
      width: config.generatorWidth,
      embeddingSize: 50,
      seed: config.seed,
    });
    this.discriminator = buildDiscriminator({
      conditional: config.conditional,
      width: config.discriminatorWidth,
      dropout: config.dropout,
      seed: config.seed,
    });
    for (const layer of dropoutLayers(this.discriminator)) layer.seedSource = () => this.rng.opSeed();

    // Each optimizer gets an explicit list: the discriminator step must never move the
    // generator's weights, nor the generator step the discriminator's.
    this.generatorVariables = this.generator.trainableWeights.map((w) => w.read() as tf.Variable);
    this.discriminatorVariables = this.discriminator.trainableWeights.map((w) => w.read() as tf.Variable);
    this.generatorOptimizer = tf.train.adam(config.learningRate, config.beta1, config.beta2);
    this.discriminatorOptimizer = tf.train.adam(config.learningRate, config.beta1, config.beta2);
  }

  /**
   * Runs `dSteps` discriminator updates on real batches from `nextBatch`, then one generator
   * update. `nextBatch` returns images [batch, 28, 28, 1] in [-1, 1] and labels [batch].
   */
  trainStep(nextBatch: () => { images: tf.Tensor4D; labels: tf.Tensor1D }): StepLosses {
    let d = { loss: 0, real: 0, fake: 0 };
    for (let i = 0; i < this.config.dSteps; i++) {
      const batch = nextBatch();
      try {
        d = this.discriminatorStep(batch.images, batch.labels);
      } finally {
        batch.images.dispose();
        batch.labels.dispose();
      }
    }
    const gLoss = this.generatorStep();
    return { dLoss: d.loss, gLoss, dReal: d.real, dFake: d.fake };
  }

  private discriminatorStep(real: tf.Tensor4D, realLabels: tf.Tensor1D): { loss: number; real: number; fake: number } {
    const batch = real.shape[0];
    const [loss, scores] = tf.tidy(() => {
      const fakeLabels = this.randomLabels(batch);
      const fake = this.generate(this.noise(batch), fakeLabels, true);

      // One pass over real and generated images together: the discriminator has no batch
      // norm, so mixing them changes nothing but halves the kernel launches.
      const images = tf.concat([real, fake]);
      const labels = tf.concat([realLabels, fakeLabels]);
      // One-sided label smoothing: real targets are realLabel (0.9), fake targets stay 0, so
      // the discriminator is not rewarded for certainty on real images.
      const targets = tf.concat([tf.fill([batch, 1], this.config.realLabel), tf.zeros([batch, 1])]);

      let probabilities: tf.Tensor | undefined;
      const { value, grads } = tf.variableGrads(() => {
        const logits = this.discriminate(images, labels);
        probabilities = tf.keep(tf.sigmoid(logits).reshape([2, batch]).mean(1));
        return tf.losses.sigmoidCrossEntropy(targets, logits) as tf.Scalar;
      }, this.discriminatorVariables);
      this.discriminatorOptimizer.applyGradients(inOrder(grads, this.discriminatorVariables));
      return [value, probabilities!];
    });
    const [lossValue] = loss.dataSync();
    const [realScore, fakeScore] = scores.dataSync();
    tf.dispose([loss, scores]);
    return { loss: lossValue, real: realScore, fake: fakeScore };
  }

  private generatorStep(): number {
    const batch = this.config.batchSize;
    const loss = tf.tidy(() => {
      const labels = this.randomLabels(batch);
      const noise = this.noise(batch);
      const { value, grads } = tf.variableGrads(() => {
        const logits = this.discriminate(this.generate(noise, labels, true), labels);
        return tf.losses.sigmoidCrossEntropy(tf.ones([batch, 1]), logits) as tf.Scalar;
      }, this.generatorVariables);
      this.generatorOptimizer.applyGradients(inOrder(grads, this.generatorVariables));
      return value;
    });
    const [value] = loss.dataSync();
    loss.dispose();
    return value;
  }

  /** Latent vectors [n, latentSize] from N(0, 1), seeded from the run's random state. */
  noise(count: number): tf.Tensor2D {
    return tf.randomNormal([count, this.config.latentSize], 0, 1, 'float32', this.rng.opSeed());
  }

  private randomLabels(count: number): tf.Tensor1D {
    const labels = new Float32Array(count);
    for (let i = 0; i < count; i++) labels[i] = this.rng.int(NUM_CLASSES);
    return tf.tensor1d(labels);
  }

  private generate(noise: tf.Tensor2D, labels: tf.Tensor1D, training: boolean): tf.Tensor4D {
    const inputs = this.config.conditional ? [noise, labels.reshape([-1, 1])] : noise;
    return this.generator.apply(inputs, { training }) as tf.Tensor4D;
  }

  private discriminate(images: tf.Tensor4D, labels: tf.Tensor1D): tf.Tensor2D {
    const inputs = this.config.conditional ? [images, labels.reshape([-1, 1])] : images;
    return this.discriminator.apply(inputs, { training: true }) as tf.Tensor2D;
  }

  dispose(): void {
    this.generator.dispose();
    this.discriminator.dispose();
    this.generatorOptimizer.dispose();
    this.discriminatorOptimizer.dispose();
  }
}

/**
 * Lists gradients in the order of `variables`. Adam keeps its moments by position in this list,
 * so a fixed order is what lets a checkpoint restore them to the right variables.
 */
function inOrder(grads: tf.NamedTensorMap, variables: tf.Variable[]): { name: string; tensor: tf.Tensor }[] {
  return variables.map((variable) => ({ name: variable.name, tensor: grads[variable.name] }));
}

/**
 * Serves shuffled batches from the training split held as bytes. The order of each epoch comes
 * from a seed drawn at the epoch's start, so a resumed run can rebuild it from the checkpoint.
 */
export class BatchSource {
  private order: Int32Array;
  position = 0;

  constructor(
    private readonly images: Uint8Array,
    private readonly labels: Uint8Array,
    private readonly batchSize: number,
    epochSeed: number,
  ) {
    const order = new Int32Array(labels.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    new SeededRandom(epochSeed).shuffle(order);
    this.order = order;
  }

  /** Whole batches per epoch; the remainder is dropped so every step has the same shape. */
  get stepsPerEpoch(): number {
    return Math.floor(this.labels.length / this.batchSize);
  }

  next(): { images: tf.Tensor4D; labels: tf.Tensor1D } {
    const pixels = new Float32Array(this.batchSize * IMAGE_PIXELS);
    const labels = new Float32Array(this.batchSize);
    const scale = (PIXEL_MAX - PIXEL_MIN) / 255;
    for (let b = 0; b < this.batchSize; b++) {
      const sample = this.order[(this.position + b) % this.order.length];
      const offset = sample * IMAGE_PIXELS;
      for (let p = 0; p < IMAGE_PIXELS; p++) pixels[b * IMAGE_PIXELS + p] = this.images[offset + p] * scale + PIXEL_MIN;
      labels[b] = this.labels[sample];
    }
    this.position += this.batchSize;
    return {
      images: tf.tensor4d(pixels, [this.batchSize, IMAGE_SIZE, IMAGE_SIZE, 1]),
      labels: tf.tensor1d(labels),
    };
  }
}
