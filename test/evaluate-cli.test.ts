import { strict as assert } from 'assert';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';

import { loadBackend } from '../lib/tensorflow/backend';
import { runCli } from './support/cli';
import { EvaluateFixture, prepareSmallDataset, saveUntrainedGenerator } from './support/evaluate-fixture';

describe('evaluate command', function () {
  this.timeout(300000);
  let fixture: EvaluateFixture;

  before(async () => {
    loadBackend({ device: 'cpu' });
    fixture = await prepareSmallDataset(600, 200);
    await saveUntrainedGenerator(fixture, 'runs/untrained');
  });

  after(async () => {
    await fixture?.cleanUp();
  });

  it('exits non-zero with one line above --max-fid', () => {
    const result = runCli(
      [
        'evaluate',
        '--store', fixture.store.url,
        '--dataset', fixture.dataset,
        '--model', 'runs/untrained',
        '--samples', '100',
        '--max-fid', '0.5',
      ],
      { timeoutMs: 280_000 },
    );

    assert.equal(result.status, 1, result.stderr);
    const last = result.errorLines[result.errorLines.length - 1];
    assert.match(
      last,
      /^fashion-gan: evaluate: FID-proxy \d+\.\d is above --max-fid 0\.5: the generator is not good enough to publish$/,
    );
    assert.match(result.stdout, /^quality gate\s+FAILED/m);
  });

  it('writes metrics.json before failing the gate', async () => {
    const metrics = JSON.parse((await fixture.store.get('runs/untrained/metrics.json')).toString('utf8'));
    assert.equal(metrics.gate.passed, false);
    assert.equal(metrics.gate.maxFid, 0.5);
    assert.equal(metrics.samples, 100);
  });

  it('rejects --samples 1 in one line', () => {
    const result = runCli([
      'evaluate', '--store', fixture.store.url, '--dataset', fixture.dataset,
      '--model', 'runs/untrained', '--samples', '1',
    ]);
    assert.equal(result.status, 1);
    assert.deepEqual(result.errorLines, [
      'fashion-gan: evaluate: --samples must be an integer of at least 2, got 1',
    ]);
  });

  it('rejects truncated generator weights in one line', async () => {
    await saveUntrainedGenerator(fixture, 'runs/truncated');
    const key = 'runs/truncated/model/generator/weights.bin';
    const weights = await fixture.store.get(key);
    await fixture.store.put(key, weights.subarray(0, 1000));

    const result = runCli([
      'evaluate', '--store', fixture.store.url, '--dataset', fixture.dataset,
      '--model', 'runs/truncated',
    ]);
    assert.equal(result.status, 1, result.stderr);
    assert.deepEqual(result.errorLines.slice(-1), [
      `fashion-gan: evaluate: ${fixture.store.url}: '${key}' has 1000 bytes, ` +
        `expected ${weights.length} from model.json`,
    ]);
  });
});

describe('evaluate command line', function () {
  this.timeout(60_000);
  let root: string;

  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'fashion-gan-evaluate-cli-'));
  });

  after(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  /** Runs evaluate on an empty store with `extra` options and returns its stderr lines. */
  function errorLines(...extra: string[]): string[] {
    const result = runCli(['evaluate', '--store', `file://${root}`, '--model', 'runs/x', ...extra]);
    assert.equal(result.status, 1, result.stderr);
    return result.errorLines;
  }

  it('rejects --samples above 1000000', () => {
    assert.deepEqual(errorLines('--samples', '1e12'), [
      'fashion-gan: evaluate: --samples must be at most 1000000, got 1000000000000. ' +
        'FID is usually computed on 10000 or 50000 samples.',
    ]);
  });

  it('rejects a --seed outside 0 to 2147483647', () => {
    for (const [seed, shown] of [['1e16', '10000000000000000'], ['-1', '-1'], ['2.5', '2.5']]) {
      assert.deepEqual(errorLines('--seed', seed), [
        `fashion-gan: evaluate: --seed must be an integer from 0 to 2147483647, got ${shown}`,
      ]);
    }
  });

  it('rejects an empty --max-fid', () => {
    const expected = ['fashion-gan: evaluate: --max-fid is empty, expected a number'];

    assert.deepEqual(errorLines('--max-fid', ''), expected);
    assert.deepEqual(errorLines('--max-fid='), expected);
    assert.deepEqual(errorLines('--max-fid'), expected);
  });

  it('rejects a number option given as text', () => {
    assert.deepEqual(errorLines('--max-fid', 'ten'), [
      "fashion-gan: evaluate: --max-fid must be a number, got 'ten'",
    ]);
    assert.deepEqual(errorLines('--samples', ''), [
      'fashion-gan: evaluate: --samples is empty, expected a number',
    ]);
  });

  it('rejects a number option given twice', () => {
    const result = runCli(['evaluate', '--store', `file://${root}`, '--model', 'runs/x', '--seed', '1', '--seed', '2']);
    assert.equal(result.status, 2, result.stderr);
    assert.equal(result.errorLines[0], 'fashion-gan: --seed is given 2 times, expected once');
  });

  it('rejects a malformed dataset.json in one line', async () => {
    await fs.mkdir(path.join(root, 'datasets', 'broken'), { recursive: true });
    await fs.writeFile(path.join(root, 'datasets', 'broken', 'dataset.json'), 'null');

    assert.deepEqual(errorLines('--dataset', 'datasets/broken').slice(-1), [
      `fashion-gan: file://${root}: 'datasets/broken/dataset.json' is not a data set manifest: ` +
        'expected a JSON object, got null',
    ]);
  });
});
