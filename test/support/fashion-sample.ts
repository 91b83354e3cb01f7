import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gzipSync } from 'zlib';

import { IMAGE_PIXELS, IMAGE_SIZE } from '../../lib/constants';
import { encodeIdxImages, encodeIdxLabels, parseIdxImages, parseIdxLabels } from '../../lib/dataset/idx';
import { SOURCE_FILES } from '../../lib/dataset/source';
import { createLogger } from '../../lib/log/logger';
import { FileStore } from '../../lib/storage/file-store';
import { prepareDataset } from '../../stages/prepare/prepare';

/** The full Fashion-MNIST copy beside the repository, read in place and never copied in. */
export const FASHION_MNIST_DIR =
  process.env.FASHION_MNIST_DIR ?? path.resolve(__dirname, '..', '..', '..', 'shared', 'data', 'fashion-mnist');

const cache = new Map<string, Buffer>();

async function readSource(name: string): Promise<Buffer> {
  if (!cache.has(name)) cache.set(name, await fs.readFile(path.join(FASHION_MNIST_DIR, `${name}.gz`)));
  return cache.get(name)!;
}

/**
 * Writes the first `train` and `test` samples of the real data set as gzipped IDX files into a
 * new temporary folder and returns its path.
 */
export async function cutSample(train: number, test: number): Promise<string> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'fashion-sample-'));
  for (const [split, count] of [['train', train], ['test', test]] as const) {
    const files = SOURCE_FILES[split];
    const images = parseIdxImages(files.images.name, await readSource(files.images.name));
    const labels = parseIdxLabels(files.labels.name, await readSource(files.labels.name));
    const pixels = images.pixels.slice(0, count * IMAGE_PIXELS);
    await fs.writeFile(
      path.join(folder, `${files.images.name}.gz`),
      gzipSync(encodeIdxImages({ count, rows: IMAGE_SIZE, columns: IMAGE_SIZE, pixels })),
    );
    await fs.writeFile(
      path.join(folder, `${files.labels.name}.gz`),
      gzipSync(encodeIdxLabels({ count, labels: labels.labels.slice(0, count) })),
    );
  }
  return folder;
}

/**
 * Prepares a small real sample into a new temporary file store and returns the store with the
 * data set prefix, for tests of the stages after prepare.
 */
export async function preparedSample(train = 512, test = 256): Promise<{ store: FileStore; dataset: string; root: string }> {
  const source = await cutSample(train, test);
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'fashion-store-'));
  const store = new FileStore(root);
  const { readSourceFolder } = await import('../../lib/dataset/source');
  await prepareDataset(await readSourceFolder(source), store, { out: 'datasets/sample', sourceDescription: source }, createLogger('test'));
  await fs.rm(source, { recursive: true, force: true });
  return { store, dataset: 'datasets/sample', root };
}
