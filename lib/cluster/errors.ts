import { UserError } from '../errors';

/** What was being done when a request failed, for the message: `create Job x in namespace y`. */
export interface RequestContext {
  action: string;
  namespace?: string;
  /** API server URL and kubeconfig context, so the user knows which cluster answered. */
  server: string;
  context: string;
  /** Set when the resource kind may be missing from the cluster, such as Argo's Workflow. */
  kindHint?: string;
}

interface ApiFailure {
  code?: number | string;
  body?: unknown;
  message?: string;
  cause?: { code?: string };
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EAI_AGAIN',
]);

/**
 * Turns a failed Kubernetes API call into a one-line `UserError` that says what to do, for the
 * failures people meet: a server that cannot be reached, rejected credentials, RBAC, a missing
 * namespace or resource kind. Other failures keep the server's message.
 */
export function clusterError(error: unknown, request: RequestContext): UserError {
  const failure = error as ApiFailure;
  const where = `(context ${request.context}, ${request.server})`;
  const networkCode = typeof failure.code === 'string' ? failure.code : failure.cause?.code;

  if (networkCode && UNREACHABLE_CODES.has(networkCode)) {
    return new UserError(
      `cannot reach the Kubernetes API server ${where}: ${networkCode}; check that the cluster ` +
        'is running and that --context or --kubeconfig names it',
    );
  }
  if (/certificate|self[- ]signed|SSL|TLS/i.test(failure.message ?? '') && failure.code === undefined) {
    return new UserError(`TLS to the Kubernetes API server failed ${where}: ${failure.message}`);
  }

  const status = parseStatus(failure.body);
  const serverMessage = status.message ?? failure.message ?? String(error);
  switch (Number(failure.code)) {
    case 401:
      return new UserError(
        `the Kubernetes API server rejected the credentials of context ${request.context} ` +
          `(401 Unauthorized, ${request.server}): log in again or refresh the kubeconfig`,
      );
    case 403:
      return new UserError(
        `${request.action}: forbidden by RBAC: ${serverMessage}; ask a cluster administrator to ` +
          `bind the Role fashion-gan-submitter of k8s/base/rbac.yaml to you`,
      );
    case 404:
      if (status.details?.kind === 'namespaces' || /namespaces? "[^"]*" not found/.test(serverMessage)) {
        return new UserError(
          `namespace ${request.namespace} does not exist ${where}: apply the manifests with ` +
            "'kubectl apply -k k8s/base' or pass --namespace",
        );
      }
      if (request.kindHint) {
        return new UserError(`${request.action}: ${serverMessage}: ${request.kindHint}`);
      }
      return new UserError(`${request.action}: not found: ${serverMessage}`);
    case 409:
      return new UserError(`${request.action}: already exists: ${serverMessage}; pick another --run-id`);
    case 422:
      return new UserError(`${request.action}: the API server rejected it as invalid: ${serverMessage}`);
    default:
      return new UserError(`${request.action} failed ${where}: ${serverMessage}`);
  }
}

interface Status {
  message?: string;
  details?: { kind?: string; name?: string };
}

function parseStatus(body: unknown): Status {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as Status;
    } catch {
      return { message: body.trim() || undefined };
    }
  }
  if (body && typeof body === 'object') return body as Status;
  return {};
}

/** Tells whether an API error is a 404 Not Found. */
export function isNotFound(error: unknown): boolean {
  return Number((error as ApiFailure).code) === 404;
}
