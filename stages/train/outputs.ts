import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';

import { NUM_CLASSES } from '../../lib/constants';
import { composeGrid } from '../../lib/images/grid';
import { encodePng } from '../../lib/images/png';
import { tensorToImages } from '../../lib/images/tensor';
import { Logger } from '../../lib/log/logger';
import { generateImages } from '../../lib/models/generator';
import { currentBackend } from '../../lib/tensorflow/backend';
import { ArtifactStore, StoreError, joinKey } from '../../lib/storage/store';
import { TrainConfig } from './config';

/** Samples per class row of the per-epoch grid. */
const GRID_COLUMNS = 10;

/** One line of `logs/losses.jsonl`. */
export interface LossRecord {
  step: number;
  epoch: number;
  dLoss: number;
  gLoss: number;
  dReal: number;
  dFake: number;
  imagesPerSecond: number;
  time: string;
}

/**
 * Draws a fixed batch of latent vectors, one grid row per class, from its own seed, so that the
 * per-epoch grids show the same styles as training goes on.
 */
export function fixedNoise(config: TrainConfig): { latent: tf.Tensor2D; labels: number[] } {
  const rows = config.conditional ? NUM_CLASSES : 1;
  const count = rows * GRID_COLUMNS;
  const latent = tf.randomNormal([count, config.latentSize], 0, 1, 'float32', config.seed + 7) as tf.Tensor2D;
  const labels = Array.from({ length: count }, (_, i) => Math.floor(i / GRID_COLUMNS));
  return { latent, labels };
}

/** Renders the fixed batch as a PNG grid, one row per class, upscaled twice. */
export function renderSampleGrid(generator: tf.LayersModel, config: TrainConfig, noise: { latent: tf.Tensor2D; labels: number[] }): Buffer {
  const images = generateImages(generator, config, noise.latent, noise.labels);
  try {
    const tiles = tensorToImages(images);
    const rows = [];
    for (let start = 0; start < tiles.length; start += GRID_COLUMNS) rows.push(tiles.slice(start, start + GRID_COLUMNS));
    return encodePng(composeGrid(rows, { scale: 2, gap: 2, background: 40 }));
  } finally {
    images.dispose();
  }
}

/**
 * Keeps the losses log (JSON lines) and the TensorBoard event files of a run. A store has no
 * append, so the whole log is rewritten at each flush; it stays small (one line per logEvery).
 */
export class TrainingLog {
  private records: LossRecord[] = [];
  private readonly tensorboardDir: string;
  private writer?: { scalar(name: string, value: number, step: number): void; flush(): void };

  constructor(private readonly store: ArtifactStore, private readonly out: string, private readonly logger: Logger) {
    this.tensorboardDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fashion-gan-tensorboard-'));
    const backend = currentBackend();
    if (backend?.name === 'tensorflow') {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { node } = require(backend.packageName) as { node: { summaryFileWriter(dir: string): TrainingLog['writer'] } };
      this.writer = node.summaryFileWriter(this.tensorboardDir);
    } else {
      logger.warn('TensorBoard event files need libtensorflow; writing losses.jsonl only');
    }
  }

  /** Loads the records of an earlier attempt, dropping any after `step` (not in the checkpoint). */
  async resume(step: number): Promise<void> {
    try {
      const text = (await this.store.get(joinKey(this.out, 'logs/losses.jsonl'))).toString('utf8');
      this.records = text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as LossRecord)
        .filter((record) => record.step <= step);
    } catch (error) {
      if (!(error instanceof StoreError && error.code === 'not-found')) throw error;
    }
  }

  add(record: LossRecord): void {
    this.records.push(record);
    if (this.writer) {
      this.writer.scalar('loss/discriminator', record.dLoss, record.step);
      this.writer.scalar('loss/generator', record.gLoss, record.step);
      this.writer.scalar('discriminator/real_probability', record.dReal, record.step);
      this.writer.scalar('discriminator/fake_probability', record.dFake, record.step);
      this.writer.scalar('speed/images_per_second', record.imagesPerSecond, record.step);
    }
  }

  /** Writes losses.jsonl and uploads the TensorBoard event files to `logs/tensorboard/`. */
  async flush(): Promise<void> {
    const body = this.records.map((record) => JSON.stringify(record)).join('\n') + (this.records.length ? '\n' : '');
    await this.store.put(joinKey(this.out, 'logs/losses.jsonl'), body, { contentType: 'application/x-ndjson' });
    if (!this.writer) return;
    this.writer.flush();
    for (const name of fs.readdirSync(this.tensorboardDir)) {
      await this.store.put(joinKey(this.out, 'logs/tensorboard', name), fs.readFileSync(path.join(this.tensorboardDir, name)));
    }
  }

  close(): void {
    fs.rmSync(this.tensorboardDir, { recursive: true, force: true });
  }
}
