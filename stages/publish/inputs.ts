import { ArtifactStore, StoreError, joinKey } from '../../lib/storage/store';
import { UserError } from '../../lib/errors';
import { LossRecord } from './gallery/curves';

/** The evaluate stage's metrics.json; fields the gallery does not show are kept as they are. */
export interface Metrics {
  fid: number;
  fidFloor?: number;
  inceptionScore?: number;
  classHistogram?: number[];
  classesCovered?: number;
  conditionalAgreement?: number | null;
  perClassFid?: number[] | null;
  samples?: number;
  classifier?: { key?: string; testAccuracy?: number };
  gate?: { maxFid: number | null; passed: boolean };
  datasetHash?: string;
  createdAt?: string;
  [field: string]: unknown;
}

/** A per-epoch sample grid written by the train stage. */
export interface EpochSample {
  epoch: number;
  /** Store key of the PNG. */
  key: string;
}

/** Reads and checks the evaluate stage's metrics.json; bad JSON or a missing fid is rejected. */
export async function readMetrics(store: ArtifactStore, key: string): Promise<Metrics> {
  const body = await getOrExplain(store, key, 'metrics', "run 'fashion-gan evaluate' first");
  const metrics = parseJson(body, `metrics ${key}`) as Metrics;
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) {
    throw new UserError(`metrics ${key}: expected a JSON object`);
  }
  if (typeof metrics.fid !== 'number') {
    throw new UserError(`metrics ${key}: field 'fid' is missing or not a number`);
  }
  return metrics;
}

/**
 * Reads TRAIN_OUT/logs/losses.jsonl. Returns an empty list when the file is absent (a run
 * trained without logging still publishes), and rejects lines that are not JSON.
 */
export async function readLosses(store: ArtifactStore, trainOut: string): Promise<LossRecord[]> {
  const key = joinKey(trainOut, 'logs/losses.jsonl');
  if (!(await store.exists(key))) return [];
  const lines = (await store.get(key)).toString('utf8').split('\n');
  const records: LossRecord[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const record = parseJson(Buffer.from(line), `${key} line ${index + 1}`) as LossRecord;
    if (typeof record.step !== 'number') {
      throw new UserError(`${key} line ${index + 1}: field 'step' is missing or not a number`);
    }
    records.push(record);
  });
  return records;
}

/** Reads TRAIN_OUT/config.json, the run's full configuration; null when absent. */
export async function readRunConfig(store: ArtifactStore, trainOut: string): Promise<unknown> {
  const key = joinKey(trainOut, 'config.json');
  if (!(await store.exists(key))) return null;
  return parseJson(await store.get(key), key);
}

/** Lists TRAIN_OUT/samples/epoch-NNNN.png in epoch order. */
export async function listEpochSamples(
  store: ArtifactStore,
  trainOut: string,
): Promise<EpochSample[]> {
  const keys = await store.list(joinKey(trainOut, 'samples') + '/');
  return keys
    .map((key) => ({ key, match: /\/epoch-(\d+)\.png$/.exec(key) }))
    .filter((entry) => entry.match !== null)
    .map((entry) => ({ key: entry.key, epoch: Number(entry.match![1]) }))
    .sort((a, b) => a.epoch - b.epoch);
}

/** Reads an object, turning a missing key into a message that names the stage to run. */
export async function getOrExplain(
  store: ArtifactStore,
  key: string,
  what: string,
  hint: string,
): Promise<Buffer> {
  try {
    return await store.get(key);
  } catch (error) {
    if (error instanceof StoreError && error.code === 'not-found') {
      throw new UserError(`${what} '${key}' not found in ${store.url}; ${hint}`);
    }
    throw error;
  }
}

function parseJson(body: Buffer, what: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new UserError(`${what}: invalid JSON (${(error as Error).message})`);
  }
}
