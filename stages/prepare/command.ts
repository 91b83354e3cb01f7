import { CommandModule } from 'yargs';

import { createLogger } from '../../lib/log/logger';
import { OFFICIAL_DOWNLOAD_URL, SourceFiles, downloadSource, readSourceFolder } from '../../lib/dataset/source';
import { UserError } from '../../lib/errors';
import { openStore } from '../../lib/storage/open';
import { checkPrefix } from '../../lib/storage/store';
import { prepareDataset } from './prepare';
import { STORE_OPTION } from '../../lib/cli/options';

interface PrepareArgs {
  source?: string;
  download: boolean;
  'download-url': string;
  store: string;
  out: string;
  'limit-train'?: number;
  'limit-test'?: number;
}

export const command: CommandModule<object, PrepareArgs> = {
  command: 'prepare',
  describe: 'Validate Fashion-MNIST IDX files and write a training-ready data set to the store',
  builder: (yargs) =>
    yargs
      .option('source', { type: 'string', describe: 'Folder with the four IDX files (.gz or not)' })
      .option('download', {
        type: 'boolean',
        default: false,
        describe: 'Download the files from the official location, checking their MD5 sums',
      })
      .option('download-url', { type: 'string', default: OFFICIAL_DOWNLOAD_URL, describe: 'Base URL to download from' })
      .option('store', STORE_OPTION)
      .option('out', { type: 'string', default: 'datasets/fashion-mnist', describe: 'Key prefix of the prepared data set' })
      .option('limit-train', { type: 'number', describe: 'Keep only the first N training samples' })
      .option('limit-test', { type: 'number', describe: 'Keep only the first N test samples' })
      .check((args) => {
        if (!args.source === !args.download) throw new Error('pass exactly one of --source DIR and --download');
        for (const name of ['limit-train', 'limit-test'] as const) {
          const value = args[name];
          if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
            throw new Error(`--${name} must be a positive integer, got ${value}`);
          }
        }
        return true;
      }),
  handler: async (args) => {
    const logger = createLogger('prepare');
    const started = Date.now();
    checkPrefix(args.out);
    const store = openStore(args.store);
    try {
      let files: SourceFiles;
      if (args.source) files = await readSourceFolder(args.source);
      else files = await downloadSource(args['download-url'], logger);
      const result = await prepareDataset(files, store, {
        out: args.out,
        limitTrain: args['limit-train'],
        limitTest: args['limit-test'],
        sourceDescription: args.source ? `folder ${args.source}` : args['download-url'],
      }, logger);
      logger.info('done', {
        seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
        store: store.url,
        manifest: `${args.out}/dataset.json`,
        unchanged: result.unchanged,
      });
    } finally {
      await store.close();
    }
  },
};

// Re-exported so that tests can tell a user error from a crash.
export { UserError };
