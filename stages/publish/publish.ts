import { CLASS_NAMES } from '../../lib/constants';
import { UserError } from '../../lib/errors';
import { Logger } from '../../lib/log/logger';
import { loadGenerator } from '../../lib/models/generator-store';
import { ArtifactStore, contentTypeFor, joinKey } from '../../lib/storage/store';
import { releaseGalleryPrefix, writeGalleryIndex, writeReleaseGallery } from './gallery-writer';
import { listEpochSamples, readLosses, readMetrics, readRunConfig } from './inputs';
import {
  LatestPointer,
  RELEASE_FORMAT,
  ReleaseRecord,
  listReleases,
  readGeneratorFiles,
  readRelease,
  releaseIdFor,
  writeGeneratorFiles,
  writeLatest,
} from './release';

/** Options of one publish, as the command line gives them. */
export interface PublishOptions {
  /** Train stage output prefix that contains model/generator/. */
  model: string;
  /** Key of the evaluate stage's metrics.json. */
  metrics: string;
  /** Prefix of the private releases, default `releases`. */
  releases: string;
  /** Prefix of the public static site, default `gallery`. */
  gallery: string;
  /** Styles (rows) of the fashion lines on the release page. */
  lines: number;
  /** Categories (columns) of the lines, as labels; every class by default. */
  categories?: number[];
  /** Seed of the lines' latent vectors. */
  seed: number;
  /** Clock for createdAt; tests fix it. */
  now?: () => Date;
}

export interface PublishResult {
  releaseId: string;
  /** Key of release.json. */
  releaseKey: string;
  /** Key of the release page under the gallery prefix. */
  pageKey: string;
  latest: LatestPointer;
}

/**
 * Publishes a trained generator as a release and its gallery pages, in an order that keeps the
 * previous release whole if any step fails:
 *   1. releases/<id>/model/... and releases/<id>/release.json (private);
 *   2. gallery/releases/<id>/... with the page written last, then gallery/index.html;
 *   3. public read access on the gallery prefix;
 *   4. releases/latest.json, the only object that switches readers to the new release.
 * The release id comes from the run id and the generator's hash, so publishing the same model
 * again rewrites identical objects.
 */
export async function publish(
  store: ArtifactStore,
  options: PublishOptions,
  logger: Logger,
): Promise<PublishResult> {
  const generatorFiles = await readGeneratorFiles(store, options.model);
  const metrics = await readMetrics(store, options.metrics);
  const generator = await loadGenerator(store, options.model);
  try {
    const { meta } = generator;
    if (metrics.datasetHash && meta.datasetHash && metrics.datasetHash !== meta.datasetHash) {
      throw new UserError(
        `metrics ${options.metrics}: computed on data set ${metrics.datasetHash.slice(0, 12)}, ` +
          `but the generator at '${options.model}' was trained on ` +
          `${meta.datasetHash.slice(0, 12)}; evaluate this model first`,
      );
    }

    const releaseId = releaseIdFor(meta.runId ?? '', generatorFiles.sha256);
    const releasePrefix = joinKey(options.releases, releaseId);
    const previous = await readRelease(store, options.releases, releaseId);
    const record: ReleaseRecord = {
      format: RELEASE_FORMAT,
      releaseId,
      runId: meta.runId ?? '',
      createdAt: previous?.createdAt ?? (options.now ?? (() => new Date()))().toISOString(),
      datasetHash: meta.datasetHash ?? metrics.datasetHash ?? '',
      source: options.model,
      metricsKey: options.metrics,
      modelSha256: generatorFiles.sha256,
      modelFiles: [...generatorFiles.files.keys()],
      generator: meta,
      configuration: await readRunConfig(store, options.model),
      metrics,
      galleryPage: joinKey(releaseGalleryPrefix('', releaseId), 'index.html'),
    };
    logger.info('publishing release', {
      release: releaseId,
      run: record.runId,
      fid: metrics.fid,
      again: previous !== null,
    });

    await writeGeneratorFiles(store, releasePrefix, generatorFiles);
    const releaseKey = joinKey(releasePrefix, 'release.json');
    await store.put(releaseKey, `${JSON.stringify(record, null, 2)}\n`, {
      contentType: contentTypeFor(releaseKey),
    });

    const pageKey = await writeReleaseGallery(
      store,
      options.gallery,
      {
        record,
        generator,
        generatorFiles,
        losses: await readLosses(store, options.model),
        samples: await listEpochSamples(store, options.model),
        lines: {
          labels: options.categories ?? CLASS_NAMES.map((_, label) => label),
          styles: options.lines,
          seed: options.seed,
        },
      },
      logger,
    );
    await writeGalleryIndex(store, options.gallery, () =>
      listReleases(store, options.releases, logger),
    );
    // Only the gallery becomes public: it carries its own copy of the generator for the live
    // page, so releases/, checkpoints and data sets stay private.
    await store.setPublicRead(joinKey(options.gallery));

    const latest = await writeLatest(store, options.releases, record);
    logger.info('release published', { release: releaseId, page: pageKey });
    return { releaseId, releaseKey, pageKey, latest };
  } finally {
    generator.model.dispose();
  }
}
