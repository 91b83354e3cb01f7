import * as http from 'http';
import * as https from 'https';

/**
 * Wraps `request` so that a request whose socket stays idle for `timeoutMs` fails with
 * ETIMEDOUT (and is retried) instead of hanging, because Node sets no such limit by default.
 */
export function timedRequest(
  protocol: typeof http | typeof https,
  timeoutMs: number,
): typeof http.request {
  const request = (...args: unknown[]) => {
    const outgoing = (protocol.request as (...a: unknown[]) => http.ClientRequest)(...args);
    outgoing.setTimeout(timeoutMs, () => {
      const error = Object.assign(new Error(`no response within ${timeoutMs} ms`), {
        code: 'ETIMEDOUT',
      });
      outgoing.destroy(error);
    });
    return outgoing;
  };
  return request as typeof http.request;
}
