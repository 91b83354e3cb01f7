import { execFile } from 'child_process';
import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';
import { promisify } from 'util';

import { ArtifactStore, StoreError, joinKey } from '../storage/store';
import { expandArgs } from './placeholders';
import { ParameterValue, StageSpec } from './spec';

const execFileAsync = promisify(execFile);

/** Store key prefix of the cache index: `cache/<stage>/<key>.json`. */
export const CACHE_PREFIX = 'cache';

/** One cache index entry: the outputs of the run whose stage produced them. */
export interface CacheEntry {
  format: 'fashion-gan-cache/1';
  stage: string;
  key: string;
  runId: string;
  /** Output artifact name -> store key prefix. */
  outputs: Record<string, string>;
  /** Fingerprint of the outputs when the stage finished (see outputsFingerprint). */
  fingerprint?: string;
  createdAt: string;
  durationSeconds: number;
}

/** Inputs of a stage's cache key. */
export interface CacheKeyInput {
  stage: StageSpec;
  parameters: Record<string, ParameterValue>;
  /** Input artifact name -> identity of its content: the producer's cache key and output name. */
  inputs: Record<string, string>;
  codeVersion: string;
}

/**
 * Computes a stage's cache key, a SHA-256 hex digest of its command line templates (with `if`
 * groups expanded), environment, output prefix templates, parameters, input identities and code
 * version. Templates are hashed rather than rendered lines, so that the run id and the keys of
 * a cached producer's outputs, which differ from run to run, do not change the key.
 */
export function cacheKey(input: CacheKeyInput): string {
  const { stage } = input;
  const identity = {
    stage: stage.name,
    image: stage.container.image,
    commandLine: [
      ...stage.container.command,
      ...expandArgs(stage.container.args, input.parameters),
    ],
    env: sortedObject(stage.container.env),
    outputs: sortedObject(
      Object.fromEntries(Object.entries(stage.outputs.artifacts).map(([n, o]) => [n, o.prefix])),
    ),
    parameters: sortedObject(input.parameters),
    inputs: sortedObject(input.inputs),
    code: input.codeVersion,
  };
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex');
}

function sortedObject<T>(object: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(object).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function entryKey(stage: string, key: string): string {
  return joinKey(CACHE_PREFIX, stage, `${key}.json`);
}

/**
 * Returns the cache entry of a stage for a key when its outputs are still what the stage wrote:
 * the same keys, and the same bodies of their JSON objects. Otherwise returns undefined, so a
 * model overwritten by hand, say, is never reused with its old scores.
 */
export async function lookupCache(
  store: ArtifactStore,
  stage: string,
  key: string,
): Promise<CacheEntry | undefined> {
  let entry: CacheEntry;
  try {
    entry = JSON.parse((await store.get(entryKey(stage, key))).toString('utf8')) as CacheEntry;
  } catch (error) {
    if (error instanceof StoreError && error.code === 'not-found') return undefined;
    // A corrupt entry means the stage runs again, which rewrites it.
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
  for (const prefix of Object.values(entry.outputs ?? {})) {
    if ((await store.list(`${prefix}/`)).length === 0) return undefined;
  }
  if (entry.fingerprint !== (await outputsFingerprint(store, entry.outputs ?? {}))) return undefined;
  return entry;
}

/**
 * Hashes the keys under each output prefix and the bodies of the JSON objects among them
 * (manifests, metadata, metrics, checkpoint indexes). Binary objects are not read: every stage
 * rewrites a JSON object next to the binaries it changes, which keeps this cheap.
 */
export async function outputsFingerprint(store: ArtifactStore, outputs: Record<string, string>): Promise<string> {
  const hash = createHash('sha256');
  for (const name of Object.keys(outputs).sort()) {
    const keys = await store.list(`${outputs[name]}/`);
    hash.update(`${name}\n${keys.join('\n')}\n`);
    for (const key of keys.filter((candidate) => candidate.endsWith('.json'))) {
      hash.update(await store.get(key));
    }
  }
  return hash.digest('hex');
}

/** Writes a cache entry; called only after the stage succeeded. */
export async function recordCache(store: ArtifactStore, entry: CacheEntry): Promise<void> {
  await store.put(entryKey(entry.stage, entry.key), `${JSON.stringify(entry, null, 2)}\n`, {
    contentType: 'application/json',
  });
}

const codeVersions = new Map<string, Promise<string>>();

/**
 * Hashes the contents of the files under `paths` (files, or folders ending in '/'), relative to
 * `root`. In a git checkout the files are those git tracks plus untracked ones it does not
 * ignore, so build output and artifacts do not count. Contents are hashed, never mtimes, so a
 * fresh checkout of the same commit has the same version. Memoized per process.
 */
export function codeVersion(root: string, paths: string[]): Promise<string> {
  const memoKey = `${root}\0${paths.join('\0')}`;
  let version = codeVersions.get(memoKey);
  if (version === undefined) {
    version = hashFiles(root, paths);
    codeVersions.set(memoKey, version);
    // Let a failed computation be retried instead of caching the rejection.
    version.catch(() => codeVersions.delete(memoKey));
  }
  return version;
}

/** Forgets memoized code versions; for tests that edit code between runs. */
export function clearCodeVersions(): void {
  codeVersions.clear();
}

async function hashFiles(root: string, paths: string[]): Promise<string> {
  const files = (await listFiles(root, paths)).sort();
  const hash = createHash('sha256');
  for (const file of files) {
    const content = await fs.readFile(path.join(root, file));
    hash.update(`${file}\0${createHash('sha256').update(content).digest('hex')}\n`);
  }
  return hash.digest('hex');
}

async function listFiles(root: string, paths: string[]): Promise<string[]> {
  try {
    const { stdout } = await execFileAsync(
      'git',
      ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', ...paths],
      { cwd: root, maxBuffer: 64 * 1024 * 1024 },
    );
    const listed = stdout.split('\0').filter((file) => file !== '');
    // ls-files lists deleted files that are still in the index; they have no contents to hash.
    const present = await Promise.all(listed.map((file) => isFile(path.join(root, file))));
    return [...new Set(listed.filter((_, index) => present[index]))];
  } catch {
    // Not a git checkout (a container image, an unpacked tarball): hash every file on disk.
    const files: string[] = [];
    for (const entry of paths) await walk(root, entry.replace(/\/$/, ''), files);
    return files;
  }
}

async function walk(root: string, relative: string, files: string[]): Promise<void> {
  const full = path.join(root, relative);
  const stat = await fs.stat(full).catch(() => undefined);
  if (stat === undefined) return;
  if (stat.isFile()) {
    files.push(relative);
    return;
  }
  if (!stat.isDirectory()) return;
  for (const name of await fs.readdir(full)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    await walk(root, path.join(relative, name), files);
  }
}

async function isFile(file: string): Promise<boolean> {
  return (await fs.stat(file).catch(() => undefined))?.isFile() ?? false;
}
