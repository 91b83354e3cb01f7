import { strict as assert } from 'assert';
import { mkdtempSync, rmSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';

import { UserError } from '../lib/errors';
import { createLogger, setLogOutput } from '../lib/log/logger';
import { loadGenerator } from '../lib/models/generator-store';
import { FileStore } from '../lib/storage/file-store';
import { ArtifactStore, StoreError, joinKey } from '../lib/storage/store';
import { loadBackend } from '../lib/tensorflow/backend';
import { publish, PublishOptions } from '../stages/publish/publish';
import { readLatest, readRelease } from '../stages/publish/release';
import { FakeRun, writeFakeRun } from './support/publish-fixture';

const logger = createLogger('publish');

function optionsFor(run: FakeRun, overrides: Partial<PublishOptions> = {}): PublishOptions {
  return {
    model: run.trainOut,
    metrics: run.metricsKey,
    releases: 'releases',
    gallery: 'gallery',
    lines: 3,
    seed: 5,
    ...overrides,
  };
}

/** Local paths that an HTML page loads or links to: src and href values that are not anchors. */
function referencedPaths(html: string): string[] {
  const paths: string[] = [];
  for (const match of html.matchAll(/\s(?:src|href)="([^"]+)"/g)) {
    const value = match[1].replace(/&amp;/g, '&');
    if (value.startsWith('#') || value.startsWith('data:')) continue;
    paths.push(value);
  }
  return paths;
}

/** Wraps a store so that every write to a matching key fails, like a read-only bucket key. */
function failingOn(store: ArtifactStore, pattern: RegExp): ArtifactStore {
  const fail = (key: string) => {
    if (pattern.test(key)) {
      throw new StoreError('access-denied', `${store.url}: permission denied on '${key}'`);
    }
  };
  return Object.assign(Object.create(store) as ArtifactStore, {
    put: async (key: string, body: Buffer | string) => {
      fail(key);
      return store.put(key, body);
    },
  });
}

describe('publish stage', function () {
  let root: string;
  let store: FileStore;
  let restoreLog: (line: string) => void;

  before(() => {
    loadBackend({ device: 'cpu' });
    restoreLog = setLogOutput(() => undefined);
  });

  after(() => setLogOutput(restoreLog));

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'fashion-gan-publish-'));
    store = new FileStore(root);
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes the release layout and moves latest', async () => {
    const run = await writeFakeRun(store, { runId: 'run-a', seed: 1 });
    const result = await publish(store, optionsFor(run), logger);

    assert.match(result.releaseId, /^run-a-[0-9a-f]{12}$/);
    const prefix = `releases/${result.releaseId}`;
    for (const key of [
      `${prefix}/release.json`,
      `${prefix}/model/generator/model.json`,
      `${prefix}/model/generator-meta.json`,
      `gallery/index.html`,
      `gallery/style.css`,
      `gallery/releases/${result.releaseId}/index.html`,
      `gallery/releases/${result.releaseId}/tf.min.js`,
      `gallery/releases/${result.releaseId}/live.js`,
      `gallery/releases/${result.releaseId}/model/generator/model.json`,
      `gallery/releases/${result.releaseId}/lines/lines.png`,
      `gallery/releases/${result.releaseId}/lines/style-03-ankle-boot.png`,
      `gallery/releases/${result.releaseId}/categories/dress.png`,
      `gallery/releases/${result.releaseId}/samples/epoch-0002.png`,
    ]) {
      assert.ok(await store.exists(key), `${key} is missing`);
    }

    const latest = await readLatest(store, 'releases');
    assert.equal(latest?.releaseId, result.releaseId);
    assert.equal(latest?.prefix, prefix);

    const record = await readRelease(store, 'releases', result.releaseId);
    assert.equal(record?.runId, 'run-a');
    assert.equal(record?.datasetHash, run.datasetHash);
    assert.equal(record?.metrics.fid, 42.5);
    assert.deepEqual(record?.configuration, { generator: { arch: 'dcgan', conditional: true, latentSize: 8, width: 8, embeddingSize: 4, seed: 1 }, epochs: 2 });
  });

  it('releases a generator that loads back', async () => {
    const run = await writeFakeRun(store, { runId: 'run-a', seed: 1 });
    const result = await publish(store, optionsFor(run), logger);

    for (const prefix of [`releases/${result.releaseId}`, `gallery/releases/${result.releaseId}`]) {
      const generator = await loadGenerator(store, prefix);
      assert.equal(generator.meta.runId, 'run-a');
      assert.deepEqual(generator.model.outputs[0].shape, [null, 28, 28, 1]);
      generator.model.dispose();
    }
  });

  it('names only files that exist in its pages', async () => {
    const run = await writeFakeRun(store, { runId: 'run-a', seed: 1 });
    const result = await publish(store, optionsFor(run), logger);

    for (const page of ['gallery/index.html', result.pageKey]) {
      const html = (await store.get(page)).toString('utf8');
      const folder = path.posix.dirname(page);
      const paths = referencedPaths(html);
      assert.ok(paths.length > 0, `${page} references nothing`);
      for (const reference of paths) {
        assert.doesNotMatch(reference, /^(\/|[a-z]+:)/i, `${page}: '${reference}' is not relative`);
        const key = path.posix.normalize(path.posix.join(folder, reference));
        assert.ok(await store.exists(key), `${page}: '${reference}' (${key}) does not exist`);
      }
    }
  });

  it('lists the images of every line cell', async () => {
    const run = await writeFakeRun(store, { runId: 'run-a', seed: 1 });
    const result = await publish(store, optionsFor(run, { lines: 2, categories: [3, 4, 7] }), logger);
    const html = (await store.get(result.pageKey)).toString('utf8');

    for (const style of ['01', '02']) {
      for (const slug of ['dress', 'coat', 'sneaker']) {
        assert.ok(html.includes(`lines/style-${style}-${slug}.png`), `style ${style} ${slug}`);
      }
    }
    assert.ok(!html.includes('style-03-'), 'a third style is drawn');
    assert.ok(!html.includes('lines/style-01-bag.png'), 'an unrequested category is drawn');
  });

  it('rewrites identical objects when publishing again', async () => {
    const run = await writeFakeRun(store, { runId: 'run-a', seed: 1 });
    const first = await publish(store, optionsFor(run, { now: () => new Date('2025-01-01T00:00:00Z') }), logger);
    const keys = await store.list('');
    const bodies = await Promise.all(keys.map((key) => store.get(key)));

    const second = await publish(store, optionsFor(run, { now: () => new Date('2025-06-01T00:00:00Z') }), logger);

    assert.equal(second.releaseId, first.releaseId);
    assert.deepEqual(await store.list(''), keys);
    for (const [index, key] of keys.entries()) {
      assert.ok((await store.get(key)).equals(bodies[index]), `${key} changed`);
    }
  });

  it('lists releases newest first', async () => {
    const older = await writeFakeRun(store, { runId: 'run-old', seed: 1 });
    const newer = await writeFakeRun(store, { runId: 'run-new', seed: 2 });
    const first = await publish(store, optionsFor(older, { now: () => new Date('2025-01-01T00:00:00Z') }), logger);
    const second = await publish(store, optionsFor(newer, { now: () => new Date('2025-02-01T00:00:00Z') }), logger);
    const index = (await store.get('gallery/index.html')).toString('utf8');

    const newerAt = index.indexOf(`releases/${second.releaseId}/index.html`);
    const olderAt = index.indexOf(`releases/${first.releaseId}/index.html`);
    assert.ok(newerAt >= 0, 'newer release is not listed');
    assert.ok(olderAt >= 0, 'older release is not listed');
    assert.ok(newerAt < olderAt, 'older release comes first');
    assert.equal((await readLatest(store, 'releases'))?.releaseId, second.releaseId);
  });

  it('indexes a release published meanwhile', async () => {
    const first = await writeFakeRun(store, { runId: 'run-a', seed: 1 });
    const second = await writeFakeRun(store, { runId: 'run-b', seed: 2 });
    // The first publish stops before its first index write, with a listing that lacks the
    // second release, and writes that index only after the second publish has finished.
    let reachedIndex!: () => void;
    let resume!: () => void;
    const atIndex = new Promise<void>((resolve) => (reachedIndex = resolve));
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    let indexWriteHeld = false;
    const slowStore = Object.assign(Object.create(store) as ArtifactStore, {
      put: async (key: string, body: Buffer | string, options?: { contentType?: string }) => {
        if (key === 'gallery/index.html' && !indexWriteHeld) {
          indexWriteHeld = true;
          reachedIndex();
          await resumed;
        }
        return store.put(key, body, options);
      },
    });

    const firstPublish = publish(slowStore, optionsFor(first), logger);
    await atIndex;
    const secondResult = await publish(store, optionsFor(second), logger);
    resume();
    const firstResult = await firstPublish;

    const index = (await store.get('gallery/index.html')).toString();
    assert.ok(index.includes(firstResult.releaseId), 'first release missing from the index');
    assert.ok(index.includes(secondResult.releaseId), 'second release missing from the index');
  });

  it('keeps the previous release when a write fails', async () => {
    const good = await writeFakeRun(store, { runId: 'run-good', seed: 1 });
    const previous = await publish(store, optionsFor(good), logger);
    const indexBefore = await store.get('gallery/index.html');
    const bad = await writeFakeRun(store, { runId: 'run-bad', seed: 2 });

    // Fails in the middle: the release's model and images are written, its page is not.
    const broken = failingOn(store, /^gallery\/releases\/run-bad-[^/]+\/live\.js$/);
    await assert.rejects(publish(broken, optionsFor(bad), logger), (error: unknown) => {
      assert.ok(error instanceof StoreError);
      assert.equal(error.code, 'access-denied');
      return true;
    });

    assert.equal((await readLatest(store, 'releases'))?.releaseId, previous.releaseId);
    assert.ok((await store.get('gallery/index.html')).equals(indexBefore), 'index changed');
    assert.ok(await store.exists(previous.pageKey), 'previous page is gone');
    const failedPages = (await store.list('gallery/releases/')).filter((key) =>
      /^gallery\/releases\/run-bad-[^/]+\/index\.html$/.test(key),
    );
    assert.deepEqual(failedPages, []);
  });

  it('keeps latest when public access fails', async () => {
    const good = await writeFakeRun(store, { runId: 'run-good', seed: 1 });
    const previous = await publish(store, optionsFor(good), logger);
    const bad = await writeFakeRun(store, { runId: 'run-bad', seed: 2 });
    const denied = Object.assign(Object.create(store) as ArtifactStore, {
      setPublicRead: async () => {
        throw new StoreError('access-denied', 'bucket policy: access denied');
      },
    });

    await assert.rejects(publish(denied, optionsFor(bad), logger), /access denied/);
    assert.equal((await readLatest(store, 'releases'))?.releaseId, previous.releaseId);
  });

  it('rejects a prefix without a generator', async () => {
    const run = await writeFakeRun(store, { runId: 'run-a', seed: 1 });
    await assert.rejects(
      publish(store, optionsFor(run, { model: 'runs/missing/train' }), logger),
      (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.match(error.message, /^--model: no generator under 'runs\/missing\/train'/);
        return true;
      },
    );
    assert.equal(await readLatest(store, 'releases'), null);
  });

  it('rejects missing metrics', async () => {
    const run = await writeFakeRun(store, { runId: 'run-a', seed: 1 });
    await store.delete(run.metricsKey);
    await assert.rejects(publish(store, optionsFor(run), logger), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.match(error.message, /metrics 'runs\/run-a\/train\/metrics.json' not found/);
      assert.match(error.message, /fashion-gan evaluate/);
      return true;
    });
  });

  it('rejects metrics without a fid', async () => {
    const run = await writeFakeRun(store, { runId: 'run-a', seed: 1 });
    await store.put(run.metricsKey, JSON.stringify({ inceptionScore: 3 }));
    await assert.rejects(publish(store, optionsFor(run), logger), /field 'fid' is missing/);
  });

  it('rejects metrics of another data set', async () => {
    const run = await writeFakeRun(store, { runId: 'run-a', seed: 1 });
    const metrics = JSON.parse((await store.get(run.metricsKey)).toString('utf8'));
    await store.put(run.metricsKey, JSON.stringify({ ...metrics, datasetHash: 'cd'.repeat(32) }));
    await assert.rejects(publish(store, optionsFor(run), logger), /computed on data set cdcdcdcdcdcd/);
  });

  it('escapes text from the run in its pages', async () => {
    const run = await writeFakeRun(store, { runId: 'run-a', seed: 1 });
    await store.put(
      joinKey(run.trainOut, 'config.json'),
      JSON.stringify({ note: '<script>alert(1)</script>' }),
    );
    const result = await publish(store, optionsFor(run), logger);
    const html = (await store.get(result.pageKey)).toString('utf8');

    assert.ok(!html.includes('<script>alert(1)</script>'), 'configuration is not escaped');
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  });

  it('leaks no tensors', async () => {
    const run = await writeFakeRun(store, { runId: 'run-a', seed: 1 });
    const before = tf.memory().numTensors;
    await publish(store, optionsFor(run), logger);
    assert.equal(tf.memory().numTensors, before);
  });
});
