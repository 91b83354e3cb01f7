import { readFileSync, statSync } from 'fs';
import * as path from 'path';

import { DEFAULT_RETRY_POLICY, RetryPolicy } from './retry';
import { StoreError, checkPrefix } from './store';

/** Smallest part that S3 accepts in a multipart upload, except for the last part. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;

/** Default multipart part size: the memory a streamed upload holds, in bytes (16 MiB). */
export const DEFAULT_PART_SIZE = 16 * 1024 * 1024;

/** Credentials for signing requests. They are never logged or put in a message or URL. */
export interface S3Credentials {
  accessKey: string;
  secretKey: string;
  sessionToken?: string;
  /** Origin of the credentials for messages: the variable names or the credentials folder. */
  source: string;
}

/** Everything an S3 store needs, resolved from a store URL and the environment. */
export interface S3Config {
  bucket: string;
  /** Key prefix inside the bucket without a trailing '/', '' for the bucket root. */
  prefix: string;
  /** The store URL without credentials: `s3://bucket/prefix`. */
  url: string;
  /** Endpoint as `http(s)://host:port`, for messages. */
  endpoint: string;
  /** Environment variable that set the endpoint, or AWS_REGION for the AWS S3 default. */
  endpointSource: string;
  host: string;
  port: number;
  useSSL: boolean;
  region: string;
  /** Path-style (`host/bucket/key`) rather than virtual-hosted (`bucket.host/key`) requests. */
  pathStyle: boolean;
  credentials: S3Credentials;
  retry: RetryPolicy;
  /** Multipart part size in bytes, at least `MIN_PART_SIZE`. */
  partSize: number;
  /** A request with no socket activity for this long fails as timed out, in milliseconds. */
  requestTimeoutMs: number;
}

/** Environment variables, in order, that name a custom endpoint. */
const ENDPOINT_VARIABLES = [
  'FASHION_GAN_S3_ENDPOINT',
  'AWS_ENDPOINT_URL_S3',
  'AWS_ENDPOINT_URL',
  'S3_ENDPOINT',
];

type Environment = Record<string, string | undefined>;

/**
 * Splits `s3://bucket/prefix` into the bucket and the key prefix (no trailing '/').
 * Rejects URLs without a bucket, with credentials in them, or with an invalid prefix.
 */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const rest = url.slice('s3://'.length);
  const [bucket, ...prefixParts] = rest.split('/');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    // The bucket part is echoed only when it cannot be a user:secret pair.
    const bucketText = bucket.includes('@') || bucket.includes(':') ? '<hidden>' : `'${bucket}'`;
    throw new StoreError(
      'invalid-url',
      `invalid store URL: bucket ${bucketText} must be 3-63 lowercase letters, digits, '.' or '-'` +
        ' (credentials go in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, never in the URL)',
    );
  }

  const prefix = prefixParts.filter((part) => part !== '').join('/');
  if (prefix !== '') checkPrefix(prefix);
  return { bucket, prefix };
}

/**
 * Resolves the configuration of `s3://bucket/prefix` from environment variables:
 * - endpoint: FASHION_GAN_S3_ENDPOINT, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL or S3_ENDPOINT, a
 *   full `http(s)://host[:port]` URL whose scheme turns TLS off or on. Without one, AWS S3 in
 *   AWS_REGION is used, and only when AWS_REGION or AWS_DEFAULT_REGION is set;
 * - region: AWS_REGION, AWS_DEFAULT_REGION, default `us-east-1`;
 * - path-style requests for custom endpoints unless FASHION_GAN_S3_PATH_STYLE=false;
 * - credentials: FASHION_GAN_S3_CREDENTIALS_FILE (see `readCredentialsFolder`), else
 *   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the optional AWS_SESSION_TOKEN;
 * - retries: FASHION_GAN_S3_RETRIES (count), FASHION_GAN_S3_RETRY_BASE_MS (first delay);
 * - FASHION_GAN_S3_PART_SIZE_MB (multipart part size, at least 5),
 *   FASHION_GAN_S3_TIMEOUT_S (idle time before a request fails, default 60).
 */
export function loadS3Config(url: string, env: Environment = process.env): S3Config {
  const { bucket, prefix } = parseS3Url(url);
  const storeUrl = prefix === '' ? `s3://${bucket}` : `s3://${bucket}/${prefix}`;
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  const endpointVariable = ENDPOINT_VARIABLES.find((name) => (env[name] ?? '') !== '');

  let endpoint: URL;
  let pathStyle: boolean;
  if (endpointVariable) {
    endpoint = parseEndpoint(storeUrl, endpointVariable, env[endpointVariable] as string);
    pathStyle = parseBoolean(storeUrl, 'FASHION_GAN_S3_PATH_STYLE', env, true);
  } else if (env.AWS_REGION || env.AWS_DEFAULT_REGION) {
    endpoint = new URL(`https://s3.${region}.amazonaws.com`);
    pathStyle = parseBoolean(storeUrl, 'FASHION_GAN_S3_PATH_STYLE', env, false);
  } else {
    throw new StoreError(
      'invalid-config',
      `${storeUrl}: no S3 endpoint configured: set FASHION_GAN_S3_ENDPOINT (or AWS_ENDPOINT_URL)` +
        ' to http(s)://host:port, or AWS_REGION to use AWS S3',
    );
  }

  const useSSL = endpoint.protocol === 'https:';
  let port = useSSL ? 443 : 80;
  if (endpoint.port !== '') port = Number(endpoint.port);
  return {
    bucket,
    prefix,
    url: storeUrl,
    endpoint: `${endpoint.protocol}//${endpoint.host}`,
    endpointSource: endpointVariable ?? (env.AWS_REGION ? 'AWS_REGION' : 'AWS_DEFAULT_REGION'),
    host: endpoint.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    useSSL,
    region,
    pathStyle,
    credentials: loadCredentials(storeUrl, env),
    retry: {
      ...DEFAULT_RETRY_POLICY,
      retries: parseInteger(
        storeUrl,
        'FASHION_GAN_S3_RETRIES',
        env,
        DEFAULT_RETRY_POLICY.retries,
        0,
      ),
      baseDelayMs: parseInteger(
        storeUrl,
        'FASHION_GAN_S3_RETRY_BASE_MS',
        env,
        DEFAULT_RETRY_POLICY.baseDelayMs,
        1,
      ),
    },
    partSize:
      parseInteger(storeUrl, 'FASHION_GAN_S3_PART_SIZE_MB', env, DEFAULT_PART_SIZE >> 20, 5) << 20,
    requestTimeoutMs: parseInteger(storeUrl, 'FASHION_GAN_S3_TIMEOUT_S', env, 60, 1) * 1000,
  };
}

function parseEndpoint(storeUrl: string, variable: string, value: string): URL {
  let endpoint: URL;
  try {
    endpoint = new URL(value);
  } catch {
    throw new StoreError(
      'invalid-config',
      `${storeUrl}: ${variable} must be a URL such as http://127.0.0.1:9000, got '${value}'`,
    );
  }
  // The value is not echoed from here on, because it may carry a user name and password.
  if (endpoint.username !== '' || endpoint.password !== '') {
    throw new StoreError(
      'invalid-config',
      `${storeUrl}: ${variable} contains credentials: remove them from the URL and set` +
        ' AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY instead',
    );
  }
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') {
    throw new StoreError(
      'invalid-config',
      `${storeUrl}: ${variable} must start with http:// or https://, got '${endpoint.protocol}'`,
    );
  }
  if (endpoint.pathname !== '/' || endpoint.search !== '') {
    throw new StoreError(
      'invalid-config',
      `${storeUrl}: ${variable} must be scheme://host[:port] without a path or query` +
        ' (put the bucket and prefix in the s3:// URL)',
    );
  }
  return endpoint;
}

function loadCredentials(storeUrl: string, env: Environment): S3Credentials {
  const folder = env.FASHION_GAN_S3_CREDENTIALS_FILE;
  if (folder) return readCredentialsFolder(storeUrl, folder);

  const accessKey = env.AWS_ACCESS_KEY_ID ?? '';
  const secretKey = env.AWS_SECRET_ACCESS_KEY ?? '';
  if (accessKey === '' || secretKey === '') {
    const missing = accessKey === '' ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY';
    throw new StoreError(
      'invalid-config',
      `${storeUrl}: no S3 credentials: ${missing} is not set; set AWS_ACCESS_KEY_ID and` +
        ' AWS_SECRET_ACCESS_KEY, or FASHION_GAN_S3_CREDENTIALS_FILE to a credentials folder',
    );
  }
  const sessionToken = env.AWS_SESSION_TOKEN || undefined;
  return hideSecrets({
    accessKey,
    secretKey,
    sessionToken,
    source: 'AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY',
  });
}

/**
 * Reads credentials from a folder laid out like a mounted Kubernetes Secret: one file per
 * entry, `accessKey` and `secretKey`, and `sessionToken` when temporary credentials are used.
 * Surrounding whitespace (the trailing newline of `echo`) is removed.
 */
export function readCredentialsFolder(storeUrl: string, folder: string): S3Credentials {
  const source = `FASHION_GAN_S3_CREDENTIALS_FILE (${folder})`;
  let isFolder = false;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch {
    throw new StoreError('invalid-config', `${storeUrl}: ${source}: folder not found`);
  }
  if (!isFolder) {
    throw new StoreError(
      'invalid-config',
      `${storeUrl}: ${source}: expected a folder with 'accessKey' and 'secretKey' files` +
        ' (a mounted Kubernetes Secret), got a file',
    );
  }

  const readEntry = (name: string, required: boolean): string | undefined => {
    try {
      const value = readFileSync(path.join(folder, name), 'utf8').trim();
      if (value !== '') return value;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new StoreError('invalid-config', `${storeUrl}: ${source}: cannot read '${name}'`);
      }
    }
    if (required) {
      throw new StoreError(
        'invalid-config',
        `${storeUrl}: ${source}: '${name}' is missing or empty`,
      );
    }
    return undefined;
  };

  return hideSecrets({
    accessKey: readEntry('accessKey', true) as string,
    secretKey: readEntry('secretKey', true) as string,
    sessionToken: readEntry('sessionToken', false),
    source,
  });
}

/**
 * Makes the secret key and session token non-enumerable, so that logging or serializing a
 * configuration (util.inspect, JSON.stringify, object spread) leaves them out.
 */
function hideSecrets(credentials: S3Credentials): S3Credentials {
  for (const name of ['secretKey', 'sessionToken'] as const) {
    Object.defineProperty(credentials, name, { enumerable: false });
  }
  return credentials;
}

function parseBoolean(storeUrl: string, name: string, env: Environment, fallback: boolean) {
  const value = (env[name] ?? '').toLowerCase();
  if (value === '') return fallback;
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no'].includes(value)) return false;
  throw new StoreError(
    'invalid-config',
    `${storeUrl}: ${name} must be true or false, got '${value}'`,
  );
}

function parseInteger(
  storeUrl: string,
  name: string,
  env: Environment,
  fallback: number,
  minimum: number,
): number {
  const value = env[name] ?? '';
  if (value === '') return fallback;
  if (!/^\d+$/.test(value) || Number(value) < minimum) {
    throw new StoreError(
      'invalid-config',
      `${storeUrl}: ${name} must be a whole number of at least ${minimum}, got '${value}'`,
    );
  }
  return Number(value);
}
