import { strict as assert } from 'assert';

import { translateFileError } from '../lib/storage/file-store';
import { StoreError } from '../lib/storage/store';

const STORE_URL = 'file:///data/store';
const ROOT = '/data/store';
const KEY = 'datasets/x/dataset.json';

/** Builds an error shaped like the ones that Node's fs functions throw. */
function systemError(code: string, syscall: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${code}: ${syscall} '${ROOT}/.partial/x'`);
  error.code = code;
  error.syscall = syscall;
  return error;
}

// NOTE: No test writes to a real read-only mount, because creating one needs mount privileges.
describe('file store error translation', () => {
  it('reports a read-only file system as access denied', () => {
    const error = translateFileError(systemError('EROFS', 'open'), STORE_URL, ROOT, KEY);

    assert.ok(error instanceof StoreError, String(error));
    assert.equal(error.code, 'access-denied');
    assert.equal(
      error.message,
      `${STORE_URL}: read-only file system, cannot write '${KEY}'. ` +
        'Choose a store folder on a writable file system.',
    );
  });

  it('maps each filesystem code to its store code', () => {
    const cases: [string, string][] = [
      ['ENOENT', 'not-found'],
      ['EACCES', 'access-denied'],
      ['EPERM', 'access-denied'],
      ['EROFS', 'access-denied'],
      ['EISDIR', 'failed'],
      ['ENOSPC', 'failed'],
    ];
    for (const [code, storeCode] of cases) {
      const error = translateFileError(systemError(code, 'rename'), STORE_URL, ROOT, KEY);

      assert.ok(error instanceof StoreError, `${code}: ${String(error)}`);
      assert.equal(error.code, storeCode, `${code}: ${error.message}`);
      assert.ok(error.message.startsWith(`${STORE_URL}: `), `${code}: ${error.message}`);
      assert.ok(error.message.includes(`'${KEY}'`), `${code}: ${error.message}`);
    }
  });

  it('passes a store error through unchanged', () => {
    const original = new StoreError('invalid-key', "invalid key '../x'");

    assert.equal(translateFileError(original, STORE_URL, ROOT, KEY), original);
  });
});
