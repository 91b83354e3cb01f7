import { promises as fs } from 'fs';
import * as path from 'path';

import {
  CATEGORY_SLUGS,
  CLASS_NAMES,
  IMAGE_SIZE,
  PIXEL_MAX,
  PIXEL_MIN,
} from '../../lib/constants';
import { Logger } from '../../lib/log/logger';
import { GENERATOR_PREFIX } from '../../lib/models/generator-store';
import { ArtifactStore, contentTypeFor, joinKey } from '../../lib/storage/store';
import { LossRecord } from './gallery/curves';
import { IndexEntry, renderIndexPage } from './gallery/index-page';
import { CategoryInfo, LiveConfig, renderReleasePage } from './gallery/release-page';
import { EpochSample } from './inputs';
import { TILE_SCALE, cellFileName, encodeGrid, encodeLines } from './line-images';
import { LineRequest, LoadedGenerator, renderLines, renderWalk } from './lines';
import { GeneratorFiles, ReleaseRecord, writeGeneratorFiles } from './release';

const ASSETS = path.join(__dirname, 'gallery', 'assets');

/** Rows and columns of the per-category sample grids. */
const CATEGORY_GRID = { rows: 4, columns: 8, scale: 2 };
/** Frames of the latent walk shown on a release page. */
const WALK_FRAMES = 8;
/** Styles drawn per click on the live section. */
const LIVE_STYLES = 4;

/** Inputs of a release's gallery folder. */
export interface ReleaseGalleryInputs {
  record: ReleaseRecord;
  generator: LoadedGenerator;
  generatorFiles: GeneratorFiles;
  losses: LossRecord[];
  samples: EpochSample[];
  lines: LineRequest;
}

/** Folder of a release's pages under the gallery prefix. */
export function releaseGalleryPrefix(galleryPrefix: string, releaseId: string): string {
  return joinKey(galleryPrefix, 'releases', releaseId);
}

/**
 * Writes a release's folder under the gallery: images, the browser copy of the generator,
 * TensorFlow.js, the live script, and last the page itself, so that a page never names a file
 * that is not there yet. Returns the page's key.
 */
export async function writeReleaseGallery(
  store: ArtifactStore,
  galleryPrefix: string,
  inputs: ReleaseGalleryInputs,
  logger: Logger,
): Promise<string> {
  const { record, generator } = inputs;
  const prefix = releaseGalleryPrefix(galleryPrefix, record.releaseId);
  const put = (name: string, body: Buffer | string) =>
    store.put(joinKey(prefix, name), body, { contentType: contentTypeFor(name) });
  const categories = inputs.lines.labels.map(categoryInfo);

  const lineTiles = renderLines(generator, inputs.lines);
  for (const file of encodeLines(lineTiles, inputs.lines.labels)) {
    await put(`lines/${file.name}`, file.body);
  }
  const walkTiles = renderWalk(generator, inputs.lines, WALK_FRAMES);
  await put('lines/walk.png', encodeGrid(walkTiles, 2));
  logger.info('lines drawn', { styles: inputs.lines.styles, categories: categories.length });

  const categoryGrids = await writeCategoryGrids(inputs, put);
  for (const sample of inputs.samples) {
    await put(`samples/${path.posix.basename(sample.key)}`, await store.get(sample.key));
  }

  await writeGeneratorFiles(store, prefix, inputs.generatorFiles);
  await put('tf.min.js', await fs.readFile(require.resolve('@tensorflow/tfjs/dist/tf.min.js')));
  await put('live.js', await fs.readFile(path.join(ASSETS, 'live.js')));

  const page = renderReleasePage({
    releaseId: record.releaseId,
    runId: record.runId,
    createdAt: record.createdAt,
    datasetHash: record.datasetHash,
    metrics: record.metrics,
    categories,
    lineCells: lineTiles.map((row, style) =>
      row.map((_, column) => `lines/${cellFileName(style, inputs.lines.labels[column])}`),
    ),
    linesGrid: 'lines/lines.png',
    walk: 'lines/walk.png',
    categoryGrids,
    samples: inputs.samples.map((sample) => ({
      epoch: sample.epoch,
      href: `samples/${path.posix.basename(sample.key)}`,
    })),
    losses: inputs.losses,
    configuration: record.configuration,
    live: liveConfig(generator, inputs.lines.labels),
  });
  const pageKey = joinKey(prefix, 'index.html');
  await store.put(pageKey, page, { contentType: contentTypeFor(pageKey) });
  return pageKey;
}

/** Maximum index writes of one publish, which stops there if the listing keeps changing. */
const INDEX_ROUNDS = 5;

/**
 * Writes the gallery's shared files: the style sheet and the index of every release that has
 * a page, newest first. `listReleases` is called again after each write, and the index is
 * rewritten until a listing matches it. Then the last of several publishes running at once
 * writes an index that contains every release whose page was written before it finished.
 */
export async function writeGalleryIndex(
  store: ArtifactStore,
  galleryPrefix: string,
  listReleases: () => Promise<ReleaseRecord[]>,
): Promise<string> {
  await store.put(
    joinKey(galleryPrefix, 'style.css'),
    await fs.readFile(path.join(ASSETS, 'style.css')),
    { contentType: contentTypeFor('style.css') },
  );

  const key = joinKey(galleryPrefix, 'index.html');
  let entries = await indexEntries(store, galleryPrefix, await listReleases());
  for (let round = 1; ; round++) {
    await store.put(key, renderIndexPage(entries), { contentType: contentTypeFor(key) });
    const current = await indexEntries(store, galleryPrefix, await listReleases());
    if (sameReleases(current, entries) || round === INDEX_ROUNDS) return key;
    entries = current;
  }
}

/** Returns the index entries of the releases whose gallery page exists, in the given order. */
async function indexEntries(
  store: ArtifactStore,
  galleryPrefix: string,
  releases: ReleaseRecord[],
): Promise<IndexEntry[]> {
  const entries: IndexEntry[] = [];
  for (const record of releases) {
    const folder = joinKey('releases', record.releaseId);
    // A release whose publish failed before its page was written is left out.
    if (!(await store.exists(joinKey(galleryPrefix, folder, 'index.html')))) continue;
    entries.push({
      releaseId: record.releaseId,
      runId: record.runId,
      createdAt: record.createdAt,
      fid: record.metrics?.fid ?? null,
      inceptionScore: record.metrics?.inceptionScore ?? null,
      gatePassed: record.metrics?.gate?.passed ?? null,
      page: `${folder}/index.html`,
      preview: `${folder}/lines/lines.png`,
    });
  }
  return entries;
}

function sameReleases(left: IndexEntry[], right: IndexEntry[]): boolean {
  return (
    left.length === right.length &&
    left.every((entry, index) => entry.releaseId === right[index].releaseId)
  );
}

async function writeCategoryGrids(
  inputs: ReleaseGalleryInputs,
  put: (name: string, body: Buffer) => Promise<void>,
): Promise<Array<{ category: CategoryInfo; href: string }>> {
  const { rows, columns, scale } = CATEGORY_GRID;
  const grids: Array<{ category: CategoryInfo; href: string }> = [];
  // One line request over every sample position: the same latent grid in every category.
  const tiles = renderLines(inputs.generator, {
    labels: inputs.lines.labels,
    styles: rows * columns,
    seed: inputs.lines.seed + 1,
  });
  for (const [column, label] of inputs.lines.labels.entries()) {
    const samples = tiles.map((row) => row[column]);
    const grid = Array.from({ length: rows }, (_, r) => samples.slice(r * columns, (r + 1) * columns));
    const href = `categories/${CATEGORY_SLUGS[label]}.png`;
    await put(href, encodeGrid(grid, scale));
    grids.push({ category: categoryInfo(label), href });
  }
  return grids;
}

function categoryInfo(label: number): CategoryInfo {
  return { label, slug: CATEGORY_SLUGS[label], name: CLASS_NAMES[label] };
}

/** Settings of the live section; every shape and range comes from lib/constants.ts. */
function liveConfig(generator: LoadedGenerator, selected: number[]): LiveConfig {
  return {
    modelUrl: `${GENERATOR_PREFIX}/model.json`,
    latentSize: generator.meta.latentSize,
    conditional: generator.meta.conditional,
    imageSize: IMAGE_SIZE,
    pixelRange: [PIXEL_MIN, PIXEL_MAX],
    scale: TILE_SCALE,
    styles: LIVE_STYLES,
    categories: CLASS_NAMES.map((_, label) => categoryInfo(label)),
    selected,
  };
}
