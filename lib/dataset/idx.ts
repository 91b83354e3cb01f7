import { gunzipSync } from 'zlib';

import { UserError } from '../errors';

/** IDX magic numbers: 0x00000803 for a uint8 rank-3 array (images), 0x00000801 for labels. */
export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;

export interface IdxImages {
  count: number;
  rows: number;
  columns: number;
  /** count * rows * columns bytes, row-major, 0 = background. */
  pixels: Uint8Array;
}

export interface IdxLabels {
  count: number;
  labels: Uint8Array;
}

/** Returns the body of a file that may be gzipped, checking the gzip stream if it is. */
export function gunzipIfNeeded(name: string, body: Buffer): Buffer {
  const gzipped = body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b;
  if (!gzipped) {
    if (name.endsWith('.gz')) throw new UserError(`${name}: not a gzip file (no gzip header)`);
    return body;
  }
  try {
    return gunzipSync(body);
  } catch (error) {
    throw new UserError(`${name}: corrupt or truncated gzip data (${(error as Error).message})`);
  }
}

/** Parses an IDX image file (magic 2051) of uint8 pixels. `name` is used in messages. */
export function parseIdxImages(name: string, body: Buffer): IdxImages {
  const data = gunzipIfNeeded(name, body);
  checkMagic(name, data, IDX_IMAGES_MAGIC);
  if (data.length < 16) throw new UserError(`${name}: truncated IDX header (${data.length} bytes)`);
  const count = data.readUInt32BE(4);
  const rows = data.readUInt32BE(8);
  const columns = data.readUInt32BE(12);
  const expected = 16 + count * rows * columns;
  if (data.length !== expected) {
    throw new UserError(
      `${name}: header says ${count} images of ${rows}x${columns} (${expected} bytes) ` +
        `but the data is ${data.length} bytes${data.length < expected ? ' (truncated)' : ''}`,
    );
  }
  return { count, rows, columns, pixels: new Uint8Array(data.buffer, data.byteOffset + 16, count * rows * columns) };
}

/** Parses an IDX label file (magic 2049) of uint8 labels. `name` is used in messages. */
export function parseIdxLabels(name: string, body: Buffer): IdxLabels {
  const data = gunzipIfNeeded(name, body);
  checkMagic(name, data, IDX_LABELS_MAGIC);
  if (data.length < 8) throw new UserError(`${name}: truncated IDX header (${data.length} bytes)`);
  const count = data.readUInt32BE(4);
  if (data.length !== 8 + count) {
    throw new UserError(
      `${name}: header says ${count} labels but the data has ${data.length - 8}` +
        `${data.length < 8 + count ? ' (truncated)' : ''}`,
    );
  }
  return { count, labels: new Uint8Array(data.buffer, data.byteOffset + 8, count) };
}

/** Encodes images as an uncompressed IDX file; used to cut small test inputs. */
export function encodeIdxImages(images: IdxImages): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(IDX_IMAGES_MAGIC, 0);
  header.writeUInt32BE(images.count, 4);
  header.writeUInt32BE(images.rows, 8);
  header.writeUInt32BE(images.columns, 12);
  return Buffer.concat([header, Buffer.from(images.pixels)]);
}

/** Encodes labels as an uncompressed IDX file; used to cut small test inputs. */
export function encodeIdxLabels(labels: IdxLabels): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(IDX_LABELS_MAGIC, 0);
  header.writeUInt32BE(labels.count, 4);
  return Buffer.concat([header, Buffer.from(labels.labels)]);
}

function checkMagic(name: string, data: Buffer, expected: number): void {
  if (data.length < 4) throw new UserError(`${name}: too short for an IDX file (${data.length} bytes)`);
  const magic = data.readUInt32BE(0);
  if (magic === expected) return;
  const kinds: Record<number, string> = {
    [IDX_IMAGES_MAGIC]: 'an image file',
    [IDX_LABELS_MAGIC]: 'a label file',
  };
  const found = kinds[magic] ? `magic number ${magic} is ${kinds[magic]}` : `magic number ${magic} is not IDX uint8 data`;
  const wanted = expected === IDX_IMAGES_MAGIC ? 'images' : 'labels';
  throw new UserError(`${name}: ${found}, expected ${expected} (${wanted})`);
}
