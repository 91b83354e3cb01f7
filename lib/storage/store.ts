import { Readable } from 'stream';

import { EXIT_TEMPORARY_FAILURE, UserError } from '../errors';

/**
 * An object store for pipeline artifacts: a local folder or an S3-compatible bucket.
 *
 * Keys are relative, '/'-separated paths such as `runs/abc/model/model.json`. Writes are atomic
 * from a reader's point of view: an object is either absent or complete under its key.
 */
export interface ArtifactStore {
  /** The store's URL without credentials, for logs and messages. */
  readonly url: string;

  /** Writes a whole object, replacing any object under the key. */
  put(key: string, body: Buffer | string, options?: PutOptions): Promise<void>;

  /** Writes an object from a stream without holding it whole in memory. */
  putStream(key: string, body: Readable, options?: PutOptions): Promise<void>;

  /** Reads a whole object; throws `StoreError` with code `not-found` when it is absent. */
  get(key: string): Promise<Buffer>;

  /** Opens an object for streaming; throws `StoreError` with code `not-found` when absent. */
  getStream(key: string): Promise<Readable>;

  /** Tells whether an object exists under the key. */
  exists(key: string): Promise<boolean>;

  /** Lists every key that starts with the prefix, recursively, in ascending order. */
  list(prefix: string): Promise<string[]>;

  /** Deletes an object; deleting a missing key is not an error. */
  delete(key: string): Promise<void>;

  /**
   * Makes every object under the prefix readable without credentials (the gallery), leaving the
   * rest of the store private. A local folder has no access control, so there it does nothing.
   */
  setPublicRead(prefix: string): Promise<void>;

  /** Releases connections; the store is not used afterwards. */
  close(): Promise<void>;
}

export interface PutOptions {
  /** MIME type stored with the object, used when the bucket serves it over HTTP. */
  contentType?: string;
}

export type StoreErrorCode =
  | 'not-found'
  | 'invalid-key'
  | 'invalid-url'
  | 'invalid-config'
  | 'unreachable'
  | 'access-denied'
  | 'no-such-bucket'
  | 'failed';

/**
 * A store operation that failed; the message names the store and the key. A `temporary` error
 * (the server unreachable or busy through every retry) exits with EXIT_TEMPORARY_FAILURE.
 */
export class StoreError extends UserError {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options: { temporary?: boolean } = {}) {
    super(message, options.temporary ? EXIT_TEMPORARY_FAILURE : 1);
    this.name = 'StoreError';
    this.code = code;
  }
}

const KEY_SEGMENT = /^[A-Za-z0-9._=+@-]+$/;

/**
 * Checks that a key is a relative path that cannot leave the store's prefix and returns it.
 * Rejects empty keys, absolute paths, `.` and `..` segments, empty segments and characters
 * outside letters, digits and `._=+@-`.
 */
export function checkKey(key: string, what = 'key'): string {
  const problem = keyProblem(key);
  if (problem) {
    throw new StoreError('invalid-key', `invalid ${what} '${key}': ${problem}`);
  }
  return key;
}

/** Checks a listing prefix: empty, or a key that may end with '/'. */
export function checkPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  checkKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix, 'prefix');
  return prefix;
}

function keyProblem(key: string): string | undefined {
  if (key.length === 0) return 'it is empty';
  if (key.length > 900) return 'it is longer than 900 characters';
  if (key.startsWith('/')) return 'it is an absolute path';
  if (key.includes('\\')) return 'it contains a backslash';
  for (const segment of key.split('/')) {
    if (segment === '') return 'it has an empty path segment';
    if (segment === '.' || segment === '..') return `it has a '${segment}' segment`;
    if (!KEY_SEGMENT.test(segment)) return `segment '${segment}' has characters outside [A-Za-z0-9._=+@-]`;
  }
  return undefined;
}

/** Joins key segments with '/', ignoring empty ones. */
export function joinKey(...parts: string[]): string {
  return parts
    .flatMap((part) => part.split('/'))
    .filter((segment) => segment !== '')
    .join('/');
}

/** Guesses a MIME type from a key's extension, for objects served over HTTP. */
export function contentTypeFor(key: string): string {
  const extension = key.slice(key.lastIndexOf('.') + 1).toLowerCase();
  const types: Record<string, string> = {
    html: 'text/html; charset=utf-8',
    css: 'text/css; charset=utf-8',
    js: 'text/javascript; charset=utf-8',
    json: 'application/json',
    jsonl: 'application/x-ndjson',
    png: 'image/png',
    svg: 'image/svg+xml',
    txt: 'text/plain; charset=utf-8',
  };
  return types[extension] ?? 'application/octet-stream';
}
