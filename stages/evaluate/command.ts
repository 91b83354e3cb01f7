import { CommandModule } from 'yargs';

import { UserError } from '../../lib/errors';
import { createLogger } from '../../lib/log/logger';
import { openStore } from '../../lib/storage/open';
import { checkPrefix } from '../../lib/storage/store';
import { loadBackend } from '../../lib/tensorflow/backend';
import { EvaluateOptions, checkOptions, enforceGate, evaluateGenerator } from './evaluate';
import { formatReport } from './report';
import { DATASET_OPTION, STORE_OPTION } from '../../lib/cli/options';

/**
 * Upper bound of --samples. FID is commonly reported on 10000 or 50000 samples, and the classifier
 * features of 1000000 samples alone take 512 MB at 128 float32 each.
 */
export const MAX_SAMPLES = 1_000_000;

/**
 * Upper bound of --seed, the largest int32. Chunk c of 1000 latent vectors is drawn with the
 * seed seed * 100003 + c, which stays an exact integer (below 2^53) up to this seed, so no two
 * chunks of a run share their latent vectors.
 */
export const MAX_SEED = 2_147_483_647;

const NUMBER_TEXT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

interface EvaluateArgs {
  store: string;
  dataset: string;
  model: string;
  out?: string;
  // The number options have no yargs type, because yargs turns an empty value of a number option
  // (`--max-fid ''`) into 0. parseNumberArg reads what yargs then passes.
  samples: unknown;
  'max-fid'?: unknown;
  seed: unknown;
  'batch-size': unknown;
}

export const command: CommandModule<object, EvaluateArgs> = {
  command: 'evaluate',
  describe: 'Score a trained generator (FID-proxy, coverage) and apply the quality gate',
  builder: (yargs) =>
    yargs
      .option('store', STORE_OPTION)
      .option('dataset', DATASET_OPTION)
      .option('model', {
        type: 'string',
        demandOption: true,
        describe: 'Output prefix of the training run whose generator is scored',
      })
      .option('out', { type: 'string', describe: 'Key prefix for metrics.json (default: --model)' })
      .option('samples', {
        default: 10000,
        describe:
          `Images to generate, 2 to ${MAX_SAMPLES}; also the real images per side of the floor`,
      })
      .option('max-fid', {
        describe: 'Fail (exit 1) when the FID-proxy is above this number',
      })
      .option('seed', {
        default: 0,
        describe: `Seed of the latent vectors, an integer from 0 to ${MAX_SEED}`,
      })
      .option('batch-size', {
        default: 500,
        describe: 'Images per generator and classifier call',
      }),
  handler: async (args) => {
    const logger = createLogger('evaluate');
    checkPrefix(args.dataset);
    checkPrefix(args.model);
    if (args.out !== undefined) checkPrefix(args.out);
    const options: EvaluateOptions = {
      dataset: args.dataset,
      model: args.model,
      out: args.out,
      samples: parseNumberArg('samples', args.samples),
      maxFid: args['max-fid'] === undefined ? null : parseNumberArg('max-fid', args['max-fid']),
      seed: parseNumberArg('seed', args.seed),
      batchSize: parseNumberArg('batch-size', args['batch-size']),
    };
    // Bad numbers fail here, before libtensorflow takes seconds to load.
    checkOptions(options);
    checkRanges(options);
    loadBackend({ device: 'cpu' }, logger);

    const store = openStore(args.store);
    try {
      const { metrics } = await evaluateGenerator(store, options, logger);
      process.stdout.write(formatReport(metrics));
      enforceGate(metrics);
    } finally {
      await store.close();
    }
  },
};

/**
 * Parses a number option without a yargs type, which yargs passes as a number, as text that is no
 * number, or as true when the value is missing. The command line rejects repeated options.
 */
function parseNumberArg(option: string, value: unknown): number {
  if (typeof value === 'number') return value;

  const text = String(value).trim();
  if (text === '' || value === true) {
    throw new UserError(`evaluate: --${option} is empty, expected a number`);
  }
  if (!NUMBER_TEXT.test(text)) {
    throw new UserError(`evaluate: --${option} must be a number, got '${value}'`);
  }
  return Number(text);
}

/** Checks the upper bound of --samples and the range of --seed, after `checkOptions`. */
function checkRanges(options: EvaluateOptions): void {
  if (options.samples > MAX_SAMPLES) {
    throw new UserError(
      `evaluate: --samples must be at most ${MAX_SAMPLES}, got ${options.samples}. ` +
        'FID is usually computed on 10000 or 50000 samples.',
    );
  }
  if (!Number.isInteger(options.seed) || options.seed < 0 || options.seed > MAX_SEED) {
    throw new UserError(
      `evaluate: --seed must be an integer from 0 to ${MAX_SEED}, got ${options.seed}`,
    );
  }
}
