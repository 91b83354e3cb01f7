import * as tf from '@tensorflow/tfjs';

import { DEFAULT_LATENT_SIZE, IMAGE_SHAPE, IMAGE_SIZE, NUM_CLASSES, PIXEL_MAX, PIXEL_MIN } from '../constants';
import { SeededInitializers } from './initializers';

export type GeneratorArch = 'dcgan' | 'upsample';
export const GENERATOR_ARCHS: GeneratorArch[] = ['dcgan', 'upsample'];

export interface GeneratorConfig {
  arch: GeneratorArch;
  conditional: boolean;
  latentSize: number;
  /** Channels of the 7x7 feature map after the dense layer; later layers halve it. */
  width: number;
  /** Length of the learned class embedding concatenated to the latent vector. */
  embeddingSize: number;
  seed: number;
}

export const DEFAULT_GENERATOR_CONFIG: GeneratorConfig = {
  arch: 'dcgan',
  conditional: true,
  latentSize: DEFAULT_LATENT_SIZE,
  width: 128,
  embeddingSize: 50,
  seed: 1,
};

/**
 * Builds a generator: latent vector [n, latentSize] (plus, when conditional, a class label
 * [n, 1] as float) to images [n, 28, 28, 1] with values in [-1, 1] from `tanh`.
 *
 * - `dcgan`: dense to 7x7xW, then transposed convolutions 7 -> 14 -> 28 with batch norm.
 * - `upsample`: dense to 7x7xW, then nearest-neighbour upsampling and plain convolutions, the
 *   architecture of the original Keras fashion GAN.
 */
export function buildGenerator(config: GeneratorConfig): tf.LayersModel {
  const init = new SeededInitializers(config.seed);
  const latent = tf.input({ shape: [config.latentSize], name: 'latent' });
  const inputs: tf.SymbolicTensor[] = [latent];
  let features: tf.SymbolicTensor = latent;

  if (config.conditional) {
    const label = tf.input({ shape: [1], name: 'label' });
    inputs.push(label);
    const embedded = tf.layers
      .embedding({ inputDim: NUM_CLASSES, outputDim: config.embeddingSize, embeddingsInitializer: init.embedding(), name: 'label_embedding' })
      .apply(label) as tf.SymbolicTensor;
    const flat = tf.layers.flatten({ name: 'label_flat' }).apply(embedded) as tf.SymbolicTensor;
    features = tf.layers.concatenate({ name: 'latent_and_label' }).apply([latent, flat]) as tf.SymbolicTensor;
  }

  const side = IMAGE_SIZE / 4;
  let x = tf.layers
    .dense({ units: side * side * config.width, useBias: false, kernelInitializer: init.normal(), name: 'project' })
    .apply(features) as tf.SymbolicTensor;
  x = batchNormRelu(x, 'project');
  x = tf.layers.reshape({ targetShape: [side, side, config.width], name: 'to_map' }).apply(x) as tf.SymbolicTensor;

  const output = config.arch === 'dcgan' ? dcganBody(x, config.width, init) : upsampleBody(x, config.width, init);
  return tf.model({ inputs, outputs: output, name: `generator_${config.arch}` });
}

function dcganBody(input: tf.SymbolicTensor, width: number, init: SeededInitializers): tf.SymbolicTensor {
  let x = tf.layers
    .conv2dTranspose({ filters: width / 2, kernelSize: 5, strides: 2, padding: 'same', useBias: false, kernelInitializer: init.normal(), name: 'up14' })
    .apply(input) as tf.SymbolicTensor;
  x = batchNormRelu(x, 'up14');
  return tf.layers
    .conv2dTranspose({ filters: IMAGE_SHAPE[2], kernelSize: 5, strides: 2, padding: 'same', activation: 'tanh', kernelInitializer: init.normal(), name: 'up28' })
    .apply(x) as tf.SymbolicTensor;
}

function upsampleBody(input: tf.SymbolicTensor, width: number, init: SeededInitializers): tf.SymbolicTensor {
  let x = tf.layers.upSampling2d({ size: [2, 2], name: 'upsample14' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers
    .conv2d({ filters: width / 2, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init.normal(), name: 'conv14' })
    .apply(x) as tf.SymbolicTensor;
  x = batchNormRelu(x, 'conv14');
  x = tf.layers.upSampling2d({ size: [2, 2], name: 'upsample28' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .conv2d({ filters: width / 4, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init.normal(), name: 'conv28' })
    .apply(x) as tf.SymbolicTensor;
  x = batchNormRelu(x, 'conv28');
  return tf.layers
    .conv2d({ filters: IMAGE_SHAPE[2], kernelSize: 3, padding: 'same', activation: 'tanh', kernelInitializer: init.normal(), name: 'to_image' })
    .apply(x) as tf.SymbolicTensor;
}

function batchNormRelu(input: tf.SymbolicTensor, name: string): tf.SymbolicTensor {
  const normed = tf.layers.batchNormalization({ momentum: 0.9, name: `${name}_bn` }).apply(input) as tf.SymbolicTensor;
  return tf.layers.reLU({ name: `${name}_relu` }).apply(normed) as tf.SymbolicTensor;
}

/** Metadata stored beside a saved generator (`generator-meta.json`). */
export interface GeneratorMeta {
  latentSize: number;
  conditional: boolean;
  arch: GeneratorArch;
  numClasses: number;
  imageShape: number[];
  pixelRange: [number, number];
  datasetHash: string;
  step: number;
  epoch: number;
  runId: string;
}

export function generatorMeta(config: GeneratorConfig, extra: Pick<GeneratorMeta, 'datasetHash' | 'step' | 'epoch' | 'runId'>): GeneratorMeta {
  return {
    latentSize: config.latentSize,
    conditional: config.conditional,
    arch: config.arch,
    numClasses: NUM_CLASSES,
    imageShape: [...IMAGE_SHAPE],
    pixelRange: [PIXEL_MIN, PIXEL_MAX],
    ...extra,
  };
}

/**
 * Runs a generator in inference mode. `latent` is [n, latentSize]; `labels` gives one class per
 * row and is required for a conditional generator. Returns [n, 28, 28, 1] in [-1, 1].
 */
export function generateImages(
  model: tf.LayersModel,
  meta: Pick<GeneratorMeta, 'conditional'>,
  latent: tf.Tensor2D,
  labels?: tf.Tensor1D | number[],
): tf.Tensor4D {
  return tf.tidy(() => {
    if (!meta.conditional) return model.predict(latent) as tf.Tensor4D;
    if (labels === undefined) throw new Error('generateImages: a conditional generator needs labels');
    const labelTensor = (Array.isArray(labels) ? tf.tensor1d(labels) : labels).toFloat().reshape([-1, 1]);
    return model.predict([latent, labelTensor]) as tf.Tensor4D;
  });
}
