import { strict as assert } from 'assert';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';

import { UserError } from '../lib/errors';
import { RunRecord } from '../lib/pipeline/record';
import { runPipeline } from '../lib/pipeline/runner';
import { loadPipeline } from '../lib/pipeline/spec';

const PIPELINE = path.join(__dirname, '..', 'pipeline.yaml');

describe('pipeline.yaml', () => {
  let folder: string;

  before(async () => {
    folder = await fs.mkdtemp(path.join(os.tmpdir(), 'fashion-gan-definition-'));
  });

  after(async () => {
    await fs.rm(folder, { recursive: true, force: true });
  });

  /** Resolves the real pipeline on a dry run and returns each stage's command line as text. */
  async function commandLines(
    profile?: string,
    sets: string[] = [],
  ): Promise<Record<string, string>> {
    const record: RunRecord = await runPipeline({
      pipelineFile: PIPELINE,
      store: `file://${folder}`,
      profile,
      sets: ['prepare.source=/data/fashion-mnist', ...sets],
      runId: 'r1',
      dryRun: true,
      output: () => undefined,
    });
    return Object.fromEntries(
      Object.entries(record.stages).map(([name, stage]) => [name, stage.commandLine.join(' ')]),
    );
  }

  it('resolves the default profile', async () => {
    const lines = await commandLines();
    const store = `file://${folder}`;

    assert.equal(
      lines.prepare,
      `fashion-gan prepare --store ${store} --source /data/fashion-mnist --out runs/r1/prepare/dataset`,
    );
    assert.equal(
      lines.train,
      `fashion-gan train --store ${store} --run-id r1 --dataset runs/r1/prepare/dataset --out runs/r1/train ` +
        '--epochs 5 --batch-size 64 --seed 42 --arch dcgan --conditional --device cpu ' +
        '--checkpoint-every 500 --resume',
    );
    assert.equal(
      lines.evaluate,
      `fashion-gan evaluate --store ${store} --dataset runs/r1/prepare/dataset ` +
        '--model runs/r1/train --out runs/r1/evaluate --samples 10000',
    );
    assert.equal(
      lines.publish,
      `fashion-gan publish --store ${store} --model runs/r1/train ` +
        '--metrics runs/r1/evaluate/metrics.json --lines 8 --releases releases --gallery gallery',
    );
  });

  it('resolves the quick profile to a small subset', async () => {
    const lines = await commandLines('quick');

    assert.match(lines.prepare, / --limit-train 6000 --limit-test 1000 --out /);
    assert.match(lines.train, / --epochs 2 --batch-size 64 /);
    assert.match(lines.evaluate, / --samples 1000$/);
    assert.match(lines.publish, / --lines 2 /);
  });

  it('applies --set over the profile', async () => {
    const lines = await commandLines('quick', [
      'train.epochs=3',
      'train.conditional=false',
      'evaluate.maxFid=80.5',
      'prepare.download=true',
    ]);

    assert.match(lines.train, / --epochs 3 /);
    assert.match(lines.train, / --no-conditional /);
    assert.match(lines.evaluate, / --max-fid 80\.5$/);
    assert.match(lines.prepare, /^fashion-gan prepare --store \S+ --download --limit-train/);
  });

  it('rejects evaluate samples outside 2 to 1000000', async () => {
    for (const samples of ['1', '1000001']) {
      await assert.rejects(commandLines(undefined, [`evaluate.samples=${samples}`]), (error: Error) => {
        assert.ok(error instanceof UserError, String(error));
        assert.equal(
          error.message,
          `--set evaluate.samples=${samples}: parameter evaluate.samples expects ` +
            `an integer >= 2 <= 1000000, got ${samples}`,
        );
        return true;
      });
    }
  });

  it('accepts evaluate samples of 2', async () => {
    const lines = await commandLines(undefined, ['evaluate.samples=2']);

    assert.match(lines.evaluate, / --samples 2$/);
  });

  it('asks for a source folder or download', async () => {
    await assert.rejects(
      runPipeline({
        pipelineFile: PIPELINE,
        store: `file://${folder}`,
        dryRun: true,
        output: () => undefined,
      }),
      (error: Error) => {
        assert.ok(error instanceof UserError);
        assert.match(error.message, /^stage prepare needs parameter source, which is not set: /);
        assert.match(error.message, /pass --source DIR .* or --download$/);
        return true;
      },
    );
  });

  it('schedules train on the GPU pool', async () => {
    const spec = await loadPipeline(PIPELINE);
    const train = spec.stages.find((stage) => stage.name === 'train')!;

    assert.equal(train.resources.gpu, 1);
    assert.deepEqual(train.tolerations, [
      { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
    ]);
    assert.ok(Object.keys(train.nodeSelector).length > 0);
    assert.equal(train.container.env.TF_FORCE_GPU_ALLOW_GROWTH, 'true');
    assert.equal(train.inputs.parameters.device.default, 'gpu', 'the cluster default');
    assert.deepEqual(
      spec.stages.map((stage) => [stage.name, stage.dependencies]),
      [
        ['prepare', []],
        ['train', ['prepare']],
        ['evaluate', ['prepare', 'train']],
        ['publish', ['evaluate', 'train']],
      ],
    );
  });
});
