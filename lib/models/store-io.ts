import * as tf from '@tensorflow/tfjs';

import { UserError } from '../errors';
import { ArtifactStore, StoreError, joinKey } from '../storage/store';

const MODEL_JSON = 'model.json';
const WEIGHTS_FILE = 'weights.bin';

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
      let modelJson: { modelTopology: object; format?: string; generatedBy?: string; weightsManifest: tf.io.WeightsManifestConfig };
      try {
        modelJson = JSON.parse((await store.get(key)).toString('utf8'));
      } catch (error) {
        if (error instanceof StoreError && error.code === 'not-found') {
          throw new UserError(`${store.url}: no model at '${prefix}' (${key} not found)`);
        }
        if (error instanceof SyntaxError) throw new UserError(`${store.url}: ${key} is not valid JSON`);
        throw error;
      }
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      for (const group of modelJson.weightsManifest ?? []) {
        specs.push(...group.weights);
        for (const shard of group.paths) buffers.push(await store.get(joinKey(prefix, shard)));
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

/** Loads a layers model saved by `saveModel` (or any tfjs layers model.json with its shards). */
export async function loadModel(store: ArtifactStore, prefix: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(storeIO(store, prefix));
}
