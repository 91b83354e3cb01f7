import { strict as assert } from 'assert';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';

import { runPipeline } from '../lib/pipeline/runner';
import { FileStore } from '../lib/storage/file-store';
import { REPO_ROOT } from './support/cli';
import { cutSample } from './support/fashion-sample';

/**
 * The real pipeline.yaml, quick profile, shrunk further with --set so that all four stages run
 * on 1000 real training images in about a minute.
 */
const SMALL = [
  'prepare.limitTrain=1000',
  'prepare.limitTest=500',
  'train.epochs=1',
  'evaluate.samples=200',
  'publish.lines=1',
];

describe('pipeline end to end', function () {
  this.timeout(900_000);
  let source: string;
  let root: string;
  const lines: string[] = [];

  const run = (sets: string[] = []) =>
    runPipeline({
      pipelineFile: path.join(REPO_ROOT, 'pipeline.yaml'),
      store: `file://${root}`,
      profile: 'quick',
      sets: [`prepare.source=${source}`, ...SMALL, ...sets],
      output: (line) => lines.push(line),
    });

  before(async () => {
    source = await cutSample(1000, 500);
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'pipeline-e2e-'));
  });

  after(async () => {
    await fs.rm(source, { recursive: true, force: true });
    await fs.rm(root, { recursive: true, force: true });
  });

  it('runs all four stages on real data and publishes a gallery', async () => {
    const record = await run();
    assert.equal(record.state, 'succeeded', lines.join('\n'));
    for (const stage of ['prepare', 'train', 'evaluate', 'publish']) {
      assert.equal(record.stages[stage].state, 'succeeded', `${stage}: ${record.stages[stage].reason}`);
    }
    const store = new FileStore(root);
    const metrics = JSON.parse((await store.get(`${record.stages.evaluate.outputs.metrics}/metrics.json`)).toString());
    assert.ok(Number.isFinite(metrics.fid), `FID-proxy ${metrics.fid} is finite`);
    assert.ok(metrics.fid > 0, `FID-proxy ${metrics.fid} is positive`);
    assert.equal(metrics.samples, 200);
    const latest = JSON.parse((await store.get('releases/latest.json')).toString());
    assert.ok(await store.exists(`gallery/releases/${latest.releaseId}/index.html`), JSON.stringify(latest));
    assert.ok(await store.exists('gallery/index.html'));
  });

  it('reuses every stage on a second identical run', async () => {
    const started = Date.now();
    const record = await run();
    const seconds = (Date.now() - started) / 1000;
    assert.equal(record.state, 'succeeded');
    for (const stage of ['prepare', 'train', 'evaluate', 'publish']) {
      assert.equal(record.stages[stage].state, 'cached', `${stage} is cached`);
    }
    assert.ok(seconds < 30, `a fully cached run took ${seconds} s`);
  });

  it('reruns train and later stages, not prepare, when a training parameter changes', async () => {
    const record = await run(['train.seed=7']);
    assert.equal(record.state, 'succeeded', lines.join('\n'));
    assert.equal(record.stages.prepare.state, 'cached');
    for (const stage of ['train', 'evaluate', 'publish']) {
      assert.equal(record.stages[stage].state, 'succeeded', `${stage} reran`);
    }
  });
});
