import * as tf from '@tensorflow/tfjs';

import { IMAGE_SHAPE, NUM_CLASSES, PIXEL_MAX, PIXEL_MIN } from '../constants';
import { UserError } from '../errors';
import { isJsonObject } from '../json';
import { ArtifactStore, StoreError, joinKey } from '../storage/store';
import { GeneratorMeta } from './generator';
import { loadModel, saveModel } from './store-io';

/** Keys of a training run's final generator and its metadata, relative to the run's output. */
export const GENERATOR_PREFIX = 'model/generator';
export const GENERATOR_META = 'model/generator-meta.json';

/** Saves the generator's weights, then its metadata, under `trainOut`. */
export async function saveGenerator(
  store: ArtifactStore,
  trainOut: string,
  model: tf.LayersModel,
  meta: GeneratorMeta,
): Promise<void> {
  await saveModel(model, store, joinKey(trainOut, GENERATOR_PREFIX));
  await store.put(joinKey(trainOut, GENERATOR_META), `${JSON.stringify(meta, null, 2)}\n`, {
    contentType: 'application/json',
  });
}

/**
 * Loads the generator that a training run saved under `trainOut` and checks that its inputs and
 * output have the shapes its metadata promises: [n, latentSize] (and [n, 1] labels when
 * conditional) in, [n, 28, 28, 1] out.
 */
export async function loadGenerator(
  store: ArtifactStore,
  trainOut: string,
): Promise<{ model: tf.LayersModel; meta: GeneratorMeta }> {
  const metaKey = joinKey(trainOut, GENERATOR_META);
  let meta: GeneratorMeta;
  try {
    meta = JSON.parse((await store.get(metaKey)).toString('utf8')) as GeneratorMeta;
  } catch (error) {
    if (error instanceof StoreError && error.code === 'not-found') {
      throw new UserError(`${store.url}: no trained generator at '${trainOut}' (${metaKey} not found); run the train stage first`);
    }
    if (error instanceof SyntaxError) throw new UserError(`${store.url}: ${metaKey} is not valid JSON`);
    throw error;
  }

  const fieldProblem = metaProblem(meta);
  if (fieldProblem) throw new UserError(`${store.url}: ${metaKey}: ${fieldProblem}`);

  const model = await loadModel(store, joinKey(trainOut, GENERATOR_PREFIX));
  const problem = shapeProblem(model, meta);
  if (problem) {
    model.dispose();
    throw new UserError(`${store.url}: generator at '${trainOut}' ${problem}`);
  }
  return { model, meta };
}

/** Describes the first metadata field that the stages cannot work with, if any. */
function metaProblem(meta: GeneratorMeta): string | undefined {
  if (!isJsonObject(meta)) {
    return 'expected a JSON object of generator metadata';
  }
  const same = (left: unknown, right: unknown) => JSON.stringify(left) === JSON.stringify(right);
  if (!Number.isInteger(meta.latentSize) || meta.latentSize < 1) {
    return `latentSize is ${JSON.stringify(meta.latentSize)}, expected a positive integer`;
  }
  if (typeof meta.conditional !== 'boolean') {
    return `conditional is ${JSON.stringify(meta.conditional)}, expected true or false`;
  }
  if (meta.numClasses !== NUM_CLASSES) {
    return `numClasses is ${JSON.stringify(meta.numClasses)}, expected ${NUM_CLASSES}`;
  }
  if (!same(meta.imageShape, IMAGE_SHAPE)) {
    return `imageShape is ${JSON.stringify(meta.imageShape)}, expected ${JSON.stringify(IMAGE_SHAPE)}`;
  }
  if (!same(meta.pixelRange, [PIXEL_MIN, PIXEL_MAX])) {
    return `pixelRange is ${JSON.stringify(meta.pixelRange)}, expected [${PIXEL_MIN},${PIXEL_MAX}]`;
  }
  return undefined;
}

function shapeProblem(model: tf.LayersModel, meta: GeneratorMeta): string | undefined {
  const expectedInputs = meta.conditional ? 2 : 1;
  if (model.inputs.length !== expectedInputs) {
    return `has ${model.inputs.length} inputs, expected ${expectedInputs} (${meta.conditional ? 'latent and label' : 'latent'})`;
  }
  const latentShape = model.inputs[0].shape;
  if (latentShape.length !== 2 || latentShape[1] !== meta.latentSize) {
    return `takes latent input of shape ${formatShape(latentShape)}, expected [null, ${meta.latentSize}]`;
  }
  const output = model.outputs[0].shape;
  const wanted = [null, ...IMAGE_SHAPE];
  if (output.length !== wanted.length || output.some((size, i) => size !== wanted[i])) {
    return `outputs shape ${formatShape(output)}, expected [null, ${IMAGE_SHAPE.join(', ')}]`;
  }
  return undefined;
}

/** Formats a shape with its batch dimension, which tfjs stores as null, spelled out. */
function formatShape(shape: (number | null)[]): string {
  return `[${shape.map((size) => (size === null ? 'null' : String(size))).join(', ')}]`;
}
