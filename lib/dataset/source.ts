import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';

import { UserError } from '../errors';
import { Logger } from '../log/logger';

/** The four Fashion-MNIST files, by split and kind, with the MD5 sums of the official release. */
export const SOURCE_FILES = {
  train: {
    images: { name: 'train-images-idx3-ubyte', md5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d' },
    labels: { name: 'train-labels-idx1-ubyte', md5: '25c81989df183df01b3e8a0aad5dffbe' },
  },
  test: {
    images: { name: 't10k-images-idx3-ubyte', md5: 'bef4ecab320f06d8554ea6380940ec79' },
    labels: { name: 't10k-labels-idx1-ubyte', md5: 'bb300cfdad3c16e7a12a480ee83cd310' },
  },
} as const;

/** Base URL of Zalando Research's copy of the data set, with the files as `<name>.gz`. */
export const OFFICIAL_DOWNLOAD_URL =
  'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/';

export interface SourceFile {
  /** Path of the file, for messages. */
  path: string;
  body: Buffer;
}

export type SourceFiles = Record<'train' | 'test', Record<'images' | 'labels', SourceFile>>;

/**
 * Reads the four IDX files from a folder, gzipped (`.gz`) or not. When the folder has a
 * `SHA256SUMS` file, every file it lists that is read is checked against it.
 */
export async function readSourceFolder(folder: string): Promise<SourceFiles> {
  const stat = await fs.stat(folder).catch(() => undefined);
  if (!stat) throw new UserError(`--source ${folder}: folder not found`);
  if (!stat.isDirectory()) throw new UserError(`--source ${folder}: not a folder`);

  const sums = await readChecksums(path.join(folder, 'SHA256SUMS'));
  const result = {} as SourceFiles;
  for (const split of ['train', 'test'] as const) {
    result[split] = {} as SourceFiles['train'];
    for (const kind of ['images', 'labels'] as const) {
      const file = await findFile(folder, SOURCE_FILES[split][kind].name);
      const body = await fs.readFile(file);
      const expected = sums.get(path.basename(file));
      if (expected && sha256(body) !== expected) {
        throw new UserError(`${file}: SHA-256 does not match ${path.join(folder, 'SHA256SUMS')}; the file is damaged`);
      }
      result[split][kind] = { path: file, body };
    }
  }
  return result;
}

/**
 * Downloads the four gzipped files from `baseUrl` into a cache folder, checking each against
 * the official MD5 sum, and reads them. Files already in the cache with the right sum are not
 * downloaded again.
 */
export async function downloadSource(baseUrl: string, logger: Logger, cacheFolder = defaultCacheFolder()): Promise<SourceFiles> {
  await fs.mkdir(cacheFolder, { recursive: true });
  const result = {} as SourceFiles;
  for (const split of ['train', 'test'] as const) {
    result[split] = {} as SourceFiles['train'];
    for (const kind of ['images', 'labels'] as const) {
      const { name, md5 } = SOURCE_FILES[split][kind];
      const file = path.join(cacheFolder, `${name}.gz`);
      let body: Buffer | undefined = await fs.readFile(file).catch(() => undefined);
      if (!body || md5Of(body) !== md5) {
        const url = new URL(`${name}.gz`, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).toString();
        logger.info('downloading', { url });
        const downloaded = await fetchBody(url);
        if (md5Of(downloaded) !== md5) {
          throw new UserError(`${url}: MD5 ${md5Of(downloaded)} does not match the official ${md5}; not using it`);
        }
        const partial = `${file}.partial-${process.pid}`;
        await fs.writeFile(partial, downloaded);
        body = downloaded;
        await fs.rename(partial, file);
      }
      result[split][kind] = { path: file, body };
    }
  }
  return result;
}

export function defaultCacheFolder(): string {
  return path.join(process.env.FASHION_GAN_CACHE ?? path.join(os.homedir(), '.cache', 'fashion-gan'), 'fashion-mnist');
}

export function sha256(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

function md5Of(body: Buffer): string {
  return createHash('md5').update(body).digest('hex');
}

async function fetchBody(url: string): Promise<Buffer> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(120_000) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new UserError(`${url}: download failed (${cause}); use --source DIR with a local copy`);
  }
  if (!response.ok) {
    throw new UserError(`${url}: download failed with HTTP ${response.status}; use --source DIR with a local copy`);
  }
  return Buffer.from(await response.arrayBuffer());
}

async function findFile(folder: string, name: string): Promise<string> {
  for (const candidate of [`${name}.gz`, name]) {
    const file = path.join(folder, candidate);
    if (await fs.stat(file).then((s) => s.isFile()).catch(() => false)) return file;
  }
  throw new UserError(`--source ${folder}: ${name}.gz (or ${name}) not found`);
}

async function readChecksums(file: string): Promise<Map<string, string>> {
  const sums = new Map<string, string>();
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return sums;
  for (const line of text.split('\n')) {
    const match = /^([0-9a-f]{64})\s+\*?(.+)$/.exec(line.trim());
    if (match) sums.set(path.basename(match[2]), match[1]);
  }
  return sums;
}
