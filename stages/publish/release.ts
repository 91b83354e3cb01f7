import { createHash } from 'crypto';

import { UserError } from '../../lib/errors';
import { GeneratorMeta } from '../../lib/models/generator';
import { GENERATOR_META, GENERATOR_PREFIX } from '../../lib/models/generator-store';
import { Logger } from '../../lib/log/logger';
import { ArtifactStore, contentTypeFor, joinKey } from '../../lib/storage/store';
import { Metrics } from './inputs';

/** Format tag of release.json. */
export const RELEASE_FORMAT = 'fashion-gan-release/1';

/** releases/<release-id>/release.json. */
export interface ReleaseRecord {
  format: typeof RELEASE_FORMAT;
  releaseId: string;
  runId: string;
  /** ISO 8601; kept from the first publish of the same model, so re-publishing is idempotent. */
  createdAt: string;
  datasetHash: string;
  /** Train output prefix the generator came from. */
  source: string;
  /** Key of the evaluate stage's metrics.json that was published. */
  metricsKey: string;
  /** SHA-256 of the generator files (model.json, weight shards, meta), hex. */
  modelSha256: string;
  /** Generator files relative to the release prefix. */
  modelFiles: string[];
  generator: GeneratorMeta;
  configuration: unknown;
  metrics: Metrics;
  /** Release page relative to the gallery prefix. */
  galleryPage: string;
}

/** releases/latest.json: the release that the rest of the system should use. */
export interface LatestPointer {
  releaseId: string;
  /** Prefix of the release, such as `releases/<release-id>`. */
  prefix: string;
  createdAt: string;
}

/** A generator's files read from a train output: paths relative to the train output. */
export interface GeneratorFiles {
  files: Map<string, Buffer>;
  sha256: string;
}

/**
 * Reads every object of a saved generator (model.json, weight shards, generator-meta.json)
 * under a train output, and hashes them in key order so that the same weights always give the
 * same hash.
 */
export async function readGeneratorFiles(
  store: ArtifactStore,
  trainOut: string,
): Promise<GeneratorFiles> {
  await requireGenerator(store, trainOut);
  const keys = [
    ...(await store.list(joinKey(trainOut, GENERATOR_PREFIX) + '/')),
    joinKey(trainOut, GENERATOR_META),
  ];
  const files = new Map<string, Buffer>();
  const hash = createHash('sha256');
  for (const key of keys) {
    const relative = key.slice(joinKey(trainOut).length + 1);
    const body = await store.get(key);
    files.set(relative, body);
    hash.update(relative).update('\0').update(body);
  }
  return { files, sha256: hash.digest('hex') };
}

/**
 * Checks that a prefix contains a saved generator (model.json and generator-meta.json), raising a
 * UserError that names the missing key otherwise.
 */
export async function requireGenerator(store: ArtifactStore, prefix: string): Promise<void> {
  for (const key of [joinKey(prefix, GENERATOR_PREFIX, 'model.json'), joinKey(prefix, GENERATOR_META)]) {
    if (!(await store.exists(key))) {
      throw new UserError(
        `--model: no generator under '${prefix}' in ${store.url} (${key} not found); ` +
          "pass the train stage's --out prefix or a release prefix",
      );
    }
  }
}

/**
 * Derives a release id from the run id and the generator's hash: `<run-id>-<12 hex digits>`.
 * The same model always gets the same id, and two runs never share one. Characters a store key
 * does not allow become `-`.
 */
export function releaseIdFor(runId: string, modelSha256: string): string {
  const run = runId.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '').slice(0, 80);
  return `${run || 'release'}-${modelSha256.slice(0, 12)}`;
}

/** Copies the generator files under a prefix (a release, or the gallery's copy for browsers). */
export async function writeGeneratorFiles(
  store: ArtifactStore,
  prefix: string,
  generator: GeneratorFiles,
): Promise<string[]> {
  const written: string[] = [];
  for (const [relative, body] of generator.files) {
    const key = joinKey(prefix, relative);
    await store.put(key, body, { contentType: contentTypeFor(key) });
    written.push(relative);
  }
  return written;
}

/** Reads a release's record, or returns null when the release does not exist yet. */
export async function readRelease(
  store: ArtifactStore,
  releasesPrefix: string,
  releaseId: string,
): Promise<ReleaseRecord | null> {
  const key = joinKey(releasesPrefix, releaseId, 'release.json');
  if (!(await store.exists(key))) return null;
  try {
    return JSON.parse((await store.get(key)).toString('utf8')) as ReleaseRecord;
  } catch (error) {
    throw new UserError(`release ${key}: invalid JSON (${(error as Error).message})`);
  }
}

/** Reads every release record under the prefix, skipping and logging release.json files that do not parse. */
export async function listReleases(
  store: ArtifactStore,
  releasesPrefix: string,
  logger: Logger,
): Promise<ReleaseRecord[]> {
  const prefix = joinKey(releasesPrefix) + '/';
  const keys = (await store.list(prefix)).filter((key) =>
    /^[^/]+\/release\.json$/.test(key.slice(prefix.length)),
  );
  const records: ReleaseRecord[] = [];
  for (const key of keys) {
    try {
      const record = JSON.parse((await store.get(key)).toString('utf8')) as ReleaseRecord;
      if (record.format === RELEASE_FORMAT) records.push(record);
    } catch (error) {
      // A damaged record must not hide every other release from the index.
      logger.warn('skipping a release record that does not parse', {
        key,
        error: (error as Error).message,
      });
    }
  }
  return records;
}

/** Writes releases/latest.json; publish calls it last, once the release is complete. */
export async function writeLatest(
  store: ArtifactStore,
  releasesPrefix: string,
  record: ReleaseRecord,
): Promise<LatestPointer> {
  const pointer: LatestPointer = {
    releaseId: record.releaseId,
    prefix: joinKey(releasesPrefix, record.releaseId),
    createdAt: record.createdAt,
  };
  const key = joinKey(releasesPrefix, 'latest.json');
  await store.put(key, `${JSON.stringify(pointer, null, 2)}\n`, { contentType: contentTypeFor(key) });
  return pointer;
}

/** Reads releases/latest.json, or null before the first publish. */
export async function readLatest(
  store: ArtifactStore,
  releasesPrefix: string,
): Promise<LatestPointer | null> {
  const key = joinKey(releasesPrefix, 'latest.json');
  if (!(await store.exists(key))) return null;
  return JSON.parse((await store.get(key)).toString('utf8')) as LatestPointer;
}
