import * as tf from '@tensorflow/tfjs';

import { CLASS_NAMES, IMAGE_PIXELS, IMAGE_SHAPE, IMAGE_SIZE, PIXEL_MAX, PIXEL_MIN } from '../constants';
import { UserError } from '../errors';
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

/** Reads and checks `PREFIX/dataset.json`; a missing or malformed manifest is a `UserError`. */
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
  let manifest: DatasetManifest;
  try {
    manifest = JSON.parse(body.toString('utf8')) as DatasetManifest;
  } catch {
    throw new UserError(`${store.url}: ${key} is not valid JSON`);
  }
  if (manifest.format !== DATASET_FORMAT) {
    throw new UserError(`${store.url}: ${key} has format '${manifest.format}', expected '${DATASET_FORMAT}'`);
  }
  const shape = manifest.imageShape ?? [];
  if (shape.join('x') !== IMAGE_SHAPE.join('x')) {
    throw new UserError(`${store.url}: ${key} has image shape ${shape.join('x')}, expected ${IMAGE_SHAPE.join('x')}`);
  }
  for (const split of ['train', 'test'] as const) {
    const entry = manifest.splits?.[split];
    if (!entry || !Number.isInteger(entry.count) || entry.count < 1) {
      throw new UserError(`${store.url}: ${key} lacks a valid '${split}' split`);
    }
  }
  return manifest;
}

/**
 * Loads one split of a prepared data set. With `limit`, only the first `limit` samples are kept
 * (the prepared splits are in a fixed shuffled order, so a prefix is a fair sample).
 */
export async function loadSplit(
  store: ArtifactStore,
  prefix: string,
  split: SplitName,
  options: { limit?: number; manifest?: DatasetManifest } = {},
): Promise<Split> {
  const manifest = options.manifest ?? (await readManifest(store, prefix));
  const entry = manifest.splits[split];
  const [images, labels] = await Promise.all([
    store.get(joinKey(prefix, entry.images)),
    store.get(joinKey(prefix, entry.labels)),
  ]);
  if (images.length !== entry.count * IMAGE_PIXELS || labels.length !== entry.count) {
    throw new UserError(
      `${store.url}: prepared ${split} split at '${prefix}' has ${images.length} image bytes and ` +
        `${labels.length} labels, expected ${entry.count * IMAGE_PIXELS} and ${entry.count}; prepare it again`,
    );
  }
  const count = Math.min(entry.count, options.limit ?? entry.count);
  return {
    count,
    images: new Uint8Array(images.buffer, images.byteOffset, count * IMAGE_PIXELS),
    labels: new Uint8Array(labels.buffer, labels.byteOffset, count),
  };
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
