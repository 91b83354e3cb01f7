import { createHash } from 'crypto';
import * as Minio from 'minio';
import { Readable } from 'stream';

import { Logger } from '../log/logger';
import { errorCodeOf } from './retry';

/** Runs one S3 request with the store's retry policy and error wording. */
export type RequestRunner = <T>(
  operation: string,
  key: string,
  request: () => Promise<T>,
) => Promise<T>;

/** Destination, content type and part size of an upload. */
export interface UploadTarget {
  client: Minio.Client;
  bucket: string;
  /** Object key inside the bucket (store prefix included). */
  objectKey: string;
  /** Store key, for logs and messages. */
  key: string;
  contentType: string;
  /** Part size in bytes (at least 5 MiB), which is also the most that the upload buffers. */
  partSize: number;
}

/**
 * Uploads a stream under `target.objectKey` so that the object appears complete or not at all.
 *
 * The stream is read into one reused buffer of `partSize` bytes. A stream that ends before the
 * buffer fills is sent with one PUT; a longer one as a multipart upload, one part at a time,
 * each part retried on its own from the buffer. Only after the stream has ended without error
 * and every part is stored is the upload completed. On any failure, including an error of the
 * source stream, the upload is aborted, so S3 discards its parts and never shows the object.
 */
export async function uploadStream(
  target: UploadTarget,
  body: Readable,
  run: RequestRunner,
  logger: Logger,
): Promise<void> {
  const buffer = Buffer.allocUnsafe(target.partSize);
  let filled = 0;
  let uploadId: string | undefined;
  const parts: { part: number; etag: string }[] = [];
  const partDigests: Buffer[] = [];

  const sendPart = async () => {
    if (uploadId === undefined) uploadId = await initiate(target, run);
    const part = parts.length + 1;
    const body = buffer.subarray(0, filled);
    const request = {
      bucketName: target.bucket,
      objectName: target.objectKey,
      uploadID: uploadId,
      partNumber: part,
      headers: {},
    };
    const { etag } = await run('upload-part', target.key, () =>
      target.client.uploadPart(request, body),
    );
    parts.push({ part, etag });
    partDigests.push(createHash('md5').update(body).digest());
    filled = 0;
  };

  try {
    for await (const chunk of body) {
      const bytes: Buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      // A chunk may be larger than the space left in the part, so it is split across parts.
      for (let offset = 0; offset < bytes.length; ) {
        if (filled === buffer.length) await sendPart();
        const copied = bytes.copy(buffer, filled, offset);
        filled += copied;
        offset += copied;
      }
    }

    if (uploadId === undefined) {
      await run('put', target.key, () =>
        target.client.putObject(
          target.bucket,
          target.objectKey,
          buffer.subarray(0, filled),
          filled,
          {
            'Content-Type': target.contentType,
          },
        ),
      );
      return;
    }

    if (filled > 0) await sendPart();
    await complete(target, uploadId, parts, partDigests, run);
  } catch (error) {
    if (uploadId !== undefined) await abort(target, uploadId, run, logger);
    throw error;
  }
}

/**
 * Completes a multipart upload. When a completion succeeded but its response was lost, the
 * retry gets NoSuchUpload; the upload then counts as done if the stored object carries the ETag
 * of exactly these parts (the MD5 of the part MD5s, then `-` and the part count, as S3 forms it).
 */
async function complete(
  target: UploadTarget,
  uploadId: string,
  parts: { part: number; etag: string }[],
  partDigests: Buffer[],
  run: RequestRunner,
): Promise<void> {
  const digestOfDigests = createHash('md5').update(Buffer.concat(partDigests)).digest('hex');
  const expectedEtag = `${digestOfDigests}-${parts.length}`;
  let attempts = 0;
  await run('complete-upload', target.key, async () => {
    attempts += 1;
    try {
      await target.client.completeMultipartUpload(target.bucket, target.objectKey, uploadId, parts);
    } catch (error) {
      if (attempts === 1 || errorCodeOf(error) !== 'NoSuchUpload') throw error;
      const stored = await target.client.statObject(target.bucket, target.objectKey);
      if (stored.etag !== expectedEtag) throw error;
    }
  });
}

async function initiate(target: UploadTarget, run: RequestRunner): Promise<string> {
  return run('start-upload', target.key, () =>
    target.client.initiateNewMultipartUpload(target.bucket, target.objectKey, {
      'Content-Type': target.contentType,
    }),
  );
}

/**
 * Aborts a multipart upload so that the server frees its parts. When the server cannot be
 * reached, the upload stays incomplete: it is still never visible as an object, and a bucket
 * lifecycle rule (AbortIncompleteMultipartUpload) or `mc`/`aws s3api` removes its parts later.
 */
async function abort(target: UploadTarget, uploadId: string, run: RequestRunner, logger: Logger) {
  try {
    await run('abort-upload', target.key, () =>
      target.client.abortMultipartUpload(target.bucket, target.objectKey, uploadId),
    );
    logger.warn('aborted an unfinished multipart upload', { key: target.key, upload_id: uploadId });
  } catch (error) {
    logger.warn('failed to abort an unfinished multipart upload, so its parts stay on the server', {
      key: target.key,
      upload_id: uploadId,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}
