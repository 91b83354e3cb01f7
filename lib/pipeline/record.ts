import { randomBytes } from 'crypto';

import { ArtifactStore, joinKey } from '../storage/store';
import { ParameterValue } from './spec';

export type StageState = 'pending' | 'running' | 'cached' | 'succeeded' | 'failed' | 'skipped';

export interface StageRecord {
  state: StageState;
  /** SHA-256 of what the stage's outputs depend on (see cache.ts); absent if it never got one. */
  cacheKey?: string;
  /** The command line that ran, or would have run, with placeholders filled. */
  commandLine: string[];
  /** Output artifact name -> store key prefix, from this run or from the cached run. */
  outputs: Record<string, string>;
  /** Run whose outputs a cached stage reuses. */
  cachedFrom?: string;
  startedAt?: string;
  durationSeconds?: number;
  attempts: number;
  exitCode?: number | null;
  /** Reason the stage failed or was skipped, in one line. */
  reason?: string;
  /** Store key of the stage's combined standard output and error. */
  log?: string;
}

/** Record of a pipeline run, stored at `runs/<run-id>/run.json` and updated as it progresses. */
export interface RunRecord {
  format: 'fashion-gan-run/1';
  runId: string;
  pipeline: string;
  pipelineFile: string;
  profile: string;
  store: string;
  state: 'running' | 'succeeded' | 'failed';
  startedAt: string;
  finishedAt?: string;
  durationSeconds?: number;
  parameters: Record<string, Record<string, ParameterValue>>;
  /** Stages in the order they run. */
  stages: Record<string, StageRecord>;
  /** The pipeline's named results, such as the gallery: store key prefixes. */
  outputs: Record<string, string>;
}

/** Store key of a run's record. */
export function runRecordKey(runId: string): string {
  return joinKey('runs', runId, 'run.json');
}

/** Store key of a stage's log in a run. */
export function stageLogKey(runId: string, stage: string): string {
  return joinKey('runs', runId, 'logs', `${stage}.log`);
}

/**
 * Creates a run id that sorts by start time and does not collide between runs started in the
 * same second: `YYYYMMDD-HHMMSS-xxxx` in UTC with four random base-36 characters.
 */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const suffix = [...randomBytes(4)].map((byte) => (byte % 36).toString(36)).join('');
  return `${stamp}-${suffix}`;
}

/**
 * Writes a run record after every change. Writes go one after another, so the record in the
 * store is never older than one already written; each write replaces the object atomically.
 */
export class RunRecordWriter {
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: ArtifactStore,
    readonly record: RunRecord,
  ) {}

  /** Queues a write of the record as it is now and returns when it is stored. */
  save(): Promise<void> {
    const body = `${JSON.stringify(this.record, null, 2)}\n`;
    const key = runRecordKey(this.record.runId);
    this.pending = this.pending.then(() =>
      this.store.put(key, body, { contentType: 'application/json' }),
    );
    return this.pending;
  }
}
