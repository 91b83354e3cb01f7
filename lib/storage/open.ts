import * as path from 'path';
import { fileURLToPath } from 'url';

import { FileStore } from './file-store';
import { createS3Store } from './s3-store';
import { ArtifactStore, StoreError } from './store';

/**
 * Opens the store that a URL names:
 * - `file://./artifacts` or `file:///abs/path`: a local folder, relative paths from the
 *   current directory;
 * - `s3://bucket/prefix`: an S3-compatible bucket, with the endpoint and credentials from the
 *   environment (see s3-store.ts).
 */
export function openStore(url: string): ArtifactStore {
  if (url.startsWith('file://')) {
    const rest = url.slice('file://'.length);
    if (rest === '') throw new StoreError('invalid-url', `invalid store URL '${url}': no folder given`);
    // file://./x and file://x are relative; file:///x is absolute.
    const folder = rest.startsWith('/') ? fileURLToPath(`file://${rest}`) : path.resolve(rest);
    return new FileStore(folder);
  }
  if (url.startsWith('s3://')) return createS3Store(url);
  throw new StoreError(
    'invalid-url',
    `invalid store URL '${url}': expected file://FOLDER or s3://BUCKET[/PREFIX]`,
  );
}
