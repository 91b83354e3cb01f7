import { strict as assert } from 'assert';
import { promises as fs } from 'fs';
import * as http from 'http';
import * as path from 'path';

import { RunRecord, runRecordKey } from '../lib/pipeline/record';
import { runPipeline } from '../lib/pipeline/runner';
import { openStore } from '../lib/storage/open';
import { ArtifactStore } from '../lib/storage/store';
import { REPO_ROOT } from './support/cli';
import { cutSample } from './support/fashion-sample';
import { S3TestServer } from './support/s3-server';

/**
 * The real pipeline.yaml, quick profile, shrunk with --set so that two runs side by side fit in a
 * few minutes on two cores.
 */
const SMALL = [
  'prepare.limitTrain=600',
  'prepare.limitTest=300',
  'train.epochs=1',
  'evaluate.samples=100',
  'publish.lines=1',
];

const STAGES = ['prepare', 'train', 'evaluate', 'publish'];

/**
 * Store prefix of every run. The paired runs share it with the single run, so their evaluate
 * stages reuse the classifier that the single run trained and cached for the same data set.
 */
const PREFIX = 'fashion';

/** Sends a GET without credentials and returns the HTTP status code. */
function anonymousStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
  });
}

describe('pipeline on an S3 server', function () {
  this.timeout(900_000);
  let server: S3TestServer;
  let source: string;
  const savedEnv: Record<string, string | undefined> = {};
  /** Every line that the runs printed, runner lines and stage output alike. */
  const printed: string[] = [];
  /** Every record that a run returned. */
  const records: RunRecord[] = [];

  const run = (runId: string) =>
    runPipeline({
      pipelineFile: path.join(REPO_ROOT, 'pipeline.yaml'),
      store: server.storeUrl(PREFIX),
      profile: 'quick',
      sets: [`prepare.source=${source}`, ...SMALL],
      runId,
      noCache: true,
      output: (line) => printed.push(line),
      stageOutput: (line) => printed.push(line),
    }).then((record) => {
      records.push(record);
      return record;
    });

  const assertSucceeded = (record: RunRecord) => {
    assert.equal(record.state, 'succeeded', printed.join('\n'));
    for (const stage of STAGES) {
      const entry = record.stages[stage];
      assert.equal(entry.state, 'succeeded', `${record.runId} ${stage}: ${entry.reason}`);
    }
  };

  /** Path-style URL of a store key on the test server. */
  const objectUrl = (key: string) => `${server.endpoint}/${server.bucket}/${PREFIX}/${key}`;

  before(async () => {
    server = await S3TestServer.launch();
    // Stage processes inherit the runner's environment, so the variables go into process.env.
    for (const [name, value] of Object.entries(server.env())) {
      savedEnv[name] = process.env[name];
      process.env[name] = value;
    }
    source = await cutSample(600, 300);
  });

  after(async () => {
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    if (source) await fs.rm(source, { recursive: true, force: true });
    await server?.dispose();
  });

  describe('a single run', () => {
    const runId = 'solo-run';
    let store: ArtifactStore;

    before(() => {
      store = openStore(server.storeUrl(PREFIX));
    });

    after(async () => {
      await store?.close();
    });

    it('runs all four stages against the bucket', async () => {
      assertSucceeded(await run(runId));
      assert.ok(await store.exists(runRecordKey(runId)), 'the run record is in the bucket');
    });

    it('serves the gallery page and its images without credentials', async () => {
      const latest = JSON.parse((await store.get('releases/latest.json')).toString('utf8'));
      const release = `gallery/releases/${latest.releaseId}`;
      const pages = ['gallery/index.html', `${release}/index.html`, `${release}/lines/lines.png`];

      for (const key of pages) {
        assert.ok(await store.exists(key), `${key} was published`);
        assert.equal(await anonymousStatus(objectUrl(key)), 200, `anonymous GET ${key}`);
      }
    });

    it('keeps the model, checkpoints and data set private', async () => {
      const generator = `runs/${runId}/train/model/generator/model.json`;
      const [checkpoint] = await store.list(`runs/${runId}/train/checkpoints/`);
      const dataset = await store.list(`runs/${runId}/prepare/dataset/`);
      assert.ok(await store.exists(generator), `${generator} exists`);
      assert.ok(checkpoint !== undefined, 'train wrote a checkpoint');
      assert.ok(dataset.length > 0, 'prepare wrote the data set');

      for (const key of [generator, checkpoint, ...dataset, 'releases/latest.json']) {
        assert.equal(await anonymousStatus(objectUrl(key)), 403, `anonymous GET ${key}`);
      }
    });
  });

  describe('two runs started together on one prefix', () => {
    const runIds = ['side-a', 'side-b'];
    let store: ArtifactStore;
    let pair: RunRecord[];

    before(async () => {
      store = openStore(server.storeUrl(PREFIX));
      pair = await Promise.all(runIds.map((runId) => run(runId)));
    });

    after(async () => {
      await store?.close();
    });

    it('both succeed', () => {
      for (const record of pair) assertSucceeded(record);
    });

    it('keep each run\'s outputs free of the other run\'s keys', async () => {
      for (const [index, runId] of runIds.entries()) {
        const other = runIds[1 - index];
        const keys = await store.list(`runs/${runId}/`);
        assert.ok(keys.length > 0, `run ${runId} wrote objects`);
        const foreign = keys.filter((key) => key.includes(other));
        assert.deepEqual(foreign, [], `keys of ${other} under runs/${runId}/`);
      }
    });

    it('name only their own outputs in each run record', async () => {
      for (const [index, runId] of runIds.entries()) {
        const other = runIds[1 - index];
        const text = (await store.get(runRecordKey(runId))).toString('utf8');
        assert.ok(!text.includes(other), `run record of ${runId} mentions ${other}`);

        const record = JSON.parse(text) as RunRecord;
        assert.equal(record.runId, runId);
        for (const stage of ['prepare', 'train', 'evaluate']) {
          for (const [name, outputPrefix] of Object.entries(record.stages[stage].outputs)) {
            assert.ok(
              outputPrefix.startsWith(`runs/${runId}/`),
              `${runId} ${stage}.${name} is ${outputPrefix}`,
            );
          }
        }
      }
    });

    // NOTE: publish lists releases/ and then rewrites gallery/index.html without a lock, so a
    // publish whose listing predates the other release but whose write lands last drops it.
    it('list both releases in the gallery index', async () => {
      const releaseKeys = (await store.list('releases/')).filter((key) =>
        key.endsWith('/release.json'),
      );
      const sources = new Map<string, string>();
      for (const key of releaseKeys) {
        const release = JSON.parse((await store.get(key)).toString('utf8'));
        sources.set(release.source, release.releaseId);
      }
      const index = (await store.get('gallery/index.html')).toString('utf8');

      for (const runId of runIds) {
        const releaseId = sources.get(`runs/${runId}/train`);
        assert.ok(releaseId !== undefined, `a release of run ${runId} among ${releaseKeys}`);
        assert.ok(index.includes(releaseId), `gallery index lists ${releaseId} of run ${runId}`);
      }
    });
  });

  describe('credentials', () => {
    it('never appear in printed lines, run records or stage logs', async () => {
      assert.ok(records.length >= 3, `${records.length} runs finished`);
      assert.ok(printed.length > 0, 'the runs printed lines');
      const leaked = printed.filter((line) => line.includes(server.secretKey));
      assert.deepEqual(leaked, [], 'printed lines that contain the secret key');

      const store = openStore(server.storeUrl(PREFIX));
      try {
        for (const record of records) {
          const stored = (await store.get(runRecordKey(record.runId))).toString('utf8');
          assert.ok(!stored.includes(server.secretKey), `run record of ${record.runId}`);
          assert.ok(!JSON.stringify(record).includes(server.secretKey), `returned ${record.runId}`);
          for (const stage of STAGES) {
            const log = (await store.get(record.stages[stage].log!)).toString('utf8');
            assert.ok(log.length > 0, `log of ${record.runId} ${stage} is not empty`);
            assert.ok(!log.includes(server.secretKey), `log of ${record.runId} ${stage}`);
          }
        }
      } finally {
        await store.close();
      }
    });
  });
});
