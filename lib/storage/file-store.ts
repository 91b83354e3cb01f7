import { randomBytes } from 'crypto';
import { createWriteStream, promises as fs, statSync } from 'fs';
import * as path from 'path';
import { Readable } from 'stream';
import { pipeline } from 'stream/promises';

import { ArtifactStore, PutOptions, StoreError, checkKey, checkPrefix } from './store';

/** Folder inside the root where objects are written before they are renamed into place. */
const PARTIAL_DIR = '.partial';

/**
 * An artifact store in a local folder, the embedded default for local runs and tests.
 * A write goes to a file under `<root>/.partial/` and is renamed to its key, so a reader never
 * sees a half-written object and a killed writer leaves only a stray partial file.
 */
export class FileStore implements ArtifactStore {
  readonly url: string;
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.url = `file://${this.root}`;
  }

  async put(key: string, body: Buffer | string, _options?: PutOptions): Promise<void> {
    await this.writeAtomically(key, async (file) => fs.writeFile(file, body));
  }

  async putStream(key: string, body: Readable, _options?: PutOptions): Promise<void> {
    await this.writeAtomically(key, async (file) => pipeline(body, createWriteStream(file)));
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await fs.readFile(this.pathOf(key));
    } catch (error) {
      // A folder under the key is a prefix of other keys, as in a bucket, not an object.
      if ((error as NodeJS.ErrnoException).code === 'EISDIR') throw this.notFound(key);
      throw this.translate(error, key);
    }
  }

  async getStream(key: string): Promise<Readable> {
    const file = this.pathOf(key);
    try {
      const handle = await fs.open(file, 'r');
      if (!(await handle.stat()).isFile()) {
        await handle.close();
        throw this.notFound(key);
      }
      // The stream owns the handle, so the handle cannot be garbage-collected (closing its fd)
      // while the stream still reads from it.
      return handle.createReadStream();
    } catch (error) {
      throw this.translate(error, key);
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await fs.stat(this.pathOf(key))).isFile();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw this.translate(error, key);
    }
  }

  async list(prefix: string): Promise<string[]> {
    checkPrefix(prefix);
    // Walk only the folder that contains the prefix, not the whole store.
    const folderKey = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const keys: string[] = [];
    await this.walk(folderKey, keys);
    return keys.filter((key) => key.startsWith(prefix)).sort();
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    try {
      await fs.unlink(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw this.translate(error, key);
    }
    // Folders stand in for key prefixes, so one left empty is removed like a bucket would.
    for (let folder = path.dirname(file); folder.startsWith(this.root + path.sep); folder = path.dirname(folder)) {
      try {
        await fs.rmdir(folder);
      } catch {
        break;
      }
    }
  }

  async setPublicRead(_prefix: string): Promise<void> {
    // A local folder has no access control; the layout is the same as in a bucket.
  }

  async close(): Promise<void> {}

  /** Returns the file path of a key after checking that the key stays inside the root. */
  pathOf(key: string): string {
    checkKey(key);
    if (key.split('/')[0] === PARTIAL_DIR) {
      throw new StoreError('invalid-key', `invalid key '${key}': '${PARTIAL_DIR}' is reserved`);
    }
    return path.join(this.root, ...key.split('/'));
  }

  private async writeAtomically(key: string, write: (file: string) => Promise<void>) {
    const target = this.pathOf(key);
    const partialDir = path.join(this.root, PARTIAL_DIR);
    const partial = path.join(partialDir, `${randomBytes(8).toString('hex')}-${path.basename(target)}`);
    try {
      await fs.mkdir(partialDir, { recursive: true });
      await fs.mkdir(path.dirname(target), { recursive: true });
      await write(partial);
      await fs.rename(partial, target);
    } catch (error) {
      await fs.rm(partial, { force: true });
      throw this.translate(error, key);
    }
  }

  private async walk(folderKey: string, keys: string[]): Promise<void> {
    const folder = folderKey === '' ? this.root : path.join(this.root, ...folderKey.split('/'));
    let entries;
    try {
      entries = await fs.readdir(folder, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw this.translate(error, folderKey);
    }
    for (const entry of entries) {
      const key = folderKey === '' ? entry.name : `${folderKey}/${entry.name}`;
      if (folderKey === '' && entry.name === PARTIAL_DIR) continue;
      if (entry.isDirectory()) await this.walk(key, keys);
      else if (entry.isFile()) keys.push(key);
    }
  }

  private notFound(key: string): StoreError {
    return new StoreError('not-found', `${this.url}: '${key}' not found`);
  }

  private translate(error: unknown, key: string): Error {
    return translateFileError(error, this.url, this.root, key);
  }
}

/**
 * Converts a filesystem error on the object `key` of the file store at `url` (folder `root`) into
 * a `StoreError` whose message names the store, the key and the problem. A `StoreError` passes
 * through unchanged.
 */
export function translateFileError(error: unknown, url: string, root: string, key: string): Error {
  if (error instanceof StoreError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new StoreError('not-found', `${url}: '${key}' not found`);
  if (code === 'EACCES' || code === 'EPERM') {
    return new StoreError('access-denied', `${url}: permission denied on '${key}'`);
  }
  // Only calls that change the file system fail with EROFS, and no change of file mode helps.
  if (code === 'EROFS') {
    return new StoreError(
      'access-denied',
      `${url}: read-only file system, cannot write '${key}'. ` +
        'Choose a store folder on a writable file system.',
    );
  }
  if (code === 'ENOTDIR' && isFile(root)) {
    return new StoreError('failed', `${url}: is a file, expected a folder`);
  }
  if (code === 'EISDIR' || code === 'ENOTDIR') {
    return new StoreError('failed', `${url}: '${key}' collides with a folder of the same name`);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new StoreError('failed', `${url}: writing or reading '${key}' failed: ${message}`);
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
