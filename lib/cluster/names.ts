/** Names and labels that tie a run's cluster resources together. */

/** Label on every resource of a run, with the run id as value. */
export const RUN_LABEL = 'fashion-gan/run';
/** Label on a stage's Job, Workflow template and pods, with the stage name as value. */
export const STAGE_LABEL = 'fashion-gan/stage';
export const PART_OF_LABEL = 'app.kubernetes.io/part-of';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
/** Annotation of a Job: the stages it waits for, comma-separated. */
export const DEPENDENCIES_ANNOTATION = 'fashion-gan/dependencies';

/** Service account of the stage pods, from k8s/base/service-accounts.yaml. */
export const STAGE_SERVICE_ACCOUNT = 'fashion-gan-stage';
/** ConfigMap with the store endpoint and Secret with its credentials, from k8s/base. */
export const STORE_CONFIG_MAP = 'fashion-gan-store';
export const STORE_SECRET = 'fashion-gan-store-credentials';
export const DEFAULT_NAMESPACE = 'fashion-gan';

/** Longest Kubernetes object name that is also a valid label value. */
const MAX_NAME_LENGTH = 63;

/** Name of the run object (a ConfigMap) and of the Argo Workflow of a run. */
export function runObjectName(runId: string): string {
  return `fashion-gan-${runId}`;
}

/** Name of a stage's Job in the jobs engine, such as `fashion-gan-20261204-170102-k3f9-train`. */
export function jobName(runId: string, stage: string): string {
  return `${runObjectName(runId)}-${stage}`;
}

/** Labels shared by every resource of a run. */
export function runLabels(runId: string): Record<string, string> {
  return {
    [PART_OF_LABEL]: 'fashion-gan',
    [MANAGED_BY_LABEL]: 'fashion-gan',
    [RUN_LABEL]: runId,
  };
}

/**
 * Returns why a run id or stage name cannot name cluster resources, or undefined when it can:
 * Job names must be DNS labels (lowercase letters, digits and '-', at most 63 characters).
 */
export function checkClusterName(runId: string, stage: string): string | undefined {
  const name = jobName(runId, stage);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
    return `'${name}' is not a valid Kubernetes name: use lowercase letters, digits and '-' only`;
  }
  if (name.length > MAX_NAME_LENGTH) {
    return `'${name}' is ${name.length} characters long, more than Kubernetes allows (${MAX_NAME_LENGTH})`;
  }
  return undefined;
}
