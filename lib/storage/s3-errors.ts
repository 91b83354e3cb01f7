import { errorCodeOf, httpStatusOf, isTransientError } from './retry';
import { S3Config } from './s3-config';
import { StoreError } from './store';

/** S3 error codes of a key or upload that does not exist. */
const NOT_FOUND_CODES = new Set(['NoSuchKey', 'NotFound', 'NoSuchObject']);

/** Codes for an access key that the server does not know. versitygw 1.8.0 sends the second. */
const UNKNOWN_ACCESS_KEY_CODES = new Set(['InvalidAccessKeyId', 'XAdminUserNotFound']);

/**
 * Words a failed S3 request as one line for the user: what failed, on which bucket and key, and
 * what to fix. Messages name the credential variables, never their values. `attempts` is how
 * many times the request was sent, reported for transient errors that outlasted the retries.
 */
export function translateS3Error(
  error: unknown,
  config: S3Config,
  action: string,
  key: string,
  attempts: number,
): StoreError {
  if (error instanceof StoreError) return error;

  const where = `${config.url}: ${action} '${key}'`;
  const code = errorCodeOf(error);
  const fixCredentials = `check ${config.credentials.source}`;

  if (code && NOT_FOUND_CODES.has(code)) {
    return new StoreError(
      'not-found',
      `${config.url}: '${key}' not found (bucket '${config.bucket}', object ` +
        `'${objectKeyOf(config, key)}')`,
    );
  }
  if (code === 'NoSuchBucket') {
    return new StoreError(
      'no-such-bucket',
      `${config.url}: bucket '${config.bucket}' does not exist at ${config.endpoint}: create it` +
        ' or fix the bucket name in the store URL',
    );
  }
  if (code && UNKNOWN_ACCESS_KEY_CODES.has(code)) {
    return new StoreError(
      'access-denied',
      `${where} failed: ${config.endpoint} does not know the access key: ${fixCredentials}`,
    );
  }
  if (code === 'SignatureDoesNotMatch') {
    return new StoreError(
      'access-denied',
      `${where} failed: the secret key does not match the access key: ${fixCredentials}`,
    );
  }
  if (code === 'AccessDenied' || httpStatusOf(error) === 403) {
    return new StoreError(
      'access-denied',
      `${config.url}: access denied for key '${key}' (${action}): ${fixCredentials} and the` +
        ' permissions of that user on the bucket',
    );
  }

  if (isTransientError(error)) return translateTransient(error, config, where, attempts);

  const detail = error instanceof Error ? error.message : String(error);
  return new StoreError('failed', `${where} failed: ${code ? `${code}: ` : ''}${detail}`);
}

function translateTransient(
  error: unknown,
  config: S3Config,
  where: string,
  attempts: number,
): StoreError {
  const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
  const status = httpStatusOf(error);
  if (status !== undefined || errorCodeOf(error) === 'SlowDown') {
    const answer = status !== undefined ? `HTTP ${status}` : 'SlowDown';
    return new StoreError(
      'failed',
      `${where} failed: ${config.endpoint} kept answering ${answer} (server busy or failing)` +
        ` after ${tries}: retry later`,
      { temporary: true },
    );
  }

  const reason = errorCodeOf(error) ?? 'connection failed';
  return new StoreError(
    'unreachable',
    `${where} failed: S3 endpoint ${config.endpoint} unreachable (${reason}) after ${tries}:` +
      ` check that the server runs and that ${config.endpointSource} points to it`,
    { temporary: true },
  );
}

/** Returns the object key inside the bucket for a store key. */
export function objectKeyOf(config: S3Config, key: string): string {
  return config.prefix === '' ? key : `${config.prefix}/${key}`;
}

/** Maps NoSuchBucketPolicy to not-found, because a bucket without a policy has an empty one. */
export function normalizePolicyError(error: unknown): unknown {
  if ((error as { code?: string })?.code === 'NoSuchBucketPolicy') {
    return Object.assign(new Error('no bucket policy'), { code: 'NoSuchKey' });
  }
  return error;
}

/** Returns the verb phrase for an operation name in messages: `upload-part` gives `writing`. */
export function describeOperation(operation: string): string {
  const actions: Record<string, string> = {
    put: 'writing',
    'start-upload': 'writing',
    'upload-part': 'writing',
    'complete-upload': 'writing',
    'abort-upload': 'aborting the upload of',
    'list-uploads': 'listing unfinished uploads under',
    get: 'reading',
    stat: 'checking',
    list: 'listing',
    delete: 'deleting',
    'get-policy': 'reading the bucket policy for',
    'set-policy': 'setting the bucket policy for',
  };
  return actions[operation] ?? operation;
}
