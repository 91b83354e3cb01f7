import * as tf from '@tensorflow/tfjs';

interface NodeBackend {
  binding: { TF_ATTR_TYPE: number; TF_FLOAT: number; TF_INT32: number };
  executeSingleOutput(name: string, attrs: object[], inputs: tf.Tensor[]): tf.Tensor;
}

/**
 * Draws uniform numbers in [0, 1) of the given shape from a seed, with libtensorflow's
 * StatelessRandomUniform kernel when the active backend is tfjs-node (or tfjs-node-gpu).
 * tfjs's own seeded random ops fill the tensor one number at a time in JavaScript, which took
 * about a fifth of a training step for the discriminator's dropout masks.
 * Falls back to tf.randomUniform on other backends; the two give different numbers.
 */
export function statelessUniform(shape: number[], seed: number): tf.Tensor {
  const backend = tf.backend() as unknown as Partial<NodeBackend>;
  if (tf.getBackend() !== 'tensorflow' || !backend.executeSingleOutput || !backend.binding) {
    return tf.randomUniform(shape, 0, 1, 'float32', seed);
  }
  const { TF_ATTR_TYPE, TF_FLOAT, TF_INT32 } = backend.binding;
  return tf.tidy(() => {
    const shapeTensor = tf.tensor1d(shape, 'int32');
    // The kernel takes a two-part seed; the second part separates our streams from others'.
    const seedTensor = tf.tensor1d([seed | 0, 0x5eed], 'int32');
    return backend.executeSingleOutput!(
      'StatelessRandomUniform',
      [
        { name: 'dtype', type: TF_ATTR_TYPE, value: TF_FLOAT },
        { name: 'T', type: TF_ATTR_TYPE, value: TF_INT32 },
        { name: 'Tseed', type: TF_ATTR_TYPE, value: TF_INT32 },
      ],
      [shapeTensor, seedTensor],
    );
  });
}
