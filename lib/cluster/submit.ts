import type * as k8s from '@kubernetes/client-node';
import * as yaml from 'js-yaml';

import { createLogger } from '../log/logger';
import { ClusterClient } from './client';
import { CompiledRun, Engine, argoWorkflow, ownedBy, stageJob } from './compile';
import { isNotFound } from './errors';
import { runObjectName } from './names';

const log = createLogger('submit');

/** Key of the run object data that contains the Job manifests still to create, as JSON. */
export const JOBS_KEY = 'jobs';
export const ENGINE_KEY = 'engine';

const ARGO_HINT =
  'this cluster has no Argo Workflows (workflows.argoproj.io); install Argo Workflows or submit ' +
  'with --engine jobs';

/**
 * Returns the resources of a run as multi-document YAML, as `--dry-run` prints them. The run
 * object is shown without its `jobs` entry, which repeats the Jobs that follow it as JSON.
 */
export function renderRunYaml(run: CompiledRun, engine: Engine, runId: string, namespace: string): string {
  const runObject = withEngine(run.runObject, run, engine, runId, namespace);
  delete runObject.data![JOBS_KEY];
  const resources = [runObject, ...engineResources(run, engine, runId, namespace)];
  return resources.map((resource) => yaml.dump(resource, { noRefs: true, lineWidth: 100 })).join('---\n');
}

function engineResources(
  run: CompiledRun,
  engine: Engine,
  runId: string,
  namespace: string,
  owner?: k8s.V1OwnerReference,
): object[] {
  if (engine === 'argo') return [argoWorkflow(run, runId, namespace, owner)];
  return run.stages.map((stage) => stageJob(stage, runId, namespace, owner));
}

/** The run object with the engine and, for the jobs engine, every Job to create later. */
function withEngine(
  runObject: k8s.V1ConfigMap,
  run: CompiledRun,
  engine: Engine,
  runId: string,
  namespace: string,
): k8s.V1ConfigMap {
  const data: Record<string, string> = { ...runObject.data, [ENGINE_KEY]: engine };
  if (engine === 'jobs') {
    // The controller loop creates each Job from here once its dependencies succeeded, so a
    // later `runs watch` can carry on a run whose submit was interrupted.
    data[JOBS_KEY] = JSON.stringify(run.stages.map((stage) => stageJob(stage, runId, namespace)));
  }
  return { ...runObject, data };
}

export interface CreateOptions {
  /** Send every request with dryRun=All: the server validates and admits, and stores nothing. */
  serverDryRun?: boolean;
}

/**
 * Creates a run: the run object, then the Argo Workflow, or the Jobs of the stages that
 * depend on nothing. When any creation fails, deletes what was created and rethrows, so that no
 * half run stays behind. Returns the created run object (with its uid).
 */
export async function createRun(
  client: ClusterClient,
  run: CompiledRun,
  engine: Engine,
  runId: string,
  options: CreateOptions = {},
): Promise<{ runObject: k8s.V1ConfigMap; created: k8s.KubernetesObject[] }> {
  const dryRun = options.serverDryRun ? 'All' : undefined;
  const namespace = client.namespace;
  const body = withEngine(run.runObject, run, engine, runId, namespace);
  const runObject = await client.call(`create the run object ConfigMap ${runObjectName(runId)} in namespace ${namespace}`, () =>
    client.core.createNamespacedConfigMap({ namespace, body, dryRun }),
  );

  const owner = ownedBy(runObject);
  const created: k8s.KubernetesObject[] = [];
  try {
    const resources = engineResources(run, engine, runId, namespace, owner) as k8s.KubernetesObject[];
    const first =
      engine === 'argo'
        ? resources
        : resources.filter((_job, index) => run.stages[index].dependencies.length === 0);
    // A server dry run checks every resource now, since nothing is created later.
    const toCreate = options.serverDryRun ? resources : first;
    for (const resource of toCreate) {
      const action = `create ${resource.kind} ${resource.metadata?.name} in namespace ${namespace}`;
      const hint = engine === 'argo' ? ARGO_HINT : undefined;
      created.push(await client.call(action, () => client.objects.create(resource, undefined, dryRun), hint));
      log.info('created', { run: runId, kind: resource.kind, name: resource.metadata?.name, dry_run: options.serverDryRun });
    }
  } catch (error) {
    if (!options.serverDryRun) await rollBack(client, runObject, created);
    throw error;
  }
  return { runObject, created };
}

/** Deletes what a failed submit created, newest first; the error that caused it wins. */
async function rollBack(
  client: ClusterClient,
  runObject: k8s.V1ConfigMap,
  created: k8s.KubernetesObject[],
): Promise<void> {
  for (const resource of [...created].reverse()) {
    await client.objects.delete(resource, undefined, undefined, undefined, undefined, 'Background').catch((error) => {
      if (!isNotFound(error)) log.warn('rollback: delete failed', { name: resource.metadata?.name, error: String(error) });
    });
  }
  await client.core
    .deleteNamespacedConfigMap({
      name: runObject.metadata!.name!,
      namespace: client.namespace,
      propagationPolicy: 'Background',
    })
    .catch((error) => {
      if (!isNotFound(error)) log.warn('rollback: delete of the run object failed', { error: String(error) });
    });
  log.warn('submit failed: removed what it had created', { run: runObject.data?.runId, removed: created.length + 1 });
}
