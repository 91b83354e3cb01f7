import * as assert from 'assert';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

import { loadS3Config, parseS3Url } from '../lib/storage/s3-config';
import { StoreError } from '../lib/storage/store';

const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret-value-123' };
const LOCAL = { FASHION_GAN_S3_ENDPOINT: 'http://127.0.0.1:9000', ...CREDENTIALS };

function configError(run: () => unknown, ...fragments: string[]): StoreError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof StoreError, String(error));
    for (const fragment of fragments) assert.ok(error.message.includes(fragment), error.message);
    return error;
  }
  assert.fail('expected a configuration error');
}

describe('s3 store configuration', () => {
  it('splits the bucket from the prefix', () => {
    assert.deepStrictEqual(parseS3Url('s3://artifacts/team/runs/'), {
      bucket: 'artifacts',
      prefix: 'team/runs',
    });
    assert.deepStrictEqual(parseS3Url('s3://artifacts'), { bucket: 'artifacts', prefix: '' });
  });

  it('rejects a URL without a valid bucket', () => {
    configError(() => parseS3Url('s3://'), 'bucket');
    configError(() => parseS3Url('s3://Upper/x'), "'Upper'");
  });

  it('hides credentials written into the URL', () => {
    const error = configError(() => parseS3Url('s3://user:pa55word@bucket/x'), 'never in the URL');
    assert.ok(!error.message.includes('pa55word'), error.message);
  });

  it('rejects a prefix with a dot-dot segment', () => {
    configError(() => parseS3Url('s3://bucket/runs/../x'), "'..'");
  });

  it('reads a plain HTTP endpoint with path-style requests', () => {
    const config = loadS3Config('s3://bucket/runs', LOCAL);

    assert.strictEqual(config.host, '127.0.0.1');
    assert.strictEqual(config.port, 9000);
    assert.strictEqual(config.useSSL, false);
    assert.strictEqual(config.pathStyle, true);
    assert.strictEqual(config.region, 'us-east-1');
    assert.strictEqual(config.url, 's3://bucket/runs');
  });

  it('turns TLS on for an https endpoint', () => {
    const config = loadS3Config('s3://bucket', {
      ...CREDENTIALS,
      AWS_ENDPOINT_URL: 'https://s3.internal.test',
    });

    assert.strictEqual(config.useSSL, true);
    assert.strictEqual(config.port, 443);
    assert.strictEqual(config.endpoint, 'https://s3.internal.test');
    assert.strictEqual(config.endpointSource, 'AWS_ENDPOINT_URL');
  });

  it('prefers the project endpoint variable', () => {
    const config = loadS3Config('s3://bucket', {
      ...CREDENTIALS,
      S3_ENDPOINT: 'http://127.0.0.1:1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:2',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:3',
      FASHION_GAN_S3_ENDPOINT: 'http://127.0.0.1:4',
    });
    assert.strictEqual(config.port, 4);
  });

  it('takes the region and path style from the environment', () => {
    const config = loadS3Config('s3://bucket', {
      ...LOCAL,
      AWS_DEFAULT_REGION: 'eu-west-3',
      FASHION_GAN_S3_PATH_STYLE: 'false',
    });
    assert.strictEqual(config.region, 'eu-west-3');
    assert.strictEqual(config.pathStyle, false);
  });

  it('uses AWS S3 only when a region is configured', () => {
    configError(() => loadS3Config('s3://bucket', CREDENTIALS), 'no S3 endpoint configured');

    const config = loadS3Config('s3://bucket', { ...CREDENTIALS, AWS_REGION: 'eu-central-1' });
    assert.strictEqual(config.endpoint, 'https://s3.eu-central-1.amazonaws.com');
    assert.strictEqual(config.pathStyle, false);
  });

  it('rejects an endpoint with credentials without echoing them', () => {
    const error = configError(
      () =>
        loadS3Config('s3://bucket', {
          ...CREDENTIALS,
          FASHION_GAN_S3_ENDPOINT: 'http://me:hunter2@127.0.0.1:9000',
        }),
      'contains credentials',
    );
    assert.ok(!error.message.includes('hunter2'), error.message);
  });

  it('rejects an endpoint with a path or another scheme', () => {
    configError(
      () =>
        loadS3Config('s3://b1c', { ...CREDENTIALS, S3_ENDPOINT: 'http://127.0.0.1:9000/bucket' }),
      'without a path',
    );
    configError(
      () => loadS3Config('s3://b1c', { ...CREDENTIALS, S3_ENDPOINT: 'ftp://127.0.0.1' }),
      'http://',
    );
    configError(
      () => loadS3Config('s3://b1c', { ...CREDENTIALS, S3_ENDPOINT: '127.0.0.1:9000' }),
      'http://',
    );
  });

  it('names the missing credential variable', () => {
    configError(
      () => loadS3Config('s3://bucket', { FASHION_GAN_S3_ENDPOINT: 'http://127.0.0.1:9000' }),
      'AWS_ACCESS_KEY_ID is not set',
    );
    configError(
      () =>
        loadS3Config('s3://bucket', {
          FASHION_GAN_S3_ENDPOINT: 'http://127.0.0.1:9000',
          AWS_ACCESS_KEY_ID: 'x',
        }),
      'AWS_SECRET_ACCESS_KEY is not set',
    );
  });

  it('rejects invalid numbers', () => {
    configError(
      () => loadS3Config('s3://bucket', { ...LOCAL, FASHION_GAN_S3_RETRIES: 'many' }),
      'FASHION_GAN_S3_RETRIES',
    );
    configError(
      () => loadS3Config('s3://bucket', { ...LOCAL, FASHION_GAN_S3_PART_SIZE_MB: '4' }),
      'at least 5',
    );
    configError(
      () => loadS3Config('s3://bucket', { ...LOCAL, FASHION_GAN_S3_PATH_STYLE: 'maybe' }),
      'true or false',
    );
  });

  it('reads retries, part size and time-out', () => {
    const config = loadS3Config('s3://bucket', {
      ...LOCAL,
      FASHION_GAN_S3_RETRIES: '0',
      FASHION_GAN_S3_RETRY_BASE_MS: '10',
      FASHION_GAN_S3_PART_SIZE_MB: '8',
      FASHION_GAN_S3_TIMEOUT_S: '5',
    });
    assert.strictEqual(config.retry.retries, 0);
    assert.strictEqual(config.retry.baseDelayMs, 10);
    assert.strictEqual(config.partSize, 8 * 1024 * 1024);
    assert.strictEqual(config.requestTimeoutMs, 5000);
  });

  describe('credentials folder', () => {
    let folder: string;

    beforeEach(() => {
      folder = mkdtempSync(path.join(os.tmpdir(), 'fashion-gan-secret-'));
    });

    afterEach(() => {
      rmSync(folder, { recursive: true, force: true });
    });

    const withFolder = (target: string) =>
      loadS3Config('s3://bucket', {
        FASHION_GAN_S3_ENDPOINT: 'http://127.0.0.1:9000',
        FASHION_GAN_S3_CREDENTIALS_FILE: target,
      });

    it('reads accessKey, secretKey and sessionToken files', () => {
      writeFileSync(path.join(folder, 'accessKey'), 'folder-access\n');
      writeFileSync(path.join(folder, 'secretKey'), 'folder-secret\n');
      writeFileSync(path.join(folder, 'sessionToken'), 'folder-token');

      const { credentials } = withFolder(folder);
      assert.strictEqual(credentials.accessKey, 'folder-access');
      assert.strictEqual(credentials.secretKey, 'folder-secret');
      assert.strictEqual(credentials.sessionToken, 'folder-token');
    });

    it('takes precedence over AWS_ACCESS_KEY_ID', () => {
      writeFileSync(path.join(folder, 'accessKey'), 'folder-access');
      writeFileSync(path.join(folder, 'secretKey'), 'folder-secret');

      const config = loadS3Config('s3://bucket', {
        ...LOCAL,
        FASHION_GAN_S3_CREDENTIALS_FILE: folder,
      });
      assert.strictEqual(config.credentials.accessKey, 'folder-access');
    });

    it('names a missing or empty entry', () => {
      writeFileSync(path.join(folder, 'accessKey'), 'folder-access');
      writeFileSync(path.join(folder, 'secretKey'), '\n');
      configError(() => withFolder(folder), "'secretKey' is missing or empty");
    });

    it('rejects a file in place of the folder', () => {
      const file = path.join(folder, 'credentials.json');
      writeFileSync(file, '{"secretKey": "inside-the-file"}');
      const error = configError(() => withFolder(file), 'expected a folder');
      assert.ok(!error.message.includes('inside-the-file'), error.message);
    });

    it('rejects a folder that does not exist', () => {
      configError(() => withFolder(path.join(folder, 'absent')), 'folder not found');
    });
  });
});
