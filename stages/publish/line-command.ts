import { promises as fs } from 'fs';
import * as path from 'path';

import { CommandModule } from 'yargs';

import { CATEGORY_SLUGS } from '../../lib/constants';
import { UserError } from '../../lib/errors';
import { createLogger } from '../../lib/log/logger';
import { openStore } from '../../lib/storage/open';
import { checkPrefix } from '../../lib/storage/store';
import { loadBackend } from '../../lib/tensorflow/backend';
import { parseCategories } from './categories';
import { NamedPng, encodeGrid, encodeLines } from './line-images';
import { STORE_OPTION } from '../../lib/cli/options';

interface LineArgs {
  store: string;
  model: string;
  categories: string;
  styles: number;
  seed: number;
  out: string;
  walk?: number;
  scale: number;
}

/**
 * `fashion-gan line`: draws fashion lines from a stored generator into a local folder. It writes
 * local files, not store keys, because a line is a sketch to look at or attach. The gallery's
 * lines are written by `publish`.
 */
export const command: CommandModule<object, LineArgs> = {
  command: 'line',
  describe: 'Draw fashion lines (one latent style in several categories) as PNGs in a folder',
  builder: (yargs) =>
    yargs
      .option('store', STORE_OPTION)
      .option('model', {
        type: 'string',
        demandOption: true,
        describe: "Prefix holding model/generator/: the train stage's --out or a release",
      })
      .option('categories', {
        type: 'string',
        default: CATEGORY_SLUGS.join(','),
        describe: `Comma-separated categories (columns): ${CATEGORY_SLUGS.join(', ')}`,
      })
      .option('styles', { type: 'number', default: 8, describe: 'Latent styles (rows)' })
      .option('seed', { type: 'number', default: 7, describe: 'Seed of the latent vectors' })
      .option('out', { type: 'string', demandOption: true, describe: 'Local folder for the PNGs' })
      .option('walk', {
        type: 'number',
        describe: 'Also write walk.png: N frames from style 1 to style 2, per category',
      })
      .option('scale', {
        type: 'number',
        default: 4,
        describe: 'Nearest-neighbour upscaling of each 28-pixel image',
      }),
  handler: async (args) => {
    const logger = createLogger('line');
    const labels = parseCategories(args.categories);
    checkWholeNumber('--styles', args.styles, 1);
    checkWholeNumber('--scale', args.scale, 1);
    if (args.walk !== undefined) checkWholeNumber('--walk', args.walk, 2);
    checkPrefix(args.model);

    // Loaded here, not at the top, so that `--help` does not wait for TensorFlow.js.
    const { loadGenerator } = await import('../../lib/models/generator-store');
    const { renderLines, renderWalk } = await import('./lines');
    const { requireGenerator } = await import('./release');

    const store = openStore(args.store);
    try {
      await requireGenerator(store, args.model);
      loadBackend({ device: 'cpu' }, logger);
      const generator = await loadGenerator(store, args.model);
      try {
        const request = { labels, styles: args.styles, seed: args.seed };
        const files: NamedPng[] = encodeLines(renderLines(generator, request), labels, args.scale);
        if (args.walk !== undefined) {
          const walk = renderWalk(generator, request, args.walk);
          files.push({ name: 'walk.png', body: encodeGrid(walk, args.scale) });
        }
        const description = {
          store: store.url,
          model: args.model,
          runId: generator.meta.runId,
          categories: labels.map((label) => CATEGORY_SLUGS[label]),
          styles: args.styles,
          seed: args.seed,
          walkFrames: args.walk ?? null,
          scale: args.scale,
          files: files.map((file) => file.name),
        };
        files.push({ name: 'line.json', body: Buffer.from(`${JSON.stringify(description, null, 2)}\n`) });
        await writeFiles(args.out, files);
        logger.info('lines written', { out: args.out, files: files.length, styles: args.styles });
      } finally {
        generator.model.dispose();
      }
    } finally {
      await store.close();
    }
  },
};

function checkWholeNumber(option: string, value: number, minimum: number): void {
  if (!Number.isInteger(value) || value < minimum) {
    throw new UserError(`${option}: expected a whole number of at least ${minimum}, got ${value}`);
  }
}

/** Writes each file through a temporary name and a rename, so no reader sees half a PNG. */
async function writeFiles(folder: string, files: NamedPng[]): Promise<void> {
  try {
    await fs.mkdir(folder, { recursive: true });
  } catch (error) {
    throw new UserError(`--out: cannot create folder '${folder}' (${(error as Error).message})`);
  }
  for (const file of files) {
    const target = path.join(folder, file.name);
    const partial = `${target}.partial-${process.pid}`;
    await fs.writeFile(partial, file.body);
    await fs.rename(partial, target);
  }
}
