import { strict as assert } from 'assert';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gzipSync } from 'zlib';

import { DatasetManifest, readManifest, loadSplit } from '../lib/dataset/prepared';
import { UserError } from '../lib/errors';
import { readSourceFolder } from '../lib/dataset/source';
import { createLogger, setLogOutput } from '../lib/log/logger';
import { FileStore } from '../lib/storage/file-store';
import { prepareDataset } from '../stages/prepare/prepare';
import { sha256 } from './support/byte-streams';
import { runCli } from './support/cli';
import { cutSample, preparedSample } from './support/fashion-sample';

const logger = createLogger('test');

async function prepareFrom(folder: string, store: FileStore, out = 'datasets/x') {
  return prepareDataset(await readSourceFolder(folder), store, { out, sourceDescription: folder }, logger);
}

/** Returns a copy of the manifest as prepare wrote it before it recorded object digests. */
function withoutDigests(manifest: DatasetManifest): DatasetManifest {
  const copy = structuredClone(manifest);
  for (const entry of Object.values(copy.splits)) {
    delete entry.imagesSha256;
    delete entry.labelsSha256;
  }
  return copy;
}

async function expectUserError(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: Error) => {
    assert.equal(error.name, 'UserError', `expected a UserError, got ${error.name}: ${error.message}`);
    assert.match(error.message, pattern);
    assert.ok(!error.message.includes('\n'), 'message is one line');
    return true;
  });
}

describe('prepare stage', () => {
  let source: string;
  let root: string;
  let store: FileStore;

  beforeEach(async () => {
    source = await cutSample(300, 100);
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'prepare-store-'));
    store = new FileStore(root);
  });

  afterEach(async () => {
    await fs.rm(source, { recursive: true, force: true });
    await fs.rm(root, { recursive: true, force: true });
  });

  it('writes both splits and a manifest with counts, histogram and pixel mean', async () => {
    await prepareFrom(source, store);
    const manifest = await readManifest(store, 'datasets/x');
    assert.equal(manifest.splits.train.count, 300);
    assert.equal(manifest.splits.test.count, 100);
    assert.equal(manifest.splits.train.classHistogram.reduce((a, b) => a + b, 0), 300);
    assert.ok(manifest.splits.train.pixelMean > 50, `pixel mean ${manifest.splits.train.pixelMean}`);
    assert.ok(manifest.splits.train.pixelMean < 100, `pixel mean ${manifest.splits.train.pixelMean}`);
    const split = await loadSplit(store, 'datasets/x', 'test');
    assert.equal(split.images.length, 100 * 784);
    assert.ok(split.labels.every((label) => label <= 9));
  });

  it('warns when a limit exceeds the split', async () => {
    const lines: string[] = [];
    const restore = setLogOutput((line) => lines.push(line));
    try {
      await prepareDataset(
        await readSourceFolder(source),
        store,
        { out: 'datasets/x', sourceDescription: source, limitTrain: 200, limitTest: 500 },
        logger,
      );
    } finally {
      setLogOutput(restore);
    }
    const manifest = await readManifest(store, 'datasets/x');
    assert.equal(manifest.splits.train.count, 200);
    assert.equal(manifest.splits.test.count, 100);
    const warnings = lines.filter((line) => line.includes('level=warn'));
    assert.equal(warnings.length, 1, lines.join('\n'));
    assert.match(warnings[0], /--limit-test is above the split size, so all samples are kept.*limit=500 samples=100/);
  });

  it('rejects changed objects without digests', async () => {
    await prepareFrom(source, store);
    const manifest = withoutDigests(await readManifest(store, 'datasets/x'));
    await store.put('datasets/x/dataset.json', JSON.stringify(manifest));
    const imagesKey = `datasets/x/${manifest.splits.test.images}`;
    await store.put(imagesKey, Buffer.alloc(100 * 784));
    await assert.rejects(loadSplit(store, 'datasets/x', 'test'), (error: Error) => {
      assert.ok(error instanceof UserError);
      assert.match(error.message, /test split at 'datasets\/x' has pixel mean 0\.00, expected \d+\.\d+ from dataset\.json/);
      return true;
    });

    const labelsKey = `datasets/x/${manifest.splits.train.labels}`;
    const labels = await store.get(labelsKey);
    labels[0] = (labels[0] + 1) % 10;
    await store.put(labelsKey, labels);
    await assert.rejects(loadSplit(store, 'datasets/x', 'train'), /has class counts .* from dataset\.json/);
  });

  it('replaces a manifest with broken splits', async () => {
    await prepareFrom(source, store);
    const manifest = await readManifest(store, 'datasets/x');
    const broken = { ...manifest, splits: { ...manifest.splits, test: null } };
    await store.put('datasets/x/dataset.json', JSON.stringify(broken));

    const result = await prepareFrom(source, store);

    assert.equal(result.unchanged, false);
    assert.equal((await readManifest(store, 'datasets/x')).splits.test.count, 100);
  });

  it('does nothing on a rerun with the same input and says so', async () => {
    const first = await prepareFrom(source, store);
    const second = await prepareFrom(source, store);
    assert.equal(first.unchanged, false);
    assert.equal(second.unchanged, true);
    assert.equal(second.manifest.createdAt, first.manifest.createdAt);
  });

  it('records object digests in the manifest', async () => {
    await prepareFrom(source, store);
    const manifest = await readManifest(store, 'datasets/x');
    for (const split of ['train', 'test'] as const) {
      const entry = manifest.splits[split];
      const images = await store.get(`datasets/x/${entry.images}`);
      const labels = await store.get(`datasets/x/${entry.labels}`);
      assert.equal(entry.imagesSha256, sha256(images), `${split} images`);
      assert.equal(entry.labelsSha256, sha256(labels), `${split} labels`);
    }
  });

  it('adds digests on a rerun over a manifest without them', async () => {
    const first = await prepareFrom(source, store);
    await store.put('datasets/x/dataset.json', JSON.stringify(withoutDigests(first.manifest)));

    const second = await prepareFrom(source, store);

    assert.equal(second.unchanged, false);
    const stored = await readManifest(store, 'datasets/x');
    assert.equal(stored.splits.train.imagesSha256, first.manifest.splits.train.imagesSha256);
    assert.equal(stored.splits.test.labelsSha256, first.manifest.splits.test.labelsSha256);
  });

  it('rewrites objects changed after prepare on a rerun', async () => {
    const first = await prepareFrom(source, store);
    const imagesKey = `datasets/x/${first.manifest.splits.test.images}`;
    const images = await store.get(imagesKey);
    images[500] ^= 1;
    await store.put(imagesKey, images);
    await assert.rejects(loadSplit(store, 'datasets/x', 'test'), /changed after prepare/);

    const second = await prepareFrom(source, store);

    assert.equal(second.unchanged, false);
    assert.equal((await loadSplit(store, 'datasets/x', 'test')).count, 100);
  });

  it('rejects a label file passed as images', async () => {
    await fs.copyFile(path.join(source, 'train-labels-idx1-ubyte.gz'), path.join(source, 'train-images-idx3-ubyte.gz'));
    await expectUserError(prepareFrom(source, store), /train-images-idx3-ubyte\.gz: magic number 2049 is a label file, expected 2051 \(images\)/);
  });

  it('rejects an image file passed as labels', async () => {
    await fs.copyFile(path.join(source, 't10k-images-idx3-ubyte.gz'), path.join(source, 't10k-labels-idx1-ubyte.gz'));
    await expectUserError(prepareFrom(source, store), /t10k-labels-idx1-ubyte\.gz: magic number 2051 is an image file, expected 2049 \(labels\)/);
  });

  it('rejects a truncated image file', async () => {
    const file = path.join(source, 'train-images-idx3-ubyte.gz');
    const { gunzipSync } = await import('zlib');
    const raw = gunzipSync(await fs.readFile(file));
    await fs.writeFile(file, gzipSync(raw.subarray(0, raw.length - 500)));
    await expectUserError(prepareFrom(source, store), /train-images-idx3-ubyte\.gz: header says 300 images of 28x28 .* \(truncated\)/);
  });

  it('rejects a .gz file that is not gzip', async () => {
    await fs.writeFile(path.join(source, 'train-labels-idx1-ubyte.gz'), 'plain text, not gzip');
    await expectUserError(prepareFrom(source, store), /train-labels-idx1-ubyte\.gz: not a gzip file/);
  });

  it('rejects a cut-off gzip stream', async () => {
    const file = path.join(source, 't10k-images-idx3-ubyte.gz');
    const body = await fs.readFile(file);
    await fs.writeFile(file, body.subarray(0, Math.floor(body.length / 2)));
    await expectUserError(prepareFrom(source, store), /t10k-images-idx3-ubyte\.gz: corrupt or truncated gzip data/);
  });

  it('rejects image and label counts that disagree', async () => {
    const other = await cutSample(299, 100);
    await fs.copyFile(path.join(other, 'train-labels-idx1-ubyte.gz'), path.join(source, 'train-labels-idx1-ubyte.gz'));
    await fs.rm(other, { recursive: true, force: true });
    await expectUserError(prepareFrom(source, store), /300 images but .*train-labels-idx1-ubyte\.gz has 299 labels/);
  });

  it('rejects a label outside 0-9', async () => {
    const { encodeIdxLabels } = await import('../lib/dataset/idx');
    const labels = new Uint8Array(100).fill(3);
    labels[42] = 12;
    await fs.writeFile(path.join(source, 't10k-labels-idx1-ubyte.gz'), gzipSync(encodeIdxLabels({ count: 100, labels })));
    await expectUserError(prepareFrom(source, store), /label 12 at index 42 is outside 0-9/);
  });

  it('rejects a file that does not match SHA256SUMS', async () => {
    await fs.writeFile(path.join(source, 'SHA256SUMS'), `${'0'.repeat(64)}  train-labels-idx1-ubyte.gz\n`);
    await expectUserError(prepareFrom(source, store), /train-labels-idx1-ubyte\.gz: SHA-256 does not match/);
  });

  it('rejects a missing source folder and a missing file', async () => {
    await expectUserError(readSourceFolder(path.join(source, 'nope')), /--source .*nope: folder not found/);
    await fs.rm(path.join(source, 't10k-images-idx3-ubyte.gz'));
    await expectUserError(readSourceFolder(source), /t10k-images-idx3-ubyte\.gz \(or t10k-images-idx3-ubyte\) not found/);
  });

  it('keeps the stored data set when a later input is bad', async () => {
    await prepareFrom(source, store);
    const before = await store.get('datasets/x/dataset.json');
    const keysBefore = await store.list('');
    await fs.writeFile(path.join(source, 'train-labels-idx1-ubyte.gz'), 'garbage');
    await assert.rejects(prepareFrom(source, store));
    assert.deepEqual(await store.get('datasets/x/dataset.json'), before);
    assert.deepEqual(await store.list(''), keysBefore);
  });

  it('keeps the old manifest valid while a new data set is written', async () => {
    await prepareFrom(source, store);
    const old = await readManifest(store, 'datasets/x');
    const other = await cutSample(200, 100);
    const next = await prepareFrom(other, store);
    await fs.rm(other, { recursive: true, force: true });
    assert.notEqual(next.manifest.hash, old.hash);
    // The old objects stay under their own hash folder, so a reader holding the old manifest
    // still reads a whole data set.
    assert.equal((await store.get(`datasets/x/${old.splits.train.images}`)).length, 300 * 784);
  });

  it('prints one line and exits non-zero on bad input from the command line', function () {
    this.timeout(60_000);
    const missing = runCli(['prepare', '--source', path.join(source, 'missing'), '--store', `file://${root}`]);
    assert.equal(missing.status, 1);
    assert.deepEqual(missing.errorLines, [`fashion-gan: --source ${path.join(source, 'missing')}: folder not found`]);

    const badUrl = runCli(['prepare', '--source', source, '--store', 'ftp://host/x']);
    assert.equal(badUrl.status, 1);
    assert.deepEqual(badUrl.errorLines, ["fashion-gan: invalid store URL 'ftp://host/x': expected file://FOLDER or s3://BUCKET[/PREFIX]"]);
  });

  it('reports a store folder that cannot be written', async function () {
    this.timeout(60_000);
    const blocker = path.join(root, 'not-a-folder');
    await fs.writeFile(blocker, 'x');
    const result = runCli(['prepare', '--source', source, '--store', `file://${blocker}`]);
    assert.equal(result.status, 1);
    assert.equal(result.errorLines.length, 1, result.stderr);
    assert.match(result.errorLines[0], /^fashion-gan: file:\/\/.*not-a-folder: is a file, expected a folder$/);
  });
});

describe('prepared data set', () => {
  let root: string;
  let store: FileStore;
  let dataset: string;
  let manifestKey: string;
  let manifest: Record<string, any>;
  let manifestBody: Buffer;
  let labelsKey: string;
  let labelsBody: Buffer;
  let imagesKey: string;
  let imagesBody: Buffer;

  before(async () => {
    ({ store, dataset, root } = await preparedSample(100, 100));
    manifestKey = `${dataset}/dataset.json`;
    manifestBody = await store.get(manifestKey);
    labelsKey = `${dataset}/${JSON.parse(manifestBody.toString('utf8')).splits.test.labels}`;
    labelsBody = await store.get(labelsKey);
    imagesKey = `${dataset}/${JSON.parse(manifestBody.toString('utf8')).splits.test.images}`;
    imagesBody = await store.get(imagesKey);
  });

  beforeEach(async () => {
    await store.put(manifestKey, manifestBody);
    await store.put(labelsKey, labelsBody);
    await store.put(imagesKey, imagesBody);
    manifest = JSON.parse(manifestBody.toString('utf8'));
  });

  after(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  /** Stores `body` as the manifest and returns the message of the UserError readManifest throws. */
  async function manifestError(body: unknown): Promise<string> {
    await store.put(manifestKey, JSON.stringify(body));
    try {
      await readManifest(store, dataset);
    } catch (error) {
      assert.equal((error as Error).name, 'UserError', (error as Error).stack);
      return (error as Error).message;
    }
    assert.fail('the manifest was accepted');
  }

  it('rejects a manifest that is not an object', async () => {
    const where = `${store.url}: '${manifestKey}'`;

    assert.equal(
      await manifestError(null),
      `${where} is not a data set manifest: expected a JSON object, got null`,
    );
    assert.equal(
      await manifestError([1]),
      `${where} is not a data set manifest: expected a JSON object, got [1]`,
    );
  });

  it('rejects a manifest without a hash', async () => {
    delete manifest.hash;

    assert.equal(
      await manifestError(manifest),
      `${store.url}: '${manifestKey}': hash is missing, expected the SHA-256 of the data set ` +
        'in 64 hexadecimal digits. Prepare the data set again.',
    );
  });

  it('rejects split images of null', async () => {
    manifest.splits.test.images = null;

    assert.equal(
      await manifestError(manifest),
      `${store.url}: '${manifestKey}': splits.test.images is null, expected a key relative to ` +
        'the data set prefix. Prepare the data set again.',
    );
  });

  it('names each malformed field', async () => {
    const cases: [string, (body: Record<string, any>) => void, string][] = [
      [
        'format',
        (body) => delete body.format,
        "format is missing, expected 'fashion-gan-dataset/1'.",
      ],
      ['hash', (body) => (body.hash = '../classifiers'), "hash is '../classifiers', expected"],
      ['imageShape', (body) => (body.imageShape = [28, 28]), 'imageShape is [28, 28], expected'],
      ['splits', (body) => (body.splits = null), 'splits is null, expected'],
      ['splits.train', (body) => delete body.splits.train, 'splits.train is missing, expected'],
      ['count', (body) => (body.splits.train.count = '1'), "splits.train.count is '1', expected"],
      ['labels', (body) => (body.splits.test.labels = ''), "splits.test.labels is '', expected"],
    ];
    for (const [field, breakManifest, problem] of cases) {
      const body = structuredClone(manifest);
      breakManifest(body);
      const message = await manifestError(body);

      const where = `${store.url}: '${manifestKey}'`;
      assert.ok(message.startsWith(`${where}: ${problem}`), `${field}: ${message}`);
    }
  });

  it('rejects labels above 9 without digests', async () => {
    await store.put(manifestKey, JSON.stringify(withoutDigests(manifest as DatasetManifest)));
    for (const [index, label] of [[42, 200], [99, 255], [0, 10]]) {
      const labels = Buffer.from(labelsBody);
      labels[index] = label;
      await store.put(labelsKey, labels);

      await assert.rejects(loadSplit(store, dataset, 'test'), (error: Error) => {
        assert.equal(error.name, 'UserError');
        assert.equal(
          error.message,
          `${store.url}: '${labelsKey}' has label ${label} at index ${index}, outside 0-9. ` +
            'Prepare the data set again.',
        );
        return true;
      });
    }
  });
  /** Returns the message of the UserError that loading the test split throws. */
  async function loadError(options: { limit?: number } = {}): Promise<string> {
    try {
      await loadSplit(store, dataset, 'test', options);
    } catch (error) {
      assert.equal((error as Error).name, 'UserError', (error as Error).stack);
      return (error as Error).message;
    }
    assert.fail('the split was loaded');
  }

  it('rejects one changed image byte', async () => {
    const images = Buffer.from(imagesBody);
    images[1234] = images[1234] === 255 ? 254 : images[1234] + 1;
    await store.put(imagesKey, images);

    assert.equal(
      await loadError(),
      `${store.url}: '${imagesKey}' has SHA-256 ${sha256(images)}, expected ` +
        `${manifest.splits.test.imagesSha256} from dataset.json: the object changed after ` +
        'prepare. Prepare the data set again.',
    );
  });

  it('rejects two swapped labels', async () => {
    const labels = Buffer.from(labelsBody);
    const other = labels.findIndex((label) => label !== labels[0]);
    [labels[0], labels[other]] = [labels[other], labels[0]];
    await store.put(labelsKey, labels);

    const message = await loadError({ limit: 10 });

    const where = `${escapeRegExp(store.url)}: '${escapeRegExp(labelsKey)}'`;
    assert.match(message, new RegExp(`^${where} has SHA-256 `));
    assert.match(message, /the object changed after prepare\. Prepare the data set again\.$/);
  });

  it('rejects a test entry keyed to train objects', async () => {
    manifest.splits.test.images = manifest.splits.train.images;
    manifest.splits.test.labels = manifest.splits.train.labels;
    await store.put(manifestKey, JSON.stringify(manifest));

    assert.equal(
      await loadError({ limit: 10 }),
      `${store.url}: '${manifestKey}': splits.test.images is '${manifest.splits.train.images}', ` +
        'the same object as splits.train.images. Prepare the data set again.',
    );
  });

  it('rejects a test entry naming a copy of train images', async () => {
    const copyKey = `${dataset}/copied-train-images.u8`;
    await store.put(copyKey, await store.get(`${dataset}/${manifest.splits.train.images}`));
    manifest.splits.test.images = 'copied-train-images.u8';
    await store.put(manifestKey, JSON.stringify(manifest));

    const message = await loadError({ limit: 10 });

    const where = `${escapeRegExp(store.url)}: '${escapeRegExp(copyKey)}'`;
    assert.match(message, new RegExp(`^${where} has SHA-256 [0-9a-f]{64}, expected `));
    assert.match(message, /the object changed after prepare/);
  });

  it('rejects a test entry copied from train', async () => {
    manifest.splits.test = structuredClone(manifest.splits.train);

    assert.equal(
      await manifestError(manifest),
      `${store.url}: '${manifestKey}': splits.test.images is '${manifest.splits.train.images}', ` +
        'the same object as splits.train.images. Prepare the data set again.',
    );
  });

  it('loads a manifest without digests', async () => {
    await store.put(manifestKey, JSON.stringify(withoutDigests(manifest as DatasetManifest)));

    const split = await loadSplit(store, dataset, 'test');

    assert.equal(split.count, 100);
    assert.deepEqual(Buffer.from(split.labels), labelsBody);
  });

  it('rejects a malformed object digest', async () => {
    manifest.splits.train.labelsSha256 = 'abc';

    assert.equal(
      await manifestError(manifest),
      `${store.url}: '${manifestKey}': splits.train.labelsSha256 is 'abc', expected the ` +
        'SHA-256 of the object in 64 hexadecimal digits. Prepare the data set again.',
    );
  });
});

/** Escapes a literal string for use inside a regular expression. */
function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
