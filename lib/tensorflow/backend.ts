import * as tf from '@tensorflow/tfjs';

import { UserError } from '../errors';
import { Logger } from '../log/logger';

export type Device = 'cpu' | 'gpu';

export interface BackendOptions {
  device: Device;
  /** Leave TF_FORCE_GPU_ALLOW_GROWTH as it is instead of turning memory growth on. */
  gpuMemoryGrowth?: boolean;
  /** Run on the pure-JavaScript `cpu` backend when libtensorflow cannot load. */
  allowJsBackend?: boolean;
}

export interface BackendInfo {
  /** tfjs backend name: `tensorflow` on libtensorflow, `cpu` for pure JavaScript. */
  name: string;
  device: Device | 'js';
  /** The npm package that provided the backend. */
  packageName: string;
  /** True when the tfjs-node-gpu binding placed work on a GPU. */
  usingGpu: boolean;
  tfVersion: string;
}

const PACKAGES: Record<Device, string> = {
  cpu: '@tensorflow/tfjs-node',
  gpu: '@tensorflow/tfjs-node-gpu',
};

let loaded: BackendInfo | undefined;

/**
 * Loads libtensorflow through tfjs-node (CPU) or tfjs-node-gpu (GPU) and makes it the active
 * backend. Throws a `UserError` when the binding does not load, unless `allowJsBackend` is set:
 * the pure-JavaScript backend is over a hundred times slower and never chosen silently.
 */
export function loadBackend(options: BackendOptions, logger?: Logger): BackendInfo {
  if (loaded) {
    if (loaded.device !== options.device && loaded.device !== 'js') {
      throw new UserError(
        `TensorFlow backend: ${loaded.packageName} is already loaded, cannot switch to ${options.device}`,
      );
    }
    return loaded;
  }

  if (options.device === 'gpu' && options.gpuMemoryGrowth !== false) {
    // Read by libtensorflow when the GPU device is created, so it must be set before the binding
    // loads. Without it TensorFlow takes nearly all GPU memory at start-up.
    process.env.TF_FORCE_GPU_ALLOW_GROWTH ??= 'true';
  }
  // Hide libtensorflow's start-up chatter unless the user asked for it.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';

  const packageName = PACKAGES[options.device];
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(packageName);
  } catch (error) {
    const reason = firstLine(error);
    if (!options.allowJsBackend) {
      throw new UserError(
        `TensorFlow backend: ${packageName} failed to load (${reason}); run 'npm run setup'` +
          (options.device === 'gpu' ? ' with the gpu argument' : '') +
          ', or pass --allow-js-backend to run on the slow pure-JavaScript backend',
      );
    }
    logger?.warn('libtensorflow failed to load; running on the pure-JavaScript backend', {
      package: packageName,
      reason,
    });
    tf.setBackend('cpu');
    loaded = { name: 'cpu', device: 'js', packageName: '@tensorflow/tfjs', usingGpu: false, tfVersion: tf.version.tfjs };
    return loaded;
  }

  if (tf.getBackend() !== 'tensorflow') {
    throw new UserError(`TensorFlow backend: ${packageName} loaded but the active backend is '${tf.getBackend()}'`);
  }
  const backend = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
  loaded = {
    name: 'tensorflow',
    device: options.device,
    packageName,
    usingGpu: backend.isUsingGpuDevice === true,
    tfVersion: tf.version.tfjs,
  };
  logger?.info('TensorFlow backend ready', {
    backend: loaded.name,
    device: loaded.device,
    package: packageName,
    gpu_in_use: loaded.usingGpu,
    gpu_memory_growth: options.device === 'gpu' ? process.env.TF_FORCE_GPU_ALLOW_GROWTH : undefined,
  });
  if (options.device === 'gpu' && !loaded.usingGpu) {
    logger?.warn('tfjs-node-gpu loaded but TensorFlow sees no GPU; work runs on the CPU');
  }
  return loaded;
}

/** Returns the backend loaded so far, if any. */
export function currentBackend(): BackendInfo | undefined {
  return loaded;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0];
}
