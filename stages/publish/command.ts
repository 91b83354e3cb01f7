import { CommandModule } from 'yargs';

import { UserError } from '../../lib/errors';
import { createLogger } from '../../lib/log/logger';
import { openStore } from '../../lib/storage/open';
import { checkKey, checkPrefix, joinKey } from '../../lib/storage/store';
import { loadBackend } from '../../lib/tensorflow/backend';
import { parseCategories } from './categories';
import { STORE_OPTION } from '../../lib/cli/options';

interface PublishArgs {
  store: string;
  model: string;
  metrics?: string;
  releases: string;
  gallery: string;
  lines: number;
  categories?: string;
  seed: number;
}

export const command: CommandModule<object, PublishArgs> = {
  command: 'publish',
  describe: 'Release a trained generator and write its gallery pages (static HTML) to the store',
  builder: (yargs) =>
    yargs
      .option('store', STORE_OPTION)
      .option('model', {
        type: 'string',
        demandOption: true,
        describe: "Train stage output prefix (the train stage's --out)",
      })
      .option('metrics', {
        type: 'string',
        describe: "Key of the evaluate stage's metrics.json (default: MODEL/metrics.json)",
      })
      .option('releases', { type: 'string', default: 'releases', describe: 'Prefix of releases' })
      .option('gallery', {
        type: 'string',
        default: 'gallery',
        describe: 'Prefix of the static gallery site; made publicly readable on S3',
      })
      .option('lines', {
        type: 'number',
        default: 8,
        describe: 'Styles (rows) of fashion lines on the release page',
      })
      .option('categories', {
        type: 'string',
        describe: 'Comma-separated categories of the lines (default: all ten)',
      })
      .option('seed', { type: 'number', default: 1, describe: "Seed of the lines' latent vectors" })
      .check((args) => {
        if (!Number.isInteger(args.lines) || args.lines < 1 || args.lines > 64) {
          throw new Error(`--lines must be a whole number from 1 to 64, got ${args.lines}`);
        }
        if (!Number.isInteger(args.seed)) throw new Error(`--seed must be a whole number, got ${args.seed}`);
        return true;
      }),
  handler: async (args) => {
    const logger = createLogger('publish');
    const started = Date.now();
    checkPrefix(args.model);
    checkPrefix(args.releases);
    checkPrefix(args.gallery);
    const metrics = args.metrics ?? joinKey(args.model, 'metrics.json');
    checkKey(metrics, '--metrics key');
    if (overlaps(joinKey(args.gallery), joinKey(args.releases))) {
      throw new UserError(
        `--gallery '${args.gallery}' and --releases '${args.releases}' must not contain one ` +
          'another: the gallery prefix is made public and releases stay private',
      );
    }
    const categories = args.categories ? parseCategories(args.categories) : undefined;

    loadBackend({ device: 'cpu' }, logger);
    // Loaded here, not at the top, so that `--help` does not wait for TensorFlow.js.
    const { publish } = await import('./publish');
    const store = openStore(args.store);
    try {
      const result = await publish(
        store,
        {
          model: args.model,
          metrics,
          releases: args.releases,
          gallery: args.gallery,
          lines: args.lines,
          categories,
          seed: args.seed,
        },
        logger,
      );
      logger.info('done', {
        seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
        store: store.url,
        release: result.releaseId,
        page: result.pageKey,
      });
    } finally {
      await store.close();
    }
  },
};

function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}
