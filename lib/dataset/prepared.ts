import * as tf from '@tensorflow/tfjs';
import { createHash } from 'crypto';

import {
  CLASS_NAMES,
  IMAGE_PIXELS,
  IMAGE_SHAPE,
  IMAGE_SIZE,
  NUM_CLASSES,
  PIXEL_MAX,
  PIXEL_MIN,
} from '../constants';
import { UserError } from '../errors';
import { isJsonObject } from '../json';
import { ArtifactStore, StoreError, joinKey } from '../storage/store';

export const DATASET_FORMAT = 'fashion-gan-dataset/1';
export const MANIFEST_NAME = 'dataset.json';

export type SplitName = 'train' | 'test';

export interface SplitManifest {
  count: number;
  /** Key of the raw uint8 images, count * 784 bytes, relative to the data set prefix. */
  images: string;
  /** Key of the raw uint8 labels, count bytes, relative to the data set prefix. */
  labels: string;
  classHistogram: number[];
  /** Mean pixel value on the 0-255 scale. */
  pixelMean: number;
  /** SHA-256 of the images object in 64 hex digits, absent from manifests of older versions. */
  imagesSha256?: string;
  /** SHA-256 of the labels object in 64 hex digits, absent from manifests of older versions. */
  labelsSha256?: string;
}

/** The `dataset.json` manifest that the prepare stage writes last, after the objects it names. */
export interface DatasetManifest {
  format: string;
  /** SHA-256 of the four objects, so later stages can key caches by content. */
  hash: string;
  imageShape: number[];
  classNames: string[];
  createdAt: string;
  source: string;
  splits: Record<SplitName, SplitManifest>;
}

export interface Split {
  count: number;
  /** count * 784 bytes, row-major, 0-255. */
  images: Uint8Array;
  /** count labels, 0-9. */
  labels: Uint8Array;
}

/**
 * Reads and checks `PREFIX/dataset.json`. A missing or malformed manifest is a `UserError`. Only
 * the fields that later stages read are checked: format, hash, imageShape and each split's
 * count, images, labels and digests, and that no two splits share an object key.
 */
export async function readManifest(store: ArtifactStore, prefix: string): Promise<DatasetManifest> {
  const key = joinKey(prefix, MANIFEST_NAME);
  let body: Buffer;
  try {
    body = await store.get(key);
  } catch (error) {
    if (error instanceof StoreError && error.code === 'not-found') {
      throw new UserError(
        `${store.url}: no prepared data set at '${prefix}' (${key} not found); run the prepare stage first`,
      );
    }
    throw error;
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(body.toString('utf8'));
  } catch {
    throw new UserError(`${store.url}: ${key} is not valid JSON`);
  }
  checkManifest(manifest, `${store.url}: '${key}'`);
  return manifest;
}

/** Checks the manifest fields that `readManifest` promises. Messages start with `where`. */
function checkManifest(manifest: unknown, where: string): asserts manifest is DatasetManifest {
  const invalid = (field: string, value: unknown, expected: string) =>
    new UserError(
      `${where}: ${field} is ${describeValue(value)}, expected ${expected}. ` +
        'Prepare the data set again.',
    );

  if (!isJsonObject(manifest)) {
    const got = describeValue(manifest);
    throw new UserError(`${where} is not a data set manifest: expected a JSON object, got ${got}`);
  }
  const { format, hash, imageShape, splits } = manifest as Record<string, unknown>;
  if (typeof format !== 'string') throw invalid('format', format, `'${DATASET_FORMAT}'`);
  if (format !== DATASET_FORMAT) {
    throw new UserError(`${where} has format '${format}', expected '${DATASET_FORMAT}'`);
  }
  // The evaluate stage stores its classifier under a key made of the hash, so only hex passes.
  if (typeof hash !== 'string' || !SHA256_HEX.test(hash)) {
    throw invalid('hash', hash, 'the SHA-256 of the data set in 64 hexadecimal digits');
  }
  if (!Array.isArray(imageShape) || imageShape.join('x') !== IMAGE_SHAPE.join('x')) {
    throw invalid('imageShape', imageShape, `[${IMAGE_SHAPE.join(', ')}]`);
  }
  if (!isJsonObject(splits)) throw invalid('splits', splits, 'an object with train and test');

  // Field names by object key, because an entry edited to name the other split's objects passes
  // every check of its own fields, digests included.
  const fieldsByKey = new Map<string, string>();
  for (const split of ['train', 'test'] as const) {
    const entry = (splits as Record<string, unknown>)[split];
    if (!isJsonObject(entry)) throw invalid(`splits.${split}`, entry, 'an object');
    const { count, images, labels, imagesSha256, labelsSha256 } = entry as Record<string, unknown>;
    if (!Number.isInteger(count) || (count as number) < 1) {
      throw invalid(`splits.${split}.count`, count, 'an integer of at least 1');
    }
    for (const [field, value] of [['images', images], ['labels', labels]] as const) {
      const name = `splits.${split}.${field}`;
      if (typeof value !== 'string' || value === '') {
        throw invalid(name, value, 'a key relative to the data set prefix');
      }
      const other = fieldsByKey.get(value);
      if (other !== undefined) {
        throw new UserError(
          `${where}: ${name} is '${value}', the same object as ${other}. ` +
            'Prepare the data set again.',
        );
      }
      fieldsByKey.set(value, name);
    }
    for (const [field, value] of [['imagesSha256', imagesSha256], ['labelsSha256', labelsSha256]]) {
      if (value !== undefined && (typeof value !== 'string' || !SHA256_HEX.test(value))) {
        const expected = 'the SHA-256 of the object in 64 hexadecimal digits';
        throw invalid(`splits.${split}.${field}`, value, expected);
      }
    }
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Computes the SHA-256 of an object body as 64 lowercase hex digits, as the manifest stores it. */
export function objectSha256(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

/**
 * Loads one split of a prepared data set. With `limit`, only the first `limit` samples are kept
 * (the prepared splits are in a fixed shuffled order, so a prefix is a fair sample). An object
 * whose SHA-256 differs from the manifest, or a kept label outside 0-9, is a `UserError`.
 */
export async function loadSplit(
  store: ArtifactStore,
  prefix: string,
  split: SplitName,
  options: { limit?: number; manifest?: DatasetManifest } = {},
): Promise<Split> {
  const manifest = options.manifest ?? (await readManifest(store, prefix));
  const entry = manifest.splits[split];
  const imagesKey = joinKey(prefix, entry.images);
  const labelsKey = joinKey(prefix, entry.labels);
  const [images, labels] = await Promise.all([store.get(imagesKey), store.get(labelsKey)]);
  checkDigest(store, imagesKey, images, entry.imagesSha256);
  checkDigest(store, labelsKey, labels, entry.labelsSha256);
  if (images.length !== entry.count * IMAGE_PIXELS || labels.length !== entry.count) {
    throw new UserError(
      `${store.url}: prepared ${split} split at '${prefix}' has ${images.length} image bytes and ` +
        `${labels.length} labels, expected ${entry.count * IMAGE_PIXELS} and ${entry.count}; prepare it again`,
    );
  }
  const count = Math.min(entry.count, options.limit ?? entry.count);
  const keptLabels = new Uint8Array(labels.buffer, labels.byteOffset, count);
  // Later steps index per-class arrays by label, where a byte of 10 or more would add NaN.
  for (let index = 0; index < count; index++) {
    if (keptLabels[index] >= NUM_CLASSES) {
      throw new UserError(
        `${store.url}: '${labelsKey}' has label ${keptLabels[index]} at index ${index}, ` +
          `outside 0-${NUM_CLASSES - 1}. Prepare the data set again.`,
      );
    }
  }
  const result = {
    count,
    images: new Uint8Array(images.buffer, images.byteOffset, count * IMAGE_PIXELS),
    labels: keptLabels,
  };
  // A verified digest already covers what the summary check would find.
  const verified = entry.imagesSha256 !== undefined && entry.labelsSha256 !== undefined;
  if (count === entry.count && !verified) {
    checkSummary(result, entry, `${store.url}: prepared ${split} split at '${prefix}'`);
  }
  return result;
}

/** Compares an object body with the SHA-256 that prepare recorded for it in the manifest. */
function checkDigest(store: ArtifactStore, key: string, body: Buffer, expected?: string): void {
  // Manifests written before prepare recorded digests have none. For those, only the size,
  // label and summary checks in loadSplit remain.
  if (expected === undefined) return;
  const actual = objectSha256(body);
  if (actual !== expected) {
    throw new UserError(
      `${store.url}: '${key}' has SHA-256 ${actual}, expected ${expected} from dataset.json: ` +
        'the object changed after prepare. Prepare the data set again.',
    );
  }
}

/**
 * Compares a whole split with the pixel mean and class histogram that prepare recorded, which
 * catches objects changed after prepare at the cost of one pass over the bytes.
 */
function checkSummary(split: Split, entry: SplitManifest, where: string): void {
  const advice = 'the stored objects changed after prepare. Prepare the data set again.';
  if (typeof entry.pixelMean === 'number') {
    let sum = 0;
    for (let index = 0; index < split.images.length; index++) sum += split.images[index];
    const mean = sum / split.images.length;
    // prepare rounds the mean to two decimals.
    if (Math.abs(mean - entry.pixelMean) > 0.006) {
      throw new UserError(
        `${where} has pixel mean ${mean.toFixed(2)}, expected ${entry.pixelMean} from dataset.json: ${advice}`,
      );
    }
  }
  if (Array.isArray(entry.classHistogram)) {
    const histogram = new Array<number>(NUM_CLASSES).fill(0);
    for (const label of split.labels) histogram[label] += 1;
    if (histogram.join(',') !== entry.classHistogram.join(',')) {
      throw new UserError(
        `${where} has class counts ${histogram.join(',')}, expected ` +
          `${entry.classHistogram.join(',')} from dataset.json: ${advice}`,
      );
    }
  }
}

/**
 * Converts `count` images starting at sample `start` to a tensor [count, 28, 28, 1] with values
 * in [-1, 1], the range of the generator's `tanh` output.
 */
export function toImageTensor(images: Uint8Array, count: number, start = 0): tf.Tensor4D {
  const slice = images.subarray(start * IMAGE_PIXELS, (start + count) * IMAGE_PIXELS);
  return tf.tidy(() => {
    const bytes = tf.tensor4d(slice, [count, IMAGE_SIZE, IMAGE_SIZE, 1], 'int32');
    const scale = (PIXEL_MAX - PIXEL_MIN) / 255;
    return bytes.toFloat().mul(scale).add(PIXEL_MIN) as tf.Tensor4D;
  });
}

/** Counts labels per class. */
export function classHistogram(labels: Uint8Array): number[] {
  const histogram = new Array<number>(CLASS_NAMES.length).fill(0);
  for (const label of labels) histogram[label] += 1;
  return histogram;
}


/** Describes a JSON value in a message: missing, null, an array, or the value itself. */
function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map((item) => JSON.stringify(item)).join(', ')}]`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `'${value.slice(0, 60)}'`;
  return String(value);
}
