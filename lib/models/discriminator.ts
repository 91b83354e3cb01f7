import * as tf from '@tensorflow/tfjs';

import { IMAGE_PIXELS, IMAGE_SHAPE, IMAGE_SIZE, NUM_CLASSES } from '../constants';
import { SeededInitializers } from './initializers';
import { StepDropout } from './step-dropout';

export interface DiscriminatorConfig {
  conditional: boolean;
  /** Filters of the first strided convolution; the second has twice as many. */
  width: number;
  dropout: number;
  seed: number;
}

/**
 * Builds a discriminator: images [n, 28, 28, 1] in [-1, 1] (plus, when conditional, the class
 * label [n, 1] as float) to one logit per image; positive means "real".
 *
 * The label enters by concatenation: a learned 28x28 map per class is stacked onto the image
 * as a second channel, so the first convolution already sees which class is claimed.
 */
export function buildDiscriminator(config: DiscriminatorConfig): tf.LayersModel {
  const init = new SeededInitializers(config.seed + 1000);
  const image = tf.input({ shape: [...IMAGE_SHAPE], name: 'image' });
  const inputs: tf.SymbolicTensor[] = [image];
  let x: tf.SymbolicTensor = image;

  if (config.conditional) {
    const label = tf.input({ shape: [1], name: 'label' });
    inputs.push(label);
    const labelMap = tf.layers
      .embedding({ inputDim: NUM_CLASSES, outputDim: IMAGE_PIXELS, embeddingsInitializer: init.embedding(), name: 'label_map' })
      .apply(label) as tf.SymbolicTensor;
    const labelPlane = tf.layers
      .reshape({ targetShape: [IMAGE_SIZE, IMAGE_SIZE, 1], name: 'label_plane' })
      .apply(labelMap) as tf.SymbolicTensor;
    x = tf.layers.concatenate({ name: 'image_and_label' }).apply([image, labelPlane]) as tf.SymbolicTensor;
  }

  x = downsample(x, config.width, 'down14', config, init);
  x = downsample(x, config.width * 2, 'down7', config, init);
  x = tf.layers.flatten({ name: 'features' }).apply(x) as tf.SymbolicTensor;
  const logit = tf.layers.dense({ units: 1, kernelInitializer: init.kernel(), name: 'logit' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs, outputs: logit, name: 'discriminator' });
}

function downsample(
  input: tf.SymbolicTensor,
  filters: number,
  name: string,
  config: DiscriminatorConfig,
  init: SeededInitializers,
): tf.SymbolicTensor {
  let x = tf.layers
    .conv2d({ filters, kernelSize: 5, strides: 2, padding: 'same', kernelInitializer: init.normal(), name })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers.leakyReLU({ alpha: 0.2, name: `${name}_lrelu` }).apply(x) as tf.SymbolicTensor;
  return new StepDropout({ rate: config.dropout, name: `${name}_dropout` }).apply(x) as tf.SymbolicTensor;
}

/** Returns the dropout layers of a model, so that the training loop can seed them. */
export function dropoutLayers(model: tf.LayersModel): StepDropout[] {
  return model.layers.filter((layer): layer is StepDropout => layer instanceof StepDropout);
}
