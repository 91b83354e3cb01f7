import { strict as assert } from 'assert';
import { readFileSync } from 'fs';
import * as path from 'path';

import * as yaml from 'js-yaml';

import { UserError } from '../lib/errors';
import { parsePipeline, resolveParameters } from '../lib/pipeline/spec';

const FIXTURE = path.join(__dirname, 'fixtures', 'pipelines', 'pipeline.yaml');

/** The fixture pipeline as a plain object, to break one thing at a time. */
function fixture(): any {
  return yaml.load(readFileSync(FIXTURE, 'utf8'));
}

/** Parses a document as `bad.yaml` and returns the lines of the error it throws. */
function errorLines(document: unknown): string[] {
  try {
    parsePipeline(yaml.dump(document), 'bad.yaml');
  } catch (error) {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    return error.message.split('\n');
  }
  assert.fail('the pipeline was accepted');
}

/** Resolves the fixture with `--set` texts and returns the error message. */
function setError(...sets: string[]): string {
  const spec = parsePipeline(readFileSync(FIXTURE, 'utf8'), FIXTURE);
  try {
    resolveParameters(spec, { sets });
  } catch (error) {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('the overrides were accepted');
}

describe('pipeline validation', () => {
  it('accepts the fixture pipeline', () => {
    const spec = parsePipeline(readFileSync(FIXTURE, 'utf8'), FIXTURE);

    assert.deepEqual(
      spec.stages.map((stage) => stage.name),
      ['prepare', 'train', 'evaluate', 'publish'],
    );
    assert.deepEqual(spec.stages[3].dependencies, ['evaluate', 'train']);
  });

  it('rejects after naming an unknown stage', () => {
    const document = fixture();
    document.stages.publish.after = ['evalute'];

    assert.deepEqual(errorLines(document), [
      "bad.yaml: stages.publish.after[0]: unknown stage 'evalute', did you mean 'evaluate'?",
    ]);
  });

  it('rejects an input from an unknown stage', () => {
    const document = fixture();
    document.stages.train.inputs.artifacts.dataset.from = 'prepair.dataset';

    assert.deepEqual(errorLines(document), [
      "bad.yaml: stages.train.inputs.artifacts.dataset.from: unknown stage 'prepair', " +
        "did you mean 'prepare'?",
    ]);
  });

  it('rejects an input that no stage produces', () => {
    const document = fixture();
    document.stages.evaluate.inputs.artifacts.model.from = 'train.weights';

    assert.deepEqual(errorLines(document), [
      "bad.yaml: stages.evaluate.inputs.artifacts.model.from: no stage produces 'train.weights', " +
        'stage train outputs model',
    ]);
  });

  it('rejects a dependency cycle', () => {
    const document = fixture();
    document.stages.prepare.after = ['publish'];

    assert.deepEqual(errorLines(document), [
      'bad.yaml: stages: dependency cycle prepare -> train -> publish -> prepare',
    ]);
  });

  it('rejects a value of the wrong type', () => {
    const document = fixture();
    document.stages.train.resources.gpu = 'one';

    assert.deepEqual(errorLines(document), [
      "bad.yaml: stages.train.resources.gpu: expected integer, got string 'one'",
    ]);
  });

  it('rejects a default of the wrong type', () => {
    const document = fixture();
    document.stages.train.inputs.parameters.epochs.default = 'ten';

    assert.deepEqual(errorLines(document), [
      "bad.yaml: stages.train.inputs.parameters.epochs.default: expected an integer >= 1, got 'ten'",
    ]);
  });

  it('rejects a misspelled key with a suggestion', () => {
    const document = fixture();
    document.stages.train.resorces = document.stages.train.resources;
    delete document.stages.train.resources;

    assert.deepEqual(errorLines(document), [
      "bad.yaml: stages.train.resorces: unknown key 'resorces', did you mean 'resources'?",
    ]);
  });

  it('rejects a misspelled resource key', () => {
    const document = fixture();
    document.stages.train.resources.gpus = 1;

    assert.deepEqual(errorLines(document), [
      "bad.yaml: stages.train.resources.gpus: unknown key 'gpus', did you mean 'gpu'?",
    ]);
  });

  it('rejects a placeholder naming an unknown parameter', () => {
    const document = fixture();
    document.stages.train.container.args[7] = '{{inputs.parameters.epoch}}';

    assert.deepEqual(errorLines(document), [
      'bad.yaml: stages.train.container.args[7]: unknown placeholder ' +
        "'{{inputs.parameters.epoch}}', did you mean '{{inputs.parameters.epochs}}'?",
    ]);
  });

  it('rejects a profile that sets an unknown parameter', () => {
    const document = fixture();
    document.profiles.quick.set = { 'train.epoch': 2 };

    assert.deepEqual(errorLines(document), [
      "bad.yaml: profiles.quick.set.train.epoch: unknown parameter of stage train 'epoch', " +
        "did you mean 'epochs'?",
    ]);
  });

  it('reports each problem on its own line', () => {
    const document = fixture();
    document.stages.train.resources.gpu = -1;
    document.stages.evaluate.retries = 'twice';

    assert.deepEqual(errorLines(document), [
      'bad.yaml: stages.train.resources.gpu: expected a number >= 0, got -1',
      "bad.yaml: stages.evaluate.retries: expected integer, got string 'twice'",
    ]);
  });

  it('rejects invalid YAML with its line', () => {
    assert.throws(
      () => parsePipeline('stages:\n  train: [\n', 'bad.yaml'),
      /^UserError: bad\.yaml: line \d+: invalid YAML: /,
    );
  });
});

describe('pipeline parameter overrides', () => {
  it('applies a set parameter of the right type', () => {
    const spec = parsePipeline(readFileSync(FIXTURE, 'utf8'), FIXTURE);
    const values = resolveParameters(spec, { profile: 'quick', sets: ['train.epochs=3'] });

    assert.equal(values.train.epochs, 3);
    assert.equal(values.prepare.limit, 2, 'the profile applies under --set');
  });

  it('rejects a value of the wrong type', () => {
    assert.equal(
      setError('train.epochs=abc'),
      "--set train.epochs=abc: parameter train.epochs expects an integer >= 1, got 'abc'",
    );
  });

  it('rejects a value below the minimum', () => {
    assert.equal(
      setError('train.epochs=0'),
      '--set train.epochs=0: parameter train.epochs expects an integer >= 1, got 0',
    );
  });

  it('rejects an unknown stage', () => {
    assert.equal(
      setError('trian.epochs=3'),
      "--set trian.epochs=3: unknown stage 'trian', did you mean 'train'?",
    );
  });

  it('rejects an unknown parameter', () => {
    assert.equal(
      setError('train.batch=3'),
      "--set train.batch=3: stage train has no parameter 'batch' (parameters: epochs, fail, code)",
    );
  });

  it('rejects text without an equals sign', () => {
    assert.equal(
      setError('train.epochs'),
      '--set train.epochs: expected STAGE.PARAMETER=VALUE, such as train.epochs=3',
    );
  });

  it('rejects an unknown profile', () => {
    const spec = parsePipeline(readFileSync(FIXTURE, 'utf8'), FIXTURE);

    assert.throws(
      () => resolveParameters(spec, { profile: 'quik' }),
      /^UserError: --profile quik: unknown profile, did you mean 'quick'\? \(pipeline\.yaml defines quick\)$/,
    );
  });
});
