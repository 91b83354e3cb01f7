import { Logger } from '../log/logger';

/** How often and how patiently a store operation is repeated after a transient error. */
export interface RetryPolicy {
  /** Retries after the first attempt, so `retries + 1` attempts in all. Zero disables them. */
  retries: number;
  /** Delay before the first retry in milliseconds. Each further retry doubles it. */
  baseDelayMs: number;
  /** Upper bound of any single delay in milliseconds. */
  maxDelayMs: number;
}

/** Five attempts, with at most 3.75 s of delays between them in all. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 4, baseDelayMs: 250, maxDelayMs: 5000 };

/** Socket error codes after which the same request may succeed if sent again. */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

/** S3 error codes that report an overloaded or briefly failing server, not a bad request. */
const TRANSIENT_S3_CODES = new Set([
  'InternalError',
  'ServiceUnavailable',
  'SlowDown',
  'RequestTimeout',
  'OperationAborted',
]);

/** HTTP status codes that the minio JavaScript client (v8) treats as retryable. */
const TRANSIENT_HTTP_STATUS = new Set([408, 429, 499, 500, 502, 503, 504, 520]);

/**
 * Returns the HTTP status of a failed request when the error carries one. The minio client
 * (v8) reports a retryable status that it did not retry as a plain Error with the message
 * `Retryable HTTP status: 503`, so the status is read from the message as well.
 */
export function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number') return status;
  const match = /Retryable HTTP status: (\d{3})/.exec(String((error as Error)?.message ?? ''));
  return match ? Number(match[1]) : undefined;
}

/** Returns the socket error code (`ECONNRESET`...) or S3 error code (`SlowDown`...) of an error. */
export function errorCodeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && code !== '' ? code : undefined;
}

/**
 * Tells whether a failed request may succeed when sent again: connection failures, time-outs,
 * `socket hang up`, HTTP 5xx and throttling. Authentication, permission and missing-bucket
 * errors return false, because repeating them only delays the message the user needs.
 */
export function isTransientError(error: unknown): boolean {
  const code = errorCodeOf(error);
  if (code && (TRANSIENT_NETWORK_CODES.has(code) || TRANSIENT_S3_CODES.has(code))) return true;

  const status = httpStatusOf(error);
  if (status !== undefined) return TRANSIENT_HTTP_STATUS.has(status);

  return /socket hang up/i.test(String((error as Error)?.message ?? ''));
}

/**
 * Returns the delay in milliseconds before retry number `attempt` (1-based): exponential
 * backoff capped at `maxDelayMs`, drawn uniformly from its upper half so that clients that
 * failed together do not retry together.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Description of a retried operation for the log lines of its retries. */
export interface RetryContext {
  /** Operation name for logs: `put`, `upload-part`, `list`... */
  operation: string;
  /** Store URL and object key, never credentials. */
  store: string;
  key: string;
}

/**
 * Runs `attempt` and repeats it after transient errors, as many times as the policy allows,
 * logging each retry with the key, the attempt number and the error code. Rethrows the last
 * error unchanged, so the caller decides how to word it.
 */
export async function withRetry<T>(
  attempt: () => Promise<T>,
  policy: RetryPolicy,
  context: RetryContext,
  logger: Logger,
  isRetryable: (error: unknown) => boolean = isTransientError,
): Promise<T> {
  for (let number = 1; ; number += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (number > policy.retries || !isRetryable(error)) throw error;

      const delayMs = backoffDelay(number, policy);
      logger.warn('retrying after a transient error', {
        op: context.operation,
        store: context.store,
        key: context.key,
        attempt: `${number + 1}/${policy.retries + 1}`,
        delay_ms: delayMs,
        error: describeTransient(error),
      });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** Names a transient error by code or status only, so that no request detail reaches the log. */
function describeTransient(error: unknown): string {
  const status = httpStatusOf(error);
  if (status !== undefined) return `HTTP ${status}`;
  return errorCodeOf(error) ?? (/socket hang up/i.test(String(error)) ? 'socket hang up' : 'error');
}
