import * as tf from '@tensorflow/tfjs';

import { statelessUniform } from '../tensorflow/stateless-random';

/**
 * Dropout whose masks come from a seed that changes on every call. tfjs's own Dropout layer with
 * a fixed seed draws the same mask on every step, and without one it is not reproducible.
 * The training loop sets `seedSource` to draw seeds from its checkpointed random state.
 */
export class StepDropout extends tf.layers.Layer {
  static readonly className = 'StepDropout';
  readonly rate: number;
  seedSource: () => number = () => Math.floor(Math.random() * 2 ** 31);

  constructor(config: { rate: number; name?: string }) {
    super(config);
    this.rate = config.rate;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs.training || this.rate === 0) return input;
    const rate = this.rate;
    const seed = this.seedSource();
    return tf.tidy(() => {
      const keep = statelessUniform(input.shape, seed).greaterEqual(rate);
      // Inverted dropout: scale the kept units so the expected activation is unchanged.
      return input.mul(keep.cast('float32')).mul(1 / (1 - rate));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate };
  }
}

tf.serialization.registerClass(StepDropout);
