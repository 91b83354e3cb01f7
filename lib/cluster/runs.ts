import * as k8s from '@kubernetes/client-node';

import { UserError } from '../errors';
import { ClusterClient } from './client';
import { isNotFound } from './errors';
import { RUN_LABEL, STAGE_LABEL, runObjectName } from './names';
import { ENGINE_KEY } from './submit';

/** State of a stage in a run. `skipped`: a stage it depends on failed, so it never starts. */
export type StageState = 'waiting' | 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';

export interface StageStatus {
  name: string;
  dependencies: string[];
  state: StageState;
  /** Why it failed or is pending, from the Job condition or the pod's scheduling condition. */
  reason?: string;
}

export interface RunStatus {
  runId: string;
  engine: string;
  created?: Date;
  phase: 'Running' | 'Succeeded' | 'Failed';
  stages: StageStatus[];
}

/** Reads the run object of a run, or throws a `UserError` naming the run when it is absent. */
export async function readRunObject(client: ClusterClient, runId: string): Promise<k8s.V1ConfigMap> {
  try {
    return await client.core.readNamespacedConfigMap({ name: runObjectName(runId), namespace: client.namespace });
  } catch (error) {
    if (isNotFound(error)) {
      throw new UserError(`run ${runId} not found in namespace ${client.namespace}; list runs with 'fashion-gan runs'`);
    }
    return client.call(`read run ${runId}`, () => Promise.reject(error));
  }
}

/** Lists the run objects of the namespace, newest first. */
export async function listRunObjects(client: ClusterClient): Promise<k8s.V1ConfigMap[]> {
  const list = await client.call(`list runs in namespace ${client.namespace}`, () =>
    client.core.listNamespacedConfigMap({ namespace: client.namespace, labelSelector: RUN_LABEL }),
  );
  return list.items.sort(
    (a, b) => (b.metadata?.creationTimestamp?.getTime() ?? 0) - (a.metadata?.creationTimestamp?.getTime() ?? 0),
  );
}

/** Computes the state of every stage of a run from its Jobs and their pods. */
export async function runStatus(client: ClusterClient, runObject: k8s.V1ConfigMap): Promise<RunStatus> {
  const runId = runObject.data?.runId ?? '';
  const engine = runObject.data?.[ENGINE_KEY] ?? 'jobs';
  const declared = JSON.parse(runObject.data?.stages ?? '[]') as { name: string; dependencies: string[] }[];
  const states = engine === 'argo' ? await argoStates(client, runId) : await jobStates(client, runId);

  const stages: StageStatus[] = [];
  for (const stage of declared) {
    const found = states.get(stage.name);
    let state: StageState = found?.state ?? 'waiting';
    const upstreamFailed = stage.dependencies.some((name) => {
      const upstream = stages.find((candidate) => candidate.name === name);
      return upstream?.state === 'failed' || upstream?.state === 'skipped';
    });
    if (state === 'waiting' && upstreamFailed) state = 'skipped';
    stages.push({ name: stage.name, dependencies: stage.dependencies, state, reason: found?.reason });
  }

  const failed = stages.some((stage) => stage.state === 'failed');
  const finished = stages.every((stage) => ['succeeded', 'failed', 'skipped'].includes(stage.state));
  const phase = failed && finished ? 'Failed' : finished ? 'Succeeded' : failed ? 'Failed' : 'Running';
  return { runId, engine, created: runObject.metadata?.creationTimestamp, phase, stages };
}

async function jobStates(client: ClusterClient, runId: string): Promise<Map<string, Omit<StageStatus, 'name' | 'dependencies'>>> {
  const selector = `${RUN_LABEL}=${runId}`;
  const jobs = await client.call(`list the Jobs of run ${runId}`, () =>
    client.batch.listNamespacedJob({ namespace: client.namespace, labelSelector: selector }),
  );
  const pods = await client.call(`list the pods of run ${runId}`, () =>
    client.core.listNamespacedPod({ namespace: client.namespace, labelSelector: selector }),
  );

  const states = new Map<string, Omit<StageStatus, 'name' | 'dependencies'>>();
  for (const job of jobs.items) {
    const stage = job.metadata?.labels?.[STAGE_LABEL];
    if (!stage) continue;
    const condition = (type: string) =>
      job.status?.conditions?.find((entry) => entry.type === type && entry.status === 'True');
    const failed = condition('Failed');
    if (condition('Complete')) {
      states.set(stage, { state: 'succeeded' });
    } else if (failed) {
      states.set(stage, { state: 'failed', reason: `${failed.reason}: ${failed.message ?? ''}`.trim() });
    } else {
      const stagePods = pods.items.filter((pod) => pod.metadata?.labels?.[STAGE_LABEL] === stage);
      const unscheduled = stagePods.map(unschedulableReason).find((reason) => reason !== undefined);
      const running = stagePods.some((pod) => pod.status?.phase === 'Running');
      states.set(stage, running ? { state: 'running' } : { state: 'pending', reason: unscheduled });
    }
  }
  return states;
}

/** The scheduler's message for a pod it cannot place, such as `0/3 nodes are available: ...`. */
export function unschedulableReason(pod: k8s.V1Pod): string | undefined {
  if (pod.status?.phase !== 'Pending') return undefined;
  const scheduled = pod.status.conditions?.find((condition) => condition.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') return scheduled.message ?? 'unschedulable';
  return undefined;
}

async function argoStates(client: ClusterClient, runId: string): Promise<Map<string, Omit<StageStatus, 'name' | 'dependencies'>>> {
  const header = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata: { name: runObjectName(runId), namespace: client.namespace },
  };
  const workflow = (await client.call(`read the Workflow of run ${runId}`, () => client.objects.read(header))) as {
    status?: { nodes?: Record<string, { displayName?: string; type?: string; phase?: string; message?: string }> };
  };
  const byPhase: Record<string, StageState> = {
    Pending: 'pending',
    Running: 'running',
    Succeeded: 'succeeded',
    Failed: 'failed',
    Error: 'failed',
    Skipped: 'skipped',
    Omitted: 'skipped',
  };
  const states = new Map<string, Omit<StageStatus, 'name' | 'dependencies'>>();
  for (const node of Object.values(workflow.status?.nodes ?? {})) {
    // Retry nodes carry a task's overall phase; Pod nodes under them are single attempts.
    if (!node.displayName || (node.type !== 'Retry' && node.type !== 'Pod')) continue;
    if (node.type === 'Pod' && states.has(node.displayName)) continue;
    states.set(node.displayName, { state: byPhase[node.phase ?? ''] ?? 'waiting', reason: node.message });
  }
  return states;
}

/**
 * Deletes a run: the run object, whose owner references let the garbage collector remove its
 * Jobs or Workflow and their pods, and the labelled Jobs as well so that a cluster without a
 * running garbage collector keeps nothing either.
 */
export async function deleteRun(client: ClusterClient, runId: string): Promise<void> {
  const runObject = await readRunObject(client, runId);
  await client.call(`delete the Jobs of run ${runId}`, () =>
    client.batch.deleteCollectionNamespacedJob({
      namespace: client.namespace,
      labelSelector: `${RUN_LABEL}=${runId}`,
      propagationPolicy: 'Background',
    }),
  );
  await client.call(`delete run ${runId}`, () =>
    client.core.deleteNamespacedConfigMap({
      name: runObject.metadata!.name!,
      namespace: client.namespace,
      propagationPolicy: 'Foreground',
    }),
  );
}
