import { createHash } from 'crypto';

import { CLASS_NAMES, IMAGE_PIXELS, IMAGE_SHAPE, IMAGE_SIZE } from '../../lib/constants';
import {
  DATASET_FORMAT,
  DatasetManifest,
  MANIFEST_NAME,
  SplitManifest,
  classHistogram,
  objectSha256,
  readManifest,
} from '../../lib/dataset/prepared';
import { IdxImages, IdxLabels, parseIdxImages, parseIdxLabels } from '../../lib/dataset/idx';
import { SourceFiles } from '../../lib/dataset/source';
import { UserError } from '../../lib/errors';
import { Logger } from '../../lib/log/logger';
import { ArtifactStore, StoreError, joinKey } from '../../lib/storage/store';

export interface PrepareOptions {
  /** Key prefix of the prepared data set in the store. */
  out: string;
  /** Keep only the first N training samples (a quick subset); all when undefined. */
  limitTrain?: number;
  /** Keep only the first N test samples; all when undefined. */
  limitTest?: number;
  /** Description of where the files came from, stored in the manifest. */
  sourceDescription: string;
}

export interface PrepareResult {
  manifest: DatasetManifest;
  /**
   * True when the store already held this exact data set, with digests in its manifest that match
   * the stored objects, and nothing was written.
   */
  unchanged: boolean;
}

interface ParsedSplit {
  images: Uint8Array;
  labels: Uint8Array;
}

/**
 * Validates the Fashion-MNIST IDX files and writes them to the store in training-ready form:
 * raw uint8 images and labels per split under `out/<hash>/`, then `out/dataset.json` last, so
 * that a reader sees either the previous data set or the new one, never a mix.
 */
export async function prepareDataset(
  files: SourceFiles,
  store: ArtifactStore,
  options: PrepareOptions,
  logger: Logger,
): Promise<PrepareResult> {
  const splits = {
    train: parseSplit(files.train, options.limitTrain),
    test: parseSplit(files.test, options.limitTest),
  };
  for (const [name, limit] of [
    ['train', options.limitTrain],
    ['test', options.limitTest],
  ] as const) {
    const available = splits[name].labels.length;
    if (limit !== undefined && limit > available) {
      logger.warn(`--limit-${name} is above the split size, so all samples are kept`, {
        limit,
        samples: available,
      });
    }
  }

  const hash = contentHash(splits);
  const folder = hash.slice(0, 16);
  const manifest: DatasetManifest = {
    format: DATASET_FORMAT,
    hash,
    imageShape: [...IMAGE_SHAPE],
    classNames: [...CLASS_NAMES],
    createdAt: new Date().toISOString(),
    source: options.sourceDescription,
    splits: {
      train: describeSplit(splits.train, folder, 'train'),
      test: describeSplit(splits.test, folder, 'test'),
    },
  };

  const existing = await readExistingManifest(store, options.out);
  if (existing?.hash === hash) {
    const mismatch = await findStoredMismatch(store, options.out, existing, manifest);
    if (mismatch === undefined) {
      logger.info('data set already prepared; nothing to do', { out: options.out, hash: hash.slice(0, 16) });
      return { manifest: existing, unchanged: true };
    }
    logger.info('writing the data set again', { out: options.out, reason: mismatch });
  }

  for (const split of ['train', 'test'] as const) {
    const entry = manifest.splits[split];
    await store.put(joinKey(options.out, entry.images), Buffer.from(splits[split].images));
    await store.put(joinKey(options.out, entry.labels), Buffer.from(splits[split].labels));
  }
  await store.put(joinKey(options.out, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`, {
    contentType: 'application/json',
  });
  logger.info('data set prepared', {
    out: options.out,
    hash: hash.slice(0, 16),
    train: manifest.splits.train.count,
    test: manifest.splits.test.count,
    train_pixel_mean: manifest.splits.train.pixelMean,
    test_pixel_mean: manifest.splits.test.pixelMean,
  });
  return { manifest, unchanged: false };
}

function parseSplit(files: SourceFiles['train'], limit: number | undefined): ParsedSplit {
  const images: IdxImages = parseIdxImages(files.images.path, files.images.body);
  const labels: IdxLabels = parseIdxLabels(files.labels.path, files.labels.body);
  if (images.rows !== IMAGE_SIZE || images.columns !== IMAGE_SIZE) {
    throw new UserError(
      `${files.images.path}: images are ${images.rows}x${images.columns}, expected ${IMAGE_SIZE}x${IMAGE_SIZE}`,
    );
  }
  if (images.count !== labels.count) {
    throw new UserError(
      `${files.images.path}: ${images.count} images but ${files.labels.path} has ${labels.count} labels`,
    );
  }
  if (images.count === 0) throw new UserError(`${files.images.path}: contains no images`);
  const badIndex = labels.labels.findIndex((label) => label >= CLASS_NAMES.length);
  if (badIndex >= 0) {
    throw new UserError(
      `${files.labels.path}: label ${labels.labels[badIndex]} at index ${badIndex} is outside 0-${CLASS_NAMES.length - 1}`,
    );
  }
  const count = Math.min(images.count, limit ?? images.count);
  return {
    images: images.pixels.subarray(0, count * IMAGE_PIXELS),
    labels: labels.labels.subarray(0, count),
  };
}

function describeSplit(split: ParsedSplit, folder: string, name: string): SplitManifest {
  let sum = 0;
  for (const value of split.images) sum += value;
  return {
    count: split.labels.length,
    images: `${folder}/${name}-images.u8`,
    labels: `${folder}/${name}-labels.u8`,
    classHistogram: classHistogram(split.labels),
    pixelMean: Number((sum / split.images.length).toFixed(2)),
    imagesSha256: objectSha256(split.images),
    labelsSha256: objectSha256(split.labels),
  };
}

function contentHash(splits: Record<'train' | 'test', ParsedSplit>): string {
  const hash = createHash('sha256');
  for (const split of ['train', 'test'] as const) {
    for (const part of [splits[split].images, splits[split].labels]) {
      // The length goes first so that moving bytes between objects changes the hash.
      hash.update(`${split}:${part.length}:`);
      hash.update(part);
    }
  }
  return hash.digest('hex');
}

async function readExistingManifest(store: ArtifactStore, out: string): Promise<DatasetManifest | undefined> {
  try {
    return await readManifest(store, out);
  } catch (error) {
    // StoreError extends UserError: a failing store is real, while a missing or damaged
    // manifest is replaced by the new one.
    if (error instanceof StoreError) throw error;
    if (error instanceof UserError) return undefined;
    throw error;
  }
}

/**
 * Compares the objects that the existing manifest names with the digests of the new input and
 * returns why they differ, or undefined when every object is stored intact. A manifest without
 * digests counts as different, so that a rerun records them.
 */
async function findStoredMismatch(
  store: ArtifactStore,
  out: string,
  existing: DatasetManifest,
  prepared: DatasetManifest,
): Promise<string | undefined> {
  for (const split of ['train', 'test'] as const) {
    for (const role of ['images', 'labels'] as const) {
      const digestField = role === 'images' ? 'imagesSha256' : 'labelsSha256';
      const expected = prepared.splits[split][digestField];
      const recorded = existing.splits[split][digestField];
      if (recorded === undefined) return `${MANIFEST_NAME} has no SHA-256 digests`;
      if (recorded !== expected) return `${MANIFEST_NAME} has another SHA-256 for ${split} ${role}`;

      // Reading the objects back lets a rerun repair objects that changed after prepare, which
      // is the fix that loadSplit's error message recommends.
      const key = joinKey(out, existing.splits[split][role]);
      let body: Buffer;
      try {
        body = await store.get(key);
      } catch (error) {
        if (error instanceof StoreError && error.code === 'not-found') return `${key} not found`;
        throw error;
      }
      if (objectSha256(body) !== expected) return `${key} changed after prepare`;
    }
  }
  return undefined;
}
