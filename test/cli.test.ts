import { strict as assert } from 'assert';

import { runCli } from './support/cli';

describe('command line', function () {
  this.timeout(60_000);

  it('names an unknown command with a suggestion', () => {
    const result = runCli(['lines']);
    assert.equal(result.status, 2);
    assert.equal(result.errorLines[0], "fashion-gan: unknown command 'lines'. Did you mean line?");
  });

  it('names an unknown option', () => {
    const result = runCli(['prepare', '--colour', 'red']);
    assert.equal(result.status, 2);
    assert.match(result.errorLines[0], /^fashion-gan: Unknown argument: colour$/);
  });

  it('rejects text for a number option', () => {
    const result = runCli(['evaluate', '--model', 'runs/x/train', '--samples', 'many']);
    assert.equal(result.status, 2);
    assert.equal(result.errorLines[0], 'fashion-gan: --samples must be a number');
  });
});
