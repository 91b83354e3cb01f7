import * as http from 'http';
import { AddressInfo } from 'net';

import { Logger } from '../../lib/log/logger';
import { ArtifactStore, StoreError, checkKey, contentTypeFor, joinKey } from '../../lib/storage/store';

/** A running gallery server. */
export interface GalleryServer {
  /** Base URL, such as `http://127.0.0.1:8080/`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface GalleryServerOptions {
  /** Gallery prefix in the store, default `gallery`. */
  prefix?: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  logger: Logger;
}

/**
 * Serves the gallery prefix of a store over HTTP on 127.0.0.1 only, read-only, the way a
 * bucket's web endpoint would: `/x/` serves `x/index.html`, and a folder without its trailing
 * slash is redirected so that the page's relative links resolve.
 */
export async function startGalleryServer(
  store: ArtifactStore,
  options: GalleryServerOptions,
): Promise<GalleryServer> {
  const prefix = joinKey(options.prefix ?? 'gallery');
  const server = http.createServer((request, response) => {
    serve(store, prefix, request, response).catch((error) => {
      options.logger.error('request failed', { path: request.url, error: (error as Error).message });
      if (!response.headersSent) sendText(response, 500, 'internal error\n');
      else response.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function serve(
  store: ArtifactStore,
  prefix: string,
  request: http.IncomingMessage,
  response: http.ServerResponse,
): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    sendText(response, 405, 'method not allowed\n');
    return;
  }

  const pathname = decodePath(request.url ?? '/');
  if (pathname === null) {
    sendText(response, 400, 'invalid path\n');
    return;
  }
  const relative = pathname === '' || pathname.endsWith('/') ? `${pathname}index.html` : pathname;
  const key = joinKey(prefix, relative);
  try {
    checkKey(key);
  } catch {
    sendText(response, 404, 'not found\n');
    return;
  }

  if (!(await store.exists(key))) {
    if (await store.exists(joinKey(key, 'index.html'))) {
      response.writeHead(301, { Location: `${pathname.split('/').pop()}/` });
      response.end();
      return;
    }
    sendText(response, 404, 'not found\n');
    return;
  }

  let body: Buffer;
  try {
    // Whole objects, not getStream: gallery files are small (tf.min.js, 1.4 MB, is the largest),
    // and FileStore.getStream can crash the process with EBADF when its file handle is
    // garbage-collected while the stream still reads.
    body = await store.get(key);
  } catch (error) {
    // Deleted between exists() and get(), for example by a concurrent publish.
    if (error instanceof StoreError && error.code === 'not-found') {
      sendText(response, 404, 'not found\n');
      return;
    }
    throw error;
  }
  response.writeHead(200, {
    'Content-Type': contentTypeFor(key),
    'Content-Length': body.length,
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}

/** Returns the decoded path without its leading '/', or null when it does not decode. */
function decodePath(url: string): string | null {
  const raw = url.split(/[?#]/)[0];
  try {
    return decodeURIComponent(raw).replace(/^\/+/, '');
  } catch {
    return null;
  }
}

function sendText(response: http.ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  response.end(text);
}
