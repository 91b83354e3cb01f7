import * as assert from 'assert';

import { createLogger, setLogOutput } from '../lib/log/logger';
import { backoffDelay, isTransientError, withRetry } from '../lib/storage/retry';

const POLICY = { retries: 3, baseDelayMs: 10, maxDelayMs: 25 };

describe('store retries', () => {
  it('doubles the delay up to the cap', () => {
    assert.strictEqual(
      backoffDelay(1, POLICY, () => 1),
      10,
    );
    assert.strictEqual(
      backoffDelay(2, POLICY, () => 1),
      20,
    );
    assert.strictEqual(
      backoffDelay(3, POLICY, () => 1),
      25,
    );
    assert.strictEqual(
      backoffDelay(9, POLICY, () => 1),
      25,
    );
  });

  it('draws the delay from the upper half', () => {
    assert.strictEqual(
      backoffDelay(2, POLICY, () => 0),
      10,
    );
    assert.strictEqual(
      backoffDelay(2, POLICY, () => 0.5),
      15,
    );
  });

  const cases: [string, unknown, boolean][] = [
    ['ECONNRESET', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), true],
    ['ECONNREFUSED', Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }), true],
    ['socket hang up', new Error('socket hang up'), true],
    [
      'HTTP 502',
      new Error('Request failed after 0 retries: Error: Retryable HTTP status: 502'),
      true,
    ],
    ['SlowDown', Object.assign(new Error('slow'), { code: 'SlowDown' }), true],
    ['InternalError', Object.assign(new Error('oops'), { code: 'InternalError' }), true],
    ['AccessDenied', Object.assign(new Error('no'), { code: 'AccessDenied' }), false],
    ['NoSuchBucket', Object.assign(new Error('no'), { code: 'NoSuchBucket' }), false],
    ['InvalidAccessKeyId', Object.assign(new Error('no'), { code: 'InvalidAccessKeyId' }), false],
    [
      'SignatureDoesNotMatch',
      Object.assign(new Error('no'), { code: 'SignatureDoesNotMatch' }),
      false,
    ],
    ['a programming error', new TypeError('x is undefined'), false],
  ];
  for (const [name, error, transient] of cases) {
    it(`classifies ${name} as ${transient ? 'transient' : 'permanent'}`, () => {
      assert.strictEqual(isTransientError(error), transient);
    });
  }

  it('stops after the allowed retries and logs each', async () => {
    const lines: string[] = [];
    const previous = setLogOutput((line) => lines.push(line));
    let calls = 0;
    try {
      await assert.rejects(
        withRetry(
          async () => {
            calls += 1;
            throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
          },
          POLICY,
          { operation: 'put', store: 's3://bucket', key: 'runs/a.json' },
          createLogger('storage'),
        ),
        /reset/,
      );
    } finally {
      setLogOutput(previous);
    }
    assert.strictEqual(calls, 4);
    assert.strictEqual(lines.length, 3);
    assert.match(lines[0], /key=runs\/a\.json/);
    assert.match(lines[2], /attempt=4\/4/);
  });

  it('does not repeat a permanent error', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(
        async () => {
          calls += 1;
          throw Object.assign(new Error('denied'), { code: 'AccessDenied' });
        },
        POLICY,
        { operation: 'get', store: 's3://bucket', key: 'k' },
        createLogger('storage'),
      ),
    );
    assert.strictEqual(calls, 1);
  });
});
