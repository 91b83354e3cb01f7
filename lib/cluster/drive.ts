import type * as k8s from '@kubernetes/client-node';

import { UserError } from '../errors';
import { createLogger } from '../log/logger';
import { ClusterClient } from './client';
import { ownedBy } from './compile';
import { STAGE_LABEL } from './names';
import { RunStatus, StageState, readRunObject, runStatus } from './runs';
import { JOBS_KEY } from './submit';

const log = createLogger('submit');

export interface DriveOptions {
  /** Time between two looks at the run's Jobs, in milliseconds. */
  pollMs?: number;
  /** How long a pod may stay unschedulable before the run is reported stuck, in milliseconds. */
  pendingTimeoutMs?: number;
  /** Called after each look, with the states then. */
  onStatus?: (status: RunStatus) => void;
}

export const DEFAULT_PENDING_TIMEOUT_MS = 300_000;

/**
 * The controller loop of the jobs engine, run by `fashion-gan submit` in the foreground: it
 * polls the run's Jobs, creates each stage's Job once every stage it depends on has succeeded,
 * and returns when every stage has succeeded, failed or been skipped because an upstream stage
 * failed. Throws a `UserError` when a stage's pod stays unschedulable for `pendingTimeoutMs`,
 * such as a GPU request on a cluster without GPU nodes; the run stays for `runs delete`.
 */
export async function driveRun(client: ClusterClient, runId: string, options: DriveOptions = {}): Promise<RunStatus> {
  const pollMs = options.pollMs ?? 2000;
  const pendingTimeoutMs = options.pendingTimeoutMs ?? DEFAULT_PENDING_TIMEOUT_MS;
  const runObject = await readRunObject(client, runId);
  const jobs = JSON.parse(runObject.data?.[JOBS_KEY] ?? '[]') as k8s.V1Job[];
  const owner = ownedBy(runObject);
  const pendingSince = new Map<string, number>();
  const reported = new Map<string, StageState>();

  for (;;) {
    const status = await runStatus(client, runObject);
    options.onStatus?.(status);
    for (const stage of status.stages) {
      if (reported.get(stage.name) !== stage.state) {
        const fields = { run: runId, stage_name: stage.name, state: stage.state, reason: stage.reason };
        if (stage.state === 'failed') log.error('stage failed', fields);
        else log.info('stage state', fields);
        reported.set(stage.name, stage.state);
      }
    }

    for (const stage of status.stages) {
      if (stage.state !== 'pending' || stage.reason === undefined) {
        pendingSince.delete(stage.name);
        continue;
      }
      const since = pendingSince.get(stage.name) ?? Date.now();
      pendingSince.set(stage.name, since);
      if (Date.now() - since >= pendingTimeoutMs) {
        throw new UserError(stuckMessage(runId, stage.name, stage.reason, pendingTimeoutMs));
      }
    }

    const ready = status.stages.filter(
      (stage) =>
        stage.state === 'waiting' &&
        stage.dependencies.every((name) => status.stages.find((other) => other.name === name)?.state === 'succeeded'),
    );
    for (const stage of ready) {
      const job = jobs.find((candidate) => candidate.metadata?.labels?.[STAGE_LABEL] === stage.name);
      if (!job) throw new Error(`run ${runId}: the run object has no Job for stage ${stage.name}`);
      const body: k8s.V1Job = { ...job, metadata: { ...job.metadata, ownerReferences: [owner] } };
      await client.call(`create Job ${job.metadata?.name} in namespace ${client.namespace}`, () =>
        client.batch.createNamespacedJob({ namespace: client.namespace, body }),
      );
      log.info('created', { run: runId, kind: 'Job', name: job.metadata?.name });
    }

    if (status.phase !== 'Running' && ready.length === 0) {
      const open = status.stages.some((stage) => ['pending', 'running'].includes(stage.state));
      if (!open) return status;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

function stuckMessage(runId: string, stage: string, reason: string, timeoutMs: number): string {
  const seconds = Math.round(timeoutMs / 1000);
  const gpu = /nvidia\.com\/gpu|untolerated taint|didn't match Pod's node affinity\/selector/.test(reason);
  const fix = gpu
    ? 'add a GPU node pool: nodes labelled fashion-gan/node-pool=gpu, with the NVIDIA device ' +
      'plugin reporting nvidia.com/gpu'
    : 'free capacity or lower the stage resources in pipeline.yaml';
  return (
    `run ${runId}: stage ${stage} could not be scheduled for ${seconds} s: ${reason}; ${fix}; ` +
    `the run stays until 'fashion-gan runs delete ${runId}'`
  );
}
