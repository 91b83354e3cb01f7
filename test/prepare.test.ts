import { strict as assert } from 'assert';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gzipSync } from 'zlib';

import { readManifest, loadSplit } from '../lib/dataset/prepared';
import { readSourceFolder } from '../lib/dataset/source';
import { createLogger, setLogOutput } from '../lib/log/logger';
import { FileStore } from '../lib/storage/file-store';
import { prepareDataset } from '../stages/prepare/prepare';
import { runCli } from './support/cli';
import { cutSample } from './support/fashion-sample';

const logger = createLogger('test');

async function prepareFrom(folder: string, store: FileStore, out = 'datasets/x') {
  return prepareDataset(await readSourceFolder(folder), store, { out, sourceDescription: folder }, logger);
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

  it('does nothing on a rerun with the same input and says so', async () => {
    const first = await prepareFrom(source, store);
    const second = await prepareFrom(source, store);
    assert.equal(first.unchanged, false);
    assert.equal(second.unchanged, true);
    assert.equal(second.manifest.createdAt, first.manifest.createdAt);
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
