import * as tf from '@tensorflow/tfjs';

import { UserError } from '../../lib/errors';
import { GrayImage } from '../../lib/images/png';
import { tensorToImages } from '../../lib/images/tensor';
import { GeneratorMeta, generateImages } from '../../lib/models/generator';
import { tfjsSeed } from '../../lib/random';

/** A loaded generator and its metadata, as loadGenerator returns them. */
export interface LoadedGenerator {
  model: tf.LayersModel;
  meta: GeneratorMeta;
}

/** A request for fashion lines: columns, rows and seed. */
export interface LineRequest {
  /** Class labels of the columns, in order. */
  labels: number[];
  /** Number of latent styles, the rows; at least 1. */
  styles: number;
  /** Seed of the latent vectors: the same seed and model give the same pictures. */
  seed: number;
}

/** Images per forward pass, to bound memory when many styles and categories are asked for. */
const BATCH = 256;

/**
 * Draws `count` latent vectors from the standard normal distribution, the prior the train stage
 * samples from. tfjs draws seeded normals in JavaScript, so the values do not depend on the
 * backend. Returns [count, latentSize].
 */
export function drawLatents(count: number, latentSize: number, seed: number): tf.Tensor2D {
  return tf.randomNormal([count, latentSize], 0, 1, 'float32', tfjsSeed(seed)) as tf.Tensor2D;
}

/**
 * Renders fashion lines: each style is one latent vector, rendered in every requested category.
 * Returns images `[style][column]`, 28x28 bytes. An unconditional generator ignores the labels,
 * so its "categories" are the same picture.
 */
export function renderLines(generator: LoadedGenerator, request: LineRequest): GrayImage[][] {
  checkRequest(request);
  const { labels, styles } = request;
  const latent = drawLatents(styles, generator.meta.latentSize, request.seed);
  const latentRows = Array.from(latent.arraySync());
  latent.dispose();

  // Row-major over (style, category): style s in column c is entry s * columns + c.
  const rows: number[][] = [];
  const rowLabels: number[] = [];
  latentRows.forEach((row) => {
    labels.forEach((label) => {
      rows.push(row);
      rowLabels.push(label);
    });
  });
  const images = generateBatched(generator, rows, rowLabels);
  return chunk(images, labels.length);
}

/**
 * Renders a latent walk in `frames` steps from style 1 to style 2 of the same request, the first
 * two latent vectors of the seed. Steps follow the great circle between them (spherical
 * interpolation), which keeps intermediate vectors near the norm typical of the prior.
 * Returns images `[column][frame]`.
 */
export function renderWalk(
  generator: LoadedGenerator,
  request: Pick<LineRequest, 'labels' | 'seed'>,
  frames: number,
): GrayImage[][] {
  if (!Number.isInteger(frames) || frames < 2) {
    throw new UserError(`--walk: expected a whole number of frames of at least 2, got ${frames}`);
  }
  checkRequest({ ...request, styles: 2 });
  const latent = drawLatents(2, generator.meta.latentSize, request.seed);
  const [from, to] = latent.arraySync();
  latent.dispose();

  const rows: number[][] = [];
  const rowLabels: number[] = [];
  request.labels.forEach((label) => {
    for (let frame = 0; frame < frames; frame += 1) {
      rows.push(slerp(from, to, frame / (frames - 1)));
      rowLabels.push(label);
    }
  });
  return chunk(generateBatched(generator, rows, rowLabels), frames);
}

/** Spherical interpolation between two vectors, t in [0, 1]; falls back to linear when parallel. */
export function slerp(from: number[], to: number[], t: number): number[] {
  const norm = (v: number[]) => Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));
  const cosine = from.reduce((sum, x, i) => sum + x * to[i], 0) / (norm(from) * norm(to));
  const omega = Math.acos(Math.min(1, Math.max(-1, cosine)));
  if (Math.abs(Math.sin(omega)) < 1e-6) return from.map((x, i) => x + t * (to[i] - x));
  const a = Math.sin((1 - t) * omega) / Math.sin(omega);
  const b = Math.sin(t * omega) / Math.sin(omega);
  return from.map((x, i) => a * x + b * to[i]);
}

function checkRequest(request: LineRequest): void {
  if (!Number.isInteger(request.styles) || request.styles < 1) {
    throw new UserError(`--styles: expected a whole number of at least 1, got ${request.styles}`);
  }
  if (request.labels.length === 0) throw new UserError('--categories: no category given');
  if (!Number.isInteger(request.seed)) {
    throw new UserError(`--seed: expected a whole number, got ${request.seed}`);
  }
}

function generateBatched(
  generator: LoadedGenerator,
  latentRows: number[][],
  labels: number[],
): GrayImage[] {
  const images: GrayImage[] = [];
  for (let start = 0; start < latentRows.length; start += BATCH) {
    const end = Math.min(start + BATCH, latentRows.length);
    const output = tf.tidy(() => {
      const latent = tf.tensor2d(latentRows.slice(start, end));
      return generateImages(generator.model, generator.meta, latent, labels.slice(start, end));
    });
    images.push(...tensorToImages(output));
    output.dispose();
  }
  return images;
}

function chunk<T>(items: T[], size: number): T[][] {
  const rows: T[][] = [];
  for (let start = 0; start < items.length; start += size) rows.push(items.slice(start, start + size));
  return rows;
}
