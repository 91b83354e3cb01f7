import { strict as assert } from 'assert';

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
});
