import { CommandModule } from 'yargs';

import { createLogger } from '../../lib/log/logger';
import { openStore } from '../../lib/storage/open';
import { checkPrefix } from '../../lib/storage/store';
import { loadBackend } from '../../lib/tensorflow/backend';
import { EvaluateOptions, checkOptions, enforceGate, evaluateGenerator } from './evaluate';
import { formatReport } from './report';
import { DATASET_OPTION, STORE_OPTION } from '../../lib/cli/options';

interface EvaluateArgs {
  store: string;
  dataset: string;
  model: string;
  out?: string;
  samples: number;
  'max-fid'?: number;
  seed: number;
  'batch-size': number;
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
        type: 'number',
        default: 10000,
        describe: 'Images to generate; also the real images per side of the floor (at least 2)',
      })
      .option('max-fid', {
        type: 'number',
        describe: 'Fail (exit 1) when the FID-proxy is above this value',
      })
      .option('seed', { type: 'number', default: 0, describe: 'Seed of the latent vectors' })
      .option('batch-size', {
        type: 'number',
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
      samples: args.samples,
      maxFid: args['max-fid'] ?? null,
      seed: args.seed,
      batchSize: args['batch-size'],
    };
    // Bad numbers fail here, before libtensorflow takes seconds to load.
    checkOptions(options);
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
