import * as assert from 'assert';
import { mkdtempSync, rmSync } from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';

import { FileStore } from '../lib/storage/file-store';
import { createS3Store } from '../lib/storage/s3-store';
import { ArtifactStore, StoreError } from '../lib/storage/store';
import { digestStream, generatedStream, sampleBufferMemory, sha256 } from './support/byte-streams';
import { S3TestServer } from './support/s3-server';

const MiB = 1024 * 1024;
const PART_SIZE = 5 * MiB;
const LARGE_OBJECT_BYTES = 50 * MiB;
/** More keys than one ListObjectsV2 page (1000) returns. */
const MANY_KEYS = 1205;

interface Backend {
  name: string;
  open(): Promise<ArtifactStore>;
  cleanup(): Promise<void>;
}

function fileBackend(): Backend {
  let folder = '';
  return {
    name: 'file store',
    async open() {
      folder = mkdtempSync(path.join(os.tmpdir(), 'fashion-gan-store-'));
      return new FileStore(folder);
    },
    async cleanup() {
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

function s3Backend(): Backend {
  let server: S3TestServer | undefined;
  return {
    name: 's3 store',
    async open() {
      server = await S3TestServer.launch();
      return createS3Store(server.storeUrl('suite'), {
        env: server.env(),
        partSize: PART_SIZE,
        retry: { retries: 1, baseDelayMs: 20 },
      });
    },
    async cleanup() {
      await server?.dispose();
    },
  };
}

async function assertStoreError(promise: Promise<unknown>, code: string, ...fragments: string[]) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof StoreError, `expected a StoreError, got ${String(error)}`);
    assert.strictEqual(error.code, code, error.message);
    for (const fragment of fragments) assert.ok(error.message.includes(fragment), error.message);
    return true;
  });
}

/** Runs `task` on every item with at most `width` tasks running at once. */
async function forEachConcurrently<T>(items: T[], width: number, task: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]);
  };
  await Promise.all(Array.from({ length: width }, worker));
}

for (const backend of [fileBackend(), s3Backend()]) {
  describe(backend.name, function () {
    this.timeout(180_000);
    let store: ArtifactStore;

    before(async () => {
      store = await backend.open();
    });

    after(async () => {
      await store?.close();
      await backend.cleanup();
    });

    it('round-trips a small object', async () => {
      const body = Buffer.from('{"fid": 12.5}\n');
      await store.put('runs/a/metrics.json', body);

      assert.deepStrictEqual(await store.get('runs/a/metrics.json'), body);
      assert.strictEqual(await store.exists('runs/a/metrics.json'), true);
    });

    it('round-trips a string body and an empty object', async () => {
      await store.put('notes/readme.txt', 'généré\n');
      await store.put('notes/empty.txt', Buffer.alloc(0));

      assert.strictEqual((await store.get('notes/readme.txt')).toString('utf8'), 'généré\n');
      assert.strictEqual((await store.get('notes/empty.txt')).length, 0);
    });

    it('streams a 50 MB object without holding it in memory', async () => {
      const source = generatedStream(LARGE_OBJECT_BYTES);
      const memory = await sampleBufferMemory();
      await store.putStream('datasets/large/train-images.u8', source.stream);
      const peak = memory.stop();

      // A buffered body would keep all 50 MiB alive. Streaming keeps one 5 MiB part (5.1 MiB
      // measured on versitygw and MinIO).
      assert.ok(peak < 20 * MiB, `buffers peaked ${(peak / MiB).toFixed(1)} MiB above the start`);
      const read = await digestStream(await store.getStream('datasets/large/train-images.u8'));
      assert.strictEqual(read.bytes, LARGE_OBJECT_BYTES);
      assert.strictEqual(read.sha256, source.digest());
    });

    it('round-trips a buffer larger than one part', async () => {
      const body = Buffer.alloc(PART_SIZE * 2 + 1234);
      for (let i = 0; i < body.length; i += 4096) body[i] = i % 251;
      await store.put('checkpoints/step-100/weights.bin', body);

      assert.strictEqual(sha256(await store.get('checkpoints/step-100/weights.bin')), sha256(body));
    });

    it('lists a prefix of more than 1000 keys', async () => {
      const keys = Array.from(
        { length: MANY_KEYS },
        (_, i) => `many/item-${String(i).padStart(5, '0')}.json`,
      );
      await forEachConcurrently(keys, 32, (key) => store.put(key, '{}'));
      await store.put('many-other/outside.json', '{}');
      await store.put('manyx.json', '{}');

      const listed = await store.list('many/');
      assert.strictEqual(listed.length, MANY_KEYS);
      assert.deepStrictEqual(listed, [...keys].sort());

      const byBarePrefix = await store.list('many');
      assert.strictEqual(byBarePrefix.length, MANY_KEYS + 2);
      assert.ok(byBarePrefix.includes('many-other/outside.json'));
      assert.ok(byBarePrefix.includes('manyx.json'));
    });

    it('lists nothing under an unused prefix', async () => {
      assert.deepStrictEqual(await store.list('nothing-here/'), []);
    });

    it('reports a missing object as not-found', async () => {
      await assertStoreError(
        store.get('runs/none/model.json'),
        'not-found',
        "'runs/none/model.json'",
      );
      await assertStoreError(
        store.getStream('runs/none/model.json'),
        'not-found',
        'runs/none/model.json',
      );
      assert.strictEqual(await store.exists('runs/none/model.json'), false);
    });

    it('treats a key prefix as no object', async () => {
      await store.put('runs/folder-like/model.json', '{}');

      assert.strictEqual(await store.exists('runs/folder-like'), false);
      await assertStoreError(store.get('runs/folder-like'), 'not-found');
      await assertStoreError(store.getStream('runs/folder-like'), 'not-found');
    });

    it('replaces an object on overwrite', async () => {
      await store.put('releases/latest.json', '{"line": 1}');
      await store.put('releases/latest.json', '{"line": 2}');

      assert.strictEqual((await store.get('releases/latest.json')).toString(), '{"line": 2}');
      assert.deepStrictEqual(await store.list('releases/'), ['releases/latest.json']);
    });

    it('deletes an object and ignores a missing one', async () => {
      await store.put('tmp/doomed.bin', Buffer.from([1, 2, 3]));
      await store.delete('tmp/doomed.bin');

      assert.strictEqual(await store.exists('tmp/doomed.bin'), false);
      await assertStoreError(store.get('tmp/doomed.bin'), 'not-found');
      await store.delete('tmp/doomed.bin');
      await store.delete('tmp/never-written.bin');
    });

    const invalidKeys: [string, string][] = [
      ['', 'empty'],
      ['/etc/passwd', 'absolute'],
      ['../outside.json', "'..'"],
      ['runs/../../outside.json', "'..'"],
      ['runs//model.json', 'empty path segment'],
      ['runs/./model.json', "'.'"],
      ['runs\\model.json', 'backslash'],
    ];
    for (const [key, problem] of invalidKeys) {
      it(`rejects the key ${JSON.stringify(key)}`, async () => {
        await assertStoreError(store.put(key, 'x'), 'invalid-key', problem);
        await assertStoreError(store.get(key), 'invalid-key', problem);
        await assertStoreError(store.exists(key), 'invalid-key', problem);
        await assertStoreError(store.delete(key), 'invalid-key', problem);
      });
    }

    it('rejects an invalid listing prefix', async () => {
      await assertStoreError(store.list('../'), 'invalid-key', "'..'");
    });
  });
}

describe('s3 store metadata and access', function () {
  this.timeout(60_000);
  let server: S3TestServer;

  before(async () => {
    server = await S3TestServer.launch();
  });

  after(async () => {
    await server?.dispose();
  });

  const openStore = () =>
    createS3Store(server.storeUrl('meta'), { env: server.env(), partSize: PART_SIZE });

  it('stores the content type given or guessed', async () => {
    const store = openStore();
    await store.put('gallery/grid.png', Buffer.from([0x89, 0x50]), { contentType: 'image/png' });
    await store.put('runs/a/metrics.json', '{}');
    await store.putStream('runs/a/big.bin', generatedStream(PART_SIZE + 10).stream, {
      contentType: 'application/x-fashion-gan',
    });
    await store.close();

    const client = server.client();
    const stat = (key: string) => client.statObject(server.bucket, `meta/${key}`);
    assert.strictEqual((await stat('gallery/grid.png')).metaData['content-type'], 'image/png');
    assert.strictEqual(
      (await stat('runs/a/metrics.json')).metaData['content-type'],
      'application/json',
    );
    assert.strictEqual(
      (await stat('runs/a/big.bin')).metaData['content-type'],
      'application/x-fashion-gan',
    );
  });

  it('names the bucket and object key of a missing object', async () => {
    const store = openStore();
    await assertStoreError(
      store.get('runs/x.json'),
      'not-found',
      server.bucket,
      'meta/runs/x.json',
    );
    await store.close();
  });

  it('makes only the gallery readable anonymously', async () => {
    const store = openStore();
    await store.put('gallery/index.html', '<h1>gallery</h1>');
    await store.put('gallery-old/index.html', '<h1>old</h1>');
    await store.put('releases/line-1/model.json', '{}');
    await store.put('runs/r1/train/model/generator/model.json', '{}');

    await store.setPublicRead('releases/line-1');
    await store.setPublicRead('gallery');
    await store.setPublicRead('gallery/');
    await store.close();

    const status = (key: string) => anonymousGet(`${server.endpoint}/${server.bucket}/meta/${key}`);
    assert.strictEqual(await status('gallery/index.html'), 200);
    assert.strictEqual(await status('releases/line-1/model.json'), 200);
    assert.strictEqual(await status('runs/r1/train/model/generator/model.json'), 403);
    assert.strictEqual(await status('gallery-old/index.html'), 403);

    const policy = JSON.parse(await server.client().getBucketPolicy(server.bucket));
    assert.strictEqual(policy.Statement.length, 2, 'one statement per prefix, not one per call');
  });

  it('keeps policy statements that others wrote', async () => {
    const foreign = {
      Sid: 'OperatorReadLogs',
      Effect: 'Allow',
      Principal: '*',
      Action: ['s3:GetObject'],
      Resource: [`arn:aws:s3:::${server.bucket}/public-logs/*`],
    };
    const client = server.client();
    await client.setBucketPolicy(
      server.bucket,
      JSON.stringify({ Version: '2012-10-17', Statement: [foreign] }),
    );

    const store = openStore();
    await store.setPublicRead('gallery');
    await store.close();

    const policy = JSON.parse(await client.getBucketPolicy(server.bucket));
    const sids = policy.Statement.map((statement: { Sid: string }) => statement.Sid);
    assert.ok(sids.includes('OperatorReadLogs'), JSON.stringify(sids));
    assert.strictEqual(sids.length, 2, JSON.stringify(sids));
  });

  it('rejects making the whole store public', async () => {
    const store = openStore();
    await assertStoreError(store.setPublicRead(''), 'invalid-key', 'whole store');
    await store.close();
  });
});

/** Returns the HTTP status of a GET without credentials. */
function anonymousGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

describe('buffer memory sampler', () => {
  it('sees a body held whole in memory', async () => {
    const memory = await sampleBufferMemory();
    const held = Buffer.alloc(LARGE_OBJECT_BYTES, 1);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const peak = memory.stop();

    assert.strictEqual(held[held.length - 1], 1);
    assert.ok(peak >= LARGE_OBJECT_BYTES, `peak ${(peak / MiB).toFixed(1)} MiB`);
  });
});
