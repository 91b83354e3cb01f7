import { strict as assert } from 'assert';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';

import { EXIT_TEMPORARY_FAILURE, UserError } from '../lib/errors';
import { RunRecord } from '../lib/pipeline/record';
import { RunOptions, runPipeline } from '../lib/pipeline/runner';

const FIXTURE = path.join(__dirname, 'fixtures', 'pipelines', 'pipeline.yaml');
const STAGES = ['prepare', 'train', 'evaluate', 'publish'];

describe('pipeline runner', function () {
  let folder: string;
  let store: string;

  beforeEach(async () => {
    folder = await fs.mkdtemp(path.join(os.tmpdir(), 'fashion-gan-runner-'));
    store = `file://${folder}`;
  });

  afterEach(async () => {
    await fs.rm(folder, { recursive: true, force: true });
  });

  /** Runs the fixture pipeline and returns its record and the runner's lines. */
  async function run(
    options: Partial<RunOptions> = {},
  ): Promise<{ record: RunRecord; lines: string[] }> {
    const lines: string[] = [];
    const record = await runPipeline({
      pipelineFile: FIXTURE,
      store,
      output: (line) => lines.push(line),
      ...options,
    });
    return { record, lines };
  }

  function states(record: RunRecord): Record<string, string> {
    return Object.fromEntries(
      Object.entries(record.stages).map(([name, stage]) => [name, stage.state]),
    );
  }

  function finalLines(lines: string[], stage: string): string[] {
    return lines.filter((line) => line.startsWith(`${stage} `) && !/ started/.test(line));
  }

  it('runs stages in dependency order', async () => {
    const { record, lines } = await run();

    assert.equal(record.state, 'succeeded');
    assert.deepEqual(Object.keys(record.stages), STAGES);
    const started = lines
      .filter((line) => / started$/.test(line))
      .map((line) => line.split(' ')[0]);
    assert.deepEqual(started, STAGES);
    const evaluate = JSON.parse(
      await fs.readFile(
        path.join(folder, record.stages.evaluate.outputs.metrics, 'result.json'),
        'utf8',
      ),
    );
    assert.equal(evaluate.inputs.length, 2, 'evaluate reads the data set and the model');
    assert.equal(evaluate.inputs[1].inputs[0].value, '10', 'train read the prepared data set');
  });

  it('prints one final line per stage and a summary', async () => {
    const { record, lines } = await run();

    for (const stage of STAGES) {
      const final = finalLines(lines, stage);
      assert.equal(final.length, 1, `one final line for ${stage}: ${final.join(' | ')}`);
      assert.match(final[0], /done in \d+\.\d s$/);
    }
    const summary = lines.find((line) => line.startsWith(`run ${record.runId} succeeded`));
    assert.ok(summary, lines.join('\n'));
    assert.ok(
      lines.includes(`gallery: ${record.store}/runs/${record.runId}/gallery/`),
      lines.join('\n'),
    );
  });

  it('writes the run record and stage logs to the store', async () => {
    const { record } = await run({ runId: 'run-a' });

    const stored = JSON.parse(await fs.readFile(path.join(folder, 'runs/run-a/run.json'), 'utf8'));
    assert.deepEqual(stored, JSON.parse(JSON.stringify(record)));
    assert.equal(stored.stages.train.outputs.model, 'runs/run-a/train');
    assert.ok(stored.stages.train.durationSeconds >= 0);
    const log = await fs.readFile(path.join(folder, 'runs/run-a/logs/train.log'), 'utf8');
    assert.match(log, /step: writing runs\/run-a\/train/);
  });

  it('stops dependants of a failed stage with its reason', async () => {
    const { record, lines } = await run({ sets: ['evaluate.fail=disk full'] });

    assert.equal(record.state, 'failed');
    assert.deepEqual(states(record), {
      prepare: 'succeeded',
      train: 'succeeded',
      evaluate: 'failed',
      publish: 'skipped',
    });
    assert.equal(record.stages.evaluate.reason, 'error: disk full');
    assert.match(finalLines(lines, 'evaluate')[0], /^evaluate +failed after .*: error: disk full$/);
    assert.match(finalLines(lines, 'publish')[0], /^publish +skipped: evaluate failed$/);
    assert.equal(record.outputs.gallery, undefined);
  });

  it('resumes after a failure from the first uncached stage', async () => {
    await run({ sets: ['evaluate.fail=disk full'] });
    const { record } = await run();

    assert.deepEqual(states(record), {
      prepare: 'cached',
      train: 'cached',
      evaluate: 'succeeded',
      publish: 'succeeded',
    });
  });

  it('reuses every stage on a second identical run', async () => {
    const first = await run();
    const { record, lines } = await run();

    assert.deepEqual(states(record), Object.fromEntries(STAGES.map((stage) => [stage, 'cached'])));
    assert.equal(record.stages.train.cachedFrom, first.record.runId);
    assert.equal(record.stages.train.outputs.model, first.record.stages.train.outputs.model);
    assert.equal(record.outputs.gallery, first.record.outputs.gallery);
    assert.equal(lines.filter((line) => / started/.test(line)).length, 0);
  });

  it('reruns only what a changed train parameter affects', async () => {
    await run();
    const { record } = await run({ sets: ['train.epochs=2'] });

    assert.deepEqual(states(record), {
      prepare: 'cached',
      train: 'succeeded',
      evaluate: 'succeeded',
      publish: 'succeeded',
    });
  });

  it('reruns everything with noCache', async () => {
    await run();
    const { record } = await run({ noCache: true });

    assert.deepEqual(
      states(record),
      Object.fromEntries(STAGES.map((stage) => [stage, 'succeeded'])),
    );
  });

  it('reruns a stage whose cached outputs were deleted', async () => {
    const first = await run();
    await fs.rm(path.join(folder, first.record.stages.train.outputs.model), { recursive: true });
    const { record } = await run();

    assert.equal(record.stages.prepare.state, 'cached');
    assert.equal(record.stages.train.state, 'succeeded');
    assert.equal(
      record.stages.evaluate.state,
      'cached',
      'same inputs and code, so evaluate is valid',
    );
  });

  it('reruns a stage whose cached outputs were overwritten', async () => {
    const first = await run();
    const result = path.join(folder, first.record.stages.train.outputs.model, 'result.json');
    await fs.writeFile(result, JSON.stringify({ value: 'written by hand' }));
    const { record } = await run();

    assert.equal(record.stages.prepare.state, 'cached');
    assert.equal(record.stages.train.state, 'succeeded');
  });

  it('does not retry a stage that rejects its input', async () => {
    const { record } = await run({ sets: ['train.fail=bad input'] });

    assert.equal(record.stages.train.state, 'failed');
    assert.equal(record.stages.train.attempts, 1);
  });

  it('retries a stage that crashed', async () => {
    const { record } = await run({ sets: ['train.fail=crash', 'train.code=70'] });

    assert.equal(record.stages.train.state, 'failed');
    assert.equal(record.stages.train.attempts, 3);
  });

  it('retries a stage whose store was unreachable', async () => {
    const { record } = await run({ sets: ['train.fail=crash', `train.code=${EXIT_TEMPORARY_FAILURE}`] });

    assert.equal(record.stages.train.state, 'failed');
    assert.equal(record.stages.train.attempts, 3);
  });

  it('never shares outputs between two runs', async () => {
    const first = await run({ noCache: true });
    const second = await run({ noCache: true });

    assert.notEqual(first.record.runId, second.record.runId);
    for (const stage of STAGES) {
      const firstOutputs = Object.values(first.record.stages[stage].outputs);
      const secondOutputs = Object.values(second.record.stages[stage].outputs);
      for (const prefix of firstOutputs) {
        assert.ok(!secondOutputs.includes(prefix), `${stage} output ${prefix} is shared`);
        const result = path.join(folder, prefix, 'result.json');
        assert.ok((await fs.stat(result)).isFile(), `${result} survives the second run`);
      }
    }
  });

  it('rejects a run id that already exists', async () => {
    await run({ runId: 'same' });
    await assert.rejects(run({ runId: 'same' }), (error: Error) => {
      assert.ok(error instanceof UserError);
      assert.match(error.message, /run same already exists in file:\/\/.*: pass another --run-id/);
      return true;
    });
  });

  it('runs only the stage named by only', async () => {
    await run();
    const { record } = await run({ only: 'train' });

    assert.deepEqual(states(record), {
      prepare: 'cached',
      train: 'succeeded',
      evaluate: 'skipped',
      publish: 'skipped',
    });
  });

  it('reruns the stage named by from and all after it', async () => {
    await run();
    const { record } = await run({ from: 'evaluate' });

    assert.deepEqual(states(record), {
      prepare: 'cached',
      train: 'cached',
      evaluate: 'succeeded',
      publish: 'succeeded',
    });
  });

  it('prints command lines on a dry run and runs nothing', async () => {
    const { record, lines } = await run({ dryRun: true, runId: 'dry', profile: 'quick' });

    assert.match(
      lines[1],
      /^prepare +would run: node .*step\.js --store file:\/\/.* --out runs\/dry\/prepare\/dataset --value 2$/,
    );
    assert.equal(record.stages.train.state, 'pending');
    await assert.rejects(fs.stat(path.join(folder, 'runs')), /ENOENT/);
  });
});
