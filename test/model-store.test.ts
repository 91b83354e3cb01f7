import { strict as assert } from 'assert';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';

import { loadModel, saveModel } from '../lib/models/store-io';
import { FileStore } from '../lib/storage/file-store';
import { loadBackend } from '../lib/tensorflow/backend';

const PREFIX = 'runs/a/train/model/generator';
const MODEL_KEY = `${PREFIX}/model.json`;
const WEIGHTS_KEY = `${PREFIX}/weights.bin`;

/** Builds a dense layer of 4 inputs and 3 units: 15 float32 weights, 60 bytes. */
function tinyModel(): tf.LayersModel {
  const input = tf.input({ shape: [4] });
  const output = tf.layers.dense({ units: 3, name: 'dense' }).apply(input) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

describe('model store format', () => {
  let root: string;
  let store: FileStore;
  let modelJson: Record<string, unknown>;
  let weights: Buffer;

  before(() => {
    loadBackend({ device: 'cpu' });
  });

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'fashion-gan-model-store-'));
    store = new FileStore(root);
    const model = tinyModel();
    await saveModel(model, store, PREFIX);
    model.dispose();
    modelJson = JSON.parse((await store.get(MODEL_KEY)).toString('utf8'));
    weights = await store.get(WEIGHTS_KEY);
  });

  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  /** Loads the model under PREFIX, expects a one-line UserError and returns its message. */
  async function loadError(): Promise<string> {
    const before = tf.memory().numTensors;
    try {
      const model = await loadModel(store, PREFIX);
      model.dispose();
    } catch (error) {
      assert.equal((error as Error).name, 'UserError', (error as Error).stack);
      assert.ok(!(error as Error).message.includes('\n'), 'message is one line');
      assert.equal(tf.memory().numTensors, before, 'tensors left behind');
      return (error as Error).message;
    }
    assert.fail('the model was loaded');
  }

  it('loads the weights it saved', async () => {
    const model = await loadModel(store, PREFIX);
    const values = model.getWeights().flatMap((weight) => [...weight.dataSync()]);
    const loaded = Buffer.from(new Float32Array(values).buffer);
    model.dispose();

    assert.equal(weights.length, 60);
    assert.deepEqual(loaded, weights);
  });

  it('rejects a malformed model.json', async () => {
    const cases: [string, unknown, string][] = [
      ['{}', {}, 'no modelTopology'],
      ['[]', [], 'expected a JSON object, got an array'],
      ['null', null, 'expected a JSON object, got null'],
      ['a number', 3, 'expected a JSON object, got a number'],
      ['no topology', { ...modelJson, modelTopology: undefined }, 'no modelTopology'],
      ['no manifest', { ...modelJson, weightsManifest: undefined }, 'no weightsManifest'],
      [
        'group of null',
        { ...modelJson, weightsManifest: [null] },
        'weightsManifest[0] is not an object',
      ],
    ];
    for (const [name, body, problem] of cases) {
      await store.put(MODEL_KEY, JSON.stringify(body));
      assert.equal(
        await loadError(),
        `${store.url}: '${MODEL_KEY}' is not a tfjs layers model: ${problem}`,
        name,
      );
    }
  });

  it('rejects a weight entry it cannot size', async () => {
    const manifest = modelJson.weightsManifest as { weights: Record<string, unknown>[] }[];
    manifest[0].weights[1].dtype = 'string';
    await store.put(MODEL_KEY, JSON.stringify(modelJson));

    assert.equal(
      await loadError(),
      `${store.url}: '${MODEL_KEY}' is not a tfjs layers model: weightsManifest[0].weights[1] ` +
        `'dense/bias' has dtype "string", expected one of float32, float16, int32, uint16, ` +
        'uint8, bool, complex64',
    );
  });

  it('rejects weights shorter than model.json lists', async () => {
    await store.put(WEIGHTS_KEY, weights.subarray(0, 20));

    assert.equal(
      await loadError(),
      `${store.url}: '${WEIGHTS_KEY}' has 20 bytes, expected 60 from model.json`,
    );
  });

  it('rejects weights longer than model.json lists', async () => {
    await store.put(WEIGHTS_KEY, Buffer.concat([weights, weights]));

    assert.equal(
      await loadError(),
      `${store.url}: '${WEIGHTS_KEY}' has 120 bytes, expected 60 from model.json`,
    );
  });

  it('names the shards of a group together', async () => {
    const manifest = modelJson.weightsManifest as { paths: string[] }[];
    manifest[0].paths = ['shard1', 'shard2'];
    await store.put(MODEL_KEY, JSON.stringify(modelJson));
    await store.put(`${PREFIX}/shard1`, weights.subarray(0, 30));
    await store.put(`${PREFIX}/shard2`, weights.subarray(30, 50));

    assert.equal(
      await loadError(),
      `${store.url}: '${PREFIX}/shard1', '${PREFIX}/shard2' have together 50 bytes, ` +
        'expected 60 from model.json',
    );
  });

  it('rejects a topology that tfjs cannot build', async () => {
    await store.put(MODEL_KEY, JSON.stringify({ ...modelJson, modelTopology: { layers: 1 } }));

    assert.match(
      await loadError(),
      new RegExp(`^${store.url}: '${MODEL_KEY}' could not be loaded as a tfjs layers model: .+`),
    );
  });

  it('rejects weights that no layer of the topology has', async () => {
    const manifest = modelJson.weightsManifest as { weights: Record<string, unknown>[] }[];
    manifest[0].weights.reverse();
    manifest[0].weights[0].name = 'other/bias';
    await store.put(MODEL_KEY, JSON.stringify(modelJson));

    assert.match(
      await loadError(),
      new RegExp(`^${store.url}: '${MODEL_KEY}' could not be loaded as a tfjs layers model: .+`),
    );
  });
});
