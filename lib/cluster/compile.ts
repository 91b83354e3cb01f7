import type * as k8s from '@kubernetes/client-node';

import { UserError } from '../errors';
import { PlaceholderContext, renderCommandLine, renderEnv, renderOutputs } from '../pipeline/placeholders';
import { PipelineSpec, ResolvedParameters, StageSpec } from '../pipeline/spec';
import {
  DEPENDENCIES_ANNOTATION,
  STAGE_LABEL,
  STAGE_SERVICE_ACCOUNT,
  STORE_CONFIG_MAP,
  STORE_SECRET,
  checkClusterName,
  jobName,
  runLabels,
  runObjectName,
} from './names';

export type Engine = 'jobs' | 'argo';

export interface CompileOptions {
  runId: string;
  namespace: string;
  /** Store URL the stages read and write, `s3://BUCKET/PREFIX`; never holds credentials. */
  store: string;
  parameters: ResolvedParameters;
  /** Registry and path put before each image name, such as `ghcr.io/me`; none when empty. */
  imageRegistry?: string;
  /** Extra environment variables for every stage container (tests use this for kwok). */
  extraEnv?: Record<string, Record<string, string>>;
}

/** A stage compiled to a container: what both engines put in their pod templates. */
export interface CompiledStage {
  name: string;
  dependencies: string[];
  labels: Record<string, string>;
  container: k8s.V1Container;
  nodeSelector: Record<string, string>;
  tolerations: k8s.V1Toleration[];
  retries: number;
  timeoutSeconds: number;
}

/** The run object: a ConfigMap that owns every other resource of the run. */
export interface CompiledRun {
  runObject: k8s.V1ConfigMap;
  stages: CompiledStage[];
}

/** Extended resource name of NVIDIA GPUs, as the NVIDIA device plugin reports it. */
export const GPU_RESOURCE = 'nvidia.com/gpu';

/**
 * Compiles every stage of a pipeline into containers with their scheduling settings, and the
 * run object that records the run. Throws a `UserError` for names Kubernetes cannot take or a
 * store URL that pods cannot reach.
 */
export function compileRun(spec: PipelineSpec, options: CompileOptions): CompiledRun {
  if (!options.store.startsWith('s3://')) {
    throw new UserError(
      `--store ${options.store}: stages on a cluster share artifacts through S3-compatible ` +
        'storage; pass --store s3://BUCKET/PREFIX',
    );
  }
  const outputsByStage = new Map<string, Record<string, string>>();
  const stages = spec.stages.map((stage) => {
    const problem = checkClusterName(options.runId, stage.name);
    if (problem) throw new UserError(`run ${options.runId}, stage ${stage.name}: ${problem}`);
    const compiled = compileStage(stage, options, outputsByStage);
    return compiled;
  });

  const runObject: k8s.V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: runObjectName(options.runId),
      namespace: options.namespace,
      labels: runLabels(options.runId),
    },
    data: {
      pipeline: spec.name,
      runId: options.runId,
      store: options.store,
      stages: JSON.stringify(stages.map((stage) => ({ name: stage.name, dependencies: stage.dependencies }))),
      parameters: JSON.stringify(options.parameters),
    },
  };
  return { runObject, stages };
}

function compileStage(
  stage: StageSpec,
  options: CompileOptions,
  outputsByStage: Map<string, Record<string, string>>,
): CompiledStage {
  const parameters = options.parameters[stage.name] ?? {};
  const base = { runId: options.runId, store: options.store, pipelineDir: '/app', parameters };
  const outputs = renderOutputs(stage, base);
  outputsByStage.set(stage.name, outputs);
  const inputs = Object.fromEntries(
    Object.entries(stage.inputs.artifacts).map(([name, ref]) => [name, outputsByStage.get(ref.stage)?.[ref.artifact] ?? '']),
  );
  const context: PlaceholderContext = { ...base, inputs, outputs };

  const commandLine = renderCommandLine(stage, context);
  const commandLength = stage.container.command.length;
  const env = {
    ...renderEnv(stage, context),
    FASHION_GAN_RUN_ID: options.runId,
    FASHION_GAN_STAGE: stage.name,
    ...(options.extraEnv?.[stage.name] ?? {}),
  };

  const limits: Record<string, string> = { memory: stage.resources.memory };
  const requests: Record<string, string> = { cpu: stage.resources.cpu, memory: stage.resources.memory };
  if (stage.resources.gpu > 0) {
    // Extended resources take no overcommit: the request must equal the limit.
    limits[GPU_RESOURCE] = String(stage.resources.gpu);
    requests[GPU_RESOURCE] = String(stage.resources.gpu);
  }

  const container: k8s.V1Container = {
    name: 'stage',
    image: options.imageRegistry ? `${options.imageRegistry.replace(/\/+$/, '')}/${stage.container.image}` : stage.container.image,
    command: commandLine.slice(0, commandLength),
    args: commandLine.slice(commandLength),
    env: Object.entries(env).map(([name, value]) => ({ name, value })),
    // The endpoint and credentials of the store, never written into the compiled resources.
    envFrom: [{ configMapRef: { name: STORE_CONFIG_MAP } }, { secretRef: { name: STORE_SECRET } }],
    resources: { requests, limits },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 1000,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    },
  };

  return {
    name: stage.name,
    dependencies: stage.dependencies,
    labels: { ...runLabels(options.runId), [STAGE_LABEL]: stage.name },
    container,
    nodeSelector: stage.nodeSelector,
    tolerations: stage.tolerations.map((toleration) => ({ ...toleration })),
    retries: stage.retries,
    timeoutSeconds: stage.timeoutSeconds,
  };
}

/** A reference from a run's resources to the run object, so that deleting it deletes them. */
export function ownedBy(runObject: k8s.V1ConfigMap): k8s.V1OwnerReference {
  if (!runObject.metadata?.uid) throw new Error('the run object has no uid yet: create it first');
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    name: runObject.metadata.name!,
    uid: runObject.metadata.uid,
    blockOwnerDeletion: true,
  };
}

/**
 * Builds the batch/v1 Job of one stage: retries become backoffLimit, the timeout
 * activeDeadlineSeconds. `owner` is absent in --dry-run output, before the run object exists.
 */
export function stageJob(
  stage: CompiledStage,
  runId: string,
  namespace: string,
  owner?: k8s.V1OwnerReference,
): k8s.V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName(runId, stage.name),
      namespace,
      labels: stage.labels,
      annotations: { [DEPENDENCIES_ANNOTATION]: stage.dependencies.join(',') },
      ...(owner ? { ownerReferences: [owner] } : {}),
    },
    spec: {
      backoffLimit: stage.retries,
      activeDeadlineSeconds: stage.timeoutSeconds,
      template: {
        metadata: { labels: stage.labels },
        spec: {
          ...podSettings(stage),
          // The stages need no Kubernetes API access.
          automountServiceAccountToken: false,
          containers: [stage.container],
        },
      },
    },
  };
}

function podSettings(stage: CompiledStage): k8s.V1PodSpec {
  return {
    restartPolicy: 'Never',
    serviceAccountName: STAGE_SERVICE_ACCOUNT,
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    ...(Object.keys(stage.nodeSelector).length > 0 ? { nodeSelector: stage.nodeSelector } : {}),
    ...(stage.tolerations.length > 0 ? { tolerations: stage.tolerations } : {}),
    containers: [],
  };
}

/** Name of the DAG template, the Workflow's entry point. */
export const DAG_TEMPLATE = 'pipeline';

/**
 * Builds one Argo Workflows `Workflow` (argoproj.io/v1alpha1) whose DAG has a task per stage:
 * retries become retryStrategy.limit, the timeout the template's activeDeadlineSeconds.
 */
export function argoWorkflow(
  run: CompiledRun,
  runId: string,
  namespace: string,
  owner?: k8s.V1OwnerReference,
): Record<string, unknown> {
  const tasks = run.stages.map((stage) => ({
    name: stage.name,
    template: stage.name,
    ...(stage.dependencies.length > 0 ? { dependencies: stage.dependencies } : {}),
  }));
  const templates = run.stages.map((stage) => {
    const { restartPolicy: _restart, serviceAccountName: _account, containers: _containers, ...pod } =
      podSettings(stage);
    return {
      name: stage.name,
      metadata: { labels: stage.labels },
      ...pod,
      activeDeadlineSeconds: stage.timeoutSeconds,
      ...(stage.retries > 0 ? { retryStrategy: { limit: stage.retries, retryPolicy: 'OnFailure' } } : {}),
      container: stage.container,
    };
  });

  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata: {
      name: runObjectName(runId),
      namespace,
      labels: run.runObject.metadata!.labels,
      ...(owner ? { ownerReferences: [owner] } : {}),
    },
    spec: {
      entrypoint: DAG_TEMPLATE,
      serviceAccountName: STAGE_SERVICE_ACCOUNT,
      // The Argo executor in each pod reports results through the API, so it needs the token
      // that k8s/base turns off for the stage service account.
      automountServiceAccountToken: true,
      templates: [{ name: DAG_TEMPLATE, dag: { tasks } }, ...templates],
    },
  };
}
