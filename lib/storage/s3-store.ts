import * as http from 'http';
import * as https from 'https';
import * as Minio from 'minio';
import { Readable } from 'stream';
import { inspect } from 'util';

import { Logger, createLogger } from '../log/logger';
import { RetryPolicy, withRetry } from './retry';
import { MIN_PART_SIZE, S3Config, loadS3Config } from './s3-config';
import {
  describeOperation,
  normalizePolicyError,
  objectKeyOf,
  translateS3Error,
} from './s3-errors';
import { BucketPolicy, emptyBucketPolicy, parseBucketPolicy, withPublicRead } from './s3-policy';
import { timedRequest } from './s3-transport';
import { uploadStream } from './s3-upload';
import {
  ArtifactStore,
  PutOptions,
  StoreError,
  checkKey,
  checkPrefix,
  contentTypeFor,
} from './store';

/** Overrides for tests and tools; everything else comes from the environment. */
export interface S3StoreOptions {
  /** Environment to read the configuration from (default `process.env`). */
  env?: Record<string, string | undefined>;
  retry?: Partial<RetryPolicy>;
  /** Multipart part size in bytes, at least 5 MiB. */
  partSize?: number;
  logger?: Logger;
}

/** Keys per ListObjectsV2 page: the S3 maximum. */
const LIST_PAGE_SIZE = 1000;

/** Opens `s3://bucket/prefix`, configured from the environment as `loadS3Config` describes. */
export function createS3Store(url: string, options: S3StoreOptions = {}): S3Store {
  const config = loadS3Config(url, options.env);
  if (options.retry) config.retry = { ...config.retry, ...options.retry };
  if (options.partSize !== undefined) {
    if (options.partSize < MIN_PART_SIZE) {
      throw new StoreError(
        'invalid-config',
        `${url}: part size must be at least ${MIN_PART_SIZE} bytes`,
      );
    }
    config.partSize = options.partSize;
  }
  return new S3Store(config, options.logger);
}

/**
 * An artifact store in an S3-compatible bucket, over the minio client. Every request is retried
 * after transient errors (lib/storage/retry.ts) and failures become `StoreError`s whose message
 * names the bucket, the key and what to fix.
 */
export class S3Store implements ArtifactStore {
  readonly url: string;
  readonly config: S3Config;
  private readonly client: Minio.Client;
  private readonly agent: http.Agent;
  private readonly logger: Logger;

  constructor(config: S3Config, logger: Logger = createLogger('storage')) {
    this.config = config;
    this.url = config.url;
    this.logger = logger;
    const protocol = config.useSSL ? https : http;
    this.agent = new protocol.Agent({ keepAlive: true });
    this.client = new Minio.Client({
      endPoint: config.host,
      port: config.port,
      useSSL: config.useSSL,
      region: config.region,
      pathStyle: config.pathStyle,
      accessKey: config.credentials.accessKey,
      secretKey: config.credentials.secretKey,
      sessionToken: config.credentials.sessionToken,
      partSize: config.partSize,
      transport: { request: timedRequest(protocol, config.requestTimeoutMs) },
      transportAgent: this.agent,
      // withRetry retries instead, because it logs each retry and never repeats a permanent error.
      retryOptions: { disableRetry: true },
    });
  }

  async put(key: string, body: Buffer | string, options?: PutOptions): Promise<void> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    await this.putStream(key, Readable.from([bytes]), options);
  }

  async putStream(key: string, body: Readable, options?: PutOptions): Promise<void> {
    const target = {
      client: this.client,
      bucket: this.config.bucket,
      objectKey: this.objectKey(key),
      key,
      contentType: options?.contentType ?? contentTypeFor(key),
      partSize: this.config.partSize,
    };
    try {
      await uploadStream(target, body, this.run, this.logger);
    } catch (error) {
      body.destroy();
      throw error instanceof StoreError ? error : this.translate(error, 'writing', key, 1);
    }
  }

  async get(key: string): Promise<Buffer> {
    // The whole read is one attempt, so a connection lost halfway is retried from the start.
    return this.run('get', key, async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of await this.client.getObject(
        this.config.bucket,
        this.objectKey(key),
      )) {
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks);
    });
  }

  async getStream(key: string): Promise<Readable> {
    // NOTE: only opening the stream is retried; an error while reading reaches the consumer.
    return this.run('get', key, () =>
      this.client.getObject(this.config.bucket, this.objectKey(key)),
    );
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.run('stat', key, () =>
        this.client.statObject(this.config.bucket, this.objectKey(key)),
      );
      return true;
    } catch (error) {
      if (error instanceof StoreError && error.code === 'not-found') return false;
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    checkPrefix(prefix);
    const listed = this.config.prefix === '' ? prefix : `${this.config.prefix}/${prefix}`;
    const strip = this.config.prefix === '' ? 0 : this.config.prefix.length + 1;
    const keys: string[] = [];
    let token = '';
    // Each page is one request, retried on its own; the continuation token carries the position.
    do {
      const page = await this.run('list', prefix, () =>
        this.client.listObjectsV2Query(this.config.bucket, listed, token, '', LIST_PAGE_SIZE, ''),
      );
      for (const item of page.objects)
        if (item.name !== undefined) keys.push(item.name.slice(strip));
      token = page.isTruncated ? page.nextContinuationToken : '';
    } while (token !== '');
    return keys.sort();
  }

  async delete(key: string): Promise<void> {
    await this.run('delete', key, () =>
      this.client.removeObject(this.config.bucket, this.objectKey(key)),
    );
  }

  /**
   * Adds a bucket policy statement that lets anyone read (s3:GetObject) the objects under
   * `prefix/`, treated as a folder, so `gallery` opens `gallery/*` but not `gallery-old/*`.
   * Statements for other prefixes, ours or anyone's, are kept; a statement that an earlier call
   * wrote for the same prefix is replaced. Listing the bucket stays private.
   */
  async setPublicRead(prefix: string): Promise<void> {
    const folder = prefix.replace(/\/+$/, '');
    if (folder === '') {
      throw new StoreError(
        'invalid-key',
        `${this.url}: setPublicRead needs a prefix: making the whole store public is not allowed`,
      );
    }
    checkKey(folder, 'prefix');

    const resource = `arn:aws:s3:::${this.config.bucket}/${this.objectKey(folder)}/*`;
    const policy = withPublicRead(await this.readBucketPolicy(folder), resource);
    await this.run('set-policy', folder, () =>
      this.client.setBucketPolicy(this.config.bucket, JSON.stringify(policy)),
    );
    this.logger.info('made a prefix readable without credentials', {
      store: this.url,
      prefix: folder,
    });
  }

  /**
   * Aborts the unfinished multipart uploads under `prefix` that started at least `minAgeMs`
   * milliseconds ago and returns how many it aborted. An upload whose writer died while the
   * server was unreachable stays unfinished, invisible but holding its parts, until this runs.
   * The age keeps uploads that are still being written, so choose it above the longest upload.
   * NOTE: MinIO (the pinned test build) lists unfinished uploads only when `prefix` is a whole
   * key, so there a folder prefix finds none; versitygw and AWS S3 take any prefix.
   */
  async abortIncompleteUploads(prefix: string, minAgeMs: number): Promise<number> {
    checkPrefix(prefix);
    const listed = objectKeyOf(this.config, prefix);
    const cutoff = Date.now() - minAgeMs;
    const stale: { key: string; uploadId: string }[] = [];
    let keyMarker = '';
    let uploadIdMarker = '';
    do {
      const page = await this.run('list-uploads', prefix, () =>
        this.client.listIncompleteUploadsQuery(
          this.config.bucket,
          listed,
          keyMarker,
          uploadIdMarker,
          '',
        ),
      );
      for (const upload of page.uploads) {
        if (upload.initiated.getTime() <= cutoff) stale.push(upload);
      }
      keyMarker = page.isTruncated ? page.nextKeyMarker : '';
      uploadIdMarker = page.isTruncated ? page.nextUploadIdMarker : '';
    } while (keyMarker !== '');

    for (const upload of stale) {
      await this.run('abort-upload', upload.key, () =>
        this.client.abortMultipartUpload(this.config.bucket, upload.key, upload.uploadId),
      );
      this.logger.info('aborted a stale multipart upload', {
        store: this.url,
        object: upload.key,
        upload_id: upload.uploadId,
      });
    }
    return stale.length;
  }

  /** Shows only the URL, because the minio client inside contains the secret key. */
  [inspect.custom](): string {
    return `S3Store(${this.url})`;
  }

  toJSON(): { url: string } {
    return { url: this.url };
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }

  /** Returns the object key inside the bucket after checking the store key. */
  objectKey(key: string): string {
    return objectKeyOf(this.config, checkKey(key));
  }

  private async readBucketPolicy(folder: string): Promise<BucketPolicy> {
    let text: string;
    try {
      text = await this.run('get-policy', folder, () =>
        this.client.getBucketPolicy(this.config.bucket),
      );
    } catch (error) {
      if (error instanceof StoreError && error.code === 'not-found') return emptyBucketPolicy();
      throw error;
    }
    return parseBucketPolicy(text, this.url, this.config.bucket);
  }

  /** Sends one request with retries, turning its final error into a `StoreError`. */
  private readonly run = async <T>(operation: string, key: string, request: () => Promise<T>) => {
    let attempts = 0;
    const counted = () => {
      attempts += 1;
      return request();
    };
    try {
      return await withRetry(
        counted,
        this.config.retry,
        { operation, store: this.url, key },
        this.logger,
      );
    } catch (error) {
      throw this.translate(error, describeOperation(operation), key, attempts);
    }
  };

  private translate(error: unknown, action: string, key: string, attempts: number): StoreError {
    return translateS3Error(normalizePolicyError(error), this.config, action, key, attempts);
  }
}
