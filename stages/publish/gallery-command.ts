import { CommandModule } from 'yargs';

import { UserError } from '../../lib/errors';
import { createLogger } from '../../lib/log/logger';
import { openStore } from '../../lib/storage/open';
import { checkPrefix } from '../../lib/storage/store';
import { startGalleryServer } from './gallery-server';
import { STORE_OPTION } from '../../lib/cli/options';

interface GalleryArgs {
  store: string;
  gallery: string;
  port: number;
}

/** `fashion-gan gallery`: serves the published gallery on 127.0.0.1 until interrupted. */
export const command: CommandModule<object, GalleryArgs> = {
  command: 'gallery',
  describe: 'Serve the gallery prefix of a store on http://127.0.0.1:PORT/ for browsing',
  builder: (yargs) =>
    yargs
      .option('store', STORE_OPTION)
      .option('gallery', { type: 'string', default: 'gallery', describe: 'Prefix of the gallery' })
      .option('port', { type: 'number', default: 8080, describe: 'TCP port on 127.0.0.1; 0 picks one' }),
  handler: async (args) => {
    const logger = createLogger('gallery');
    checkPrefix(args.gallery);
    if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) {
      throw new UserError(`--port: expected a TCP port from 0 to 65535, got ${args.port}`);
    }
    const store = openStore(args.store);

    let server;
    try {
      server = await startGalleryServer(store, { prefix: args.gallery, port: args.port, logger });
    } catch (error) {
      await store.close();
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') {
        throw new UserError(`--port: port ${args.port} on 127.0.0.1 is in use; pick another`);
      }
      throw error;
    }
    logger.info('serving gallery', { url: `${server.url}index.html`, store: store.url });
    process.stdout.write(`${server.url}index.html\n`);

    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    await store.close();
    logger.info('stopped');
  },
};
