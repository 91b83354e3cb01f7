import * as tf from '@tensorflow/tfjs';
import type { Initializer } from '@tensorflow/tfjs-layers/dist/initializers';

/**
 * Hands out seeded initializers, one seed per layer, so that `--seed` fixes every initial
 * weight. Without a seed, tfjs initializers draw from Math.random.
 */
export class SeededInitializers {
  private next: number;

  constructor(seed: number) {
    // Spread the layer seeds apart so that two models built from seeds 1 and 2 share none.
    this.next = (seed * 7919) % 2147483647;
  }

  kernel(): Initializer {
    return tf.initializers.glorotUniform({ seed: this.take() });
  }

  /** DCGAN's N(0, 0.02) initializer for convolution kernels. */
  normal(): Initializer {
    return tf.initializers.randomNormal({ mean: 0, stddev: 0.02, seed: this.take() });
  }

  embedding(): Initializer {
    return tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: this.take() });
  }

  private take(): number {
    this.next += 1;
    return this.next;
  }
}
