import * as tf from '@tensorflow/tfjs';

import { UserError } from '../errors';
import { isJsonObject } from '../json';
import { ArtifactStore, StoreError, joinKey } from '../storage/store';

const MODEL_JSON = 'model.json';
const WEIGHTS_FILE = 'weights.bin';

/**
 * Bytes per stored value of each weight dtype, including the quantized ones, as in
 * `DTYPE_VALUE_SIZE_MAP` of tfjs-core 4.22, which tfjs does not export. String weights have no
 * fixed size and layers models do not use them.
 */
const BYTES_PER_VALUE: Record<string, number> = {
  float32: 4,
  float16: 2,
  int32: 4,
  uint16: 2,
  uint8: 1,
  bool: 1,
  complex64: 8,
};

/** The fields of a layers `model.json` that loading reads, after `parseModelJson` checked them. */
interface ModelJson {
  modelTopology: object;
  format?: string;
  generatedBy?: string;
  weightsManifest: tf.io.WeightsManifestConfig;
}

/**
 * A tfjs IOHandler that saves a model to, and loads it from, a prefix in the artifact store in
 * the tfjs layers format: `model.json` and one weight shard, the layout that
 * `tf.loadLayersModel(url)` reads in a browser. The weights are written before `model.json`, so
 * a reader that finds `model.json` finds its weights too.
 */
export function storeIO(store: ArtifactStore, prefix: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const weights = Buffer.from(artifacts.weightData as ArrayBuffer);
      await store.put(joinKey(prefix, WEIGHTS_FILE), weights);
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs }],
      };
      await store.put(joinKey(prefix, MODEL_JSON), JSON.stringify(modelJson), { contentType: 'application/json' });
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const key = joinKey(prefix, MODEL_JSON);
      let body: unknown;
      try {
        body = JSON.parse((await store.get(key)).toString('utf8'));
      } catch (error) {
        if (error instanceof StoreError && error.code === 'not-found') {
          throw new UserError(`${store.url}: no model at '${prefix}' (${key} not found)`);
        }
        if (error instanceof SyntaxError) throw new UserError(`${store.url}: ${key} is not valid JSON`);
        throw error;
      }
      const modelJson = parseModelJson(body, `${store.url}: '${key}'`);

      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      for (const group of modelJson.weightsManifest) {
        const shardKeys = group.paths.map((shard) => joinKey(prefix, shard));
        const shards = await Promise.all(shardKeys.map((shardKey) => store.get(shardKey)));
        // tfjs reads the weights one after the other from the joined shards, so it ignores
        // extra bytes and reports missing ones as a value count that names no file.
        const actual = shards.reduce((sum, shard) => sum + shard.length, 0);
        const expected = group.weights.reduce((sum, spec) => sum + weightBytes(spec), 0);
        if (actual !== expected) {
          const names = shardKeys.map((shardKey) => `'${shardKey}'`).join(', ');
          const verb = shardKeys.length === 1 ? 'has' : 'have together';
          const sizes = `${actual} bytes, expected ${expected} from ${MODEL_JSON}`;
          throw new UserError(`${store.url}: ${names} ${verb} ${sizes}`);
        }
        specs.push(...group.weights);
        buffers.push(...shards);
      }
      const joined = Buffer.concat(buffers);
      return {
        modelTopology: modelJson.modelTopology,
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        weightSpecs: specs,
        weightData: joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength),
      };
    },
  };
}

/** Saves a layers model under a store prefix. */
export async function saveModel(model: tf.LayersModel, store: ArtifactStore, prefix: string): Promise<void> {
  await model.save(storeIO(store, prefix));
}

/**
 * Loads a layers model saved by `saveModel` (or any tfjs layers model.json with its shards).
 * A malformed `model.json`, weights of the wrong size, or a topology or weight names that tfjs
 * rejects is a `UserError` that names the store and the key.
 */
export async function loadModel(store: ArtifactStore, prefix: string): Promise<tf.LayersModel> {
  const artifacts = await storeIO(store, prefix).load!();
  const key = joinKey(prefix, MODEL_JSON);
  const rejected = (error: unknown) => {
    const reason = (error as Error)?.message?.split('\n')[0] ?? String(error);
    const failure = `${store.url}: '${key}' could not be loaded as a tfjs layers model`;
    return new UserError(`${failure}: ${reason}`);
  };

  // tf.loadLayersModel given the weights too leaks the model and the decoded weights when they
  // do not fit the topology, so the weights are assigned here, where both can be disposed.
  const { weightData, weightSpecs, ...topology } = artifacts;
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(tf.io.fromMemory(topology));
  } catch (error) {
    throw rejected(error);
  }
  let weights: tf.NamedTensorMap = {};
  try {
    weights = tf.io.decodeWeights(weightData!, weightSpecs!);
    // Optimizer state, which saveModel never writes, has no variable in the model to go to.
    const modelWeights = Object.fromEntries(
      weightSpecs!
        .filter((spec) => spec.group !== 'optimizer')
        .map((spec) => [spec.name, weights[spec.name]]),
    );
    model.loadWeights(modelWeights, true);
    return model;
  } catch (error) {
    model.dispose();
    throw rejected(error);
  } finally {
    tf.dispose(Object.values(weights));
  }
}

/**
 * Checks the shape of a parsed `model.json` up to what loading reads: an object with a
 * `modelTopology` object and a `weightsManifest` list of groups, each with shard `paths` and
 * weight entries of known dtype and integer shape. `where` starts every message.
 */
function parseModelJson(body: unknown, where: string): ModelJson {
  const fail = (problem: string): never => {
    throw new UserError(`${where} is not a tfjs layers model: ${problem}`);
  };
  if (!isJsonObject(body)) fail(`expected a JSON object, got ${describeJson(body)}`);
  const modelJson = body as Record<string, unknown>;
  if (!isJsonObject(modelJson.modelTopology)) fail('no modelTopology');
  if (!Array.isArray(modelJson.weightsManifest)) fail('no weightsManifest');

  (modelJson.weightsManifest as unknown[]).forEach((group, g) => {
    const path = `weightsManifest[${g}]`;
    if (!isJsonObject(group)) fail(`${path} is not an object`);
    const { paths, weights } = group as Record<string, unknown>;
    if (!Array.isArray(paths) || paths.some((shard) => typeof shard !== 'string' || shard === '')) {
      fail(`${path}.paths is not a list of file names`);
    }
    if (!Array.isArray(weights)) fail(`${path}.weights is not a list`);
    (weights as unknown[]).forEach((entry, i) => {
      const problem = weightEntryProblem(entry);
      if (problem) fail(`${path}.weights[${i}] ${problem}`);
    });
  });
  return modelJson as unknown as ModelJson;
}

/** Returns what is wrong with one weights manifest entry, or undefined when it can be read. */
function weightEntryProblem(entry: unknown): string | undefined {
  if (!isJsonObject(entry)) return 'is not an object';
  const { name, shape, dtype, quantization } = entry as Record<string, unknown>;
  if (typeof name !== 'string') return 'has no name';
  if (!Array.isArray(shape) || shape.some((size) => !Number.isInteger(size) || size < 0)) {
    return `'${name}' has shape ${JSON.stringify(shape)}, expected a list of integers >= 0`;
  }
  const storedDtype = isJsonObject(quantization) ? (quantization as { dtype?: unknown }).dtype : dtype;
  if (typeof storedDtype !== 'string' || !Object.hasOwn(BYTES_PER_VALUE, storedDtype)) {
    const known = Object.keys(BYTES_PER_VALUE).join(', ');
    return `'${name}' has dtype ${JSON.stringify(storedDtype)}, expected one of ${known}`;
  }
  return undefined;
}

/** Bytes that one checked weights manifest entry takes in its shards. */
function weightBytes(spec: tf.io.WeightsManifestEntry): number {
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  return spec.shape.reduce((product, size) => product * size, 1) * BYTES_PER_VALUE[dtype];
}


function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
