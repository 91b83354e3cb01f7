import { strict as assert } from 'assert';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

import { COMMAND_MODULES, loadCommand } from '../lib/cli/main';
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
    const result = runCli(['train', '--epochs', 'many']);
    assert.equal(result.status, 2);
    assert.equal(result.errorLines[0], 'fashion-gan: --epochs must be a number');
  });

  it('rejects a repeated option', () => {
    for (const args of [
      ['evaluate', '--model', 'a', '--max-fid', '500', '--max-fid', '1'],
      ['evaluate', '--model', 'a', '--model=b'],
    ]) {
      const result = runCli(args);
      assert.equal(result.status, 2, args.join(' '));
      assert.match(result.errorLines[0], /^fashion-gan: --(max-fid|model) is given 2 times, expected once$/);
    }
  });

  it('maps each command name to its module', () => {
    for (const [name, modulePath] of Object.entries(COMMAND_MODULES)) {
      const command = loadCommand(modulePath);
      assert.equal(String(command.command).split(' ')[0], name);
    }
  });

  it('lists every command in the help', () => {
    const result = runCli(['--help']);
    assert.equal(result.status, 0);
    for (const name of Object.keys(COMMAND_MODULES)) {
      assert.match(result.stdout, new RegExp(`fashion-gan ${name}\\b`), `${name} missing from --help`);
    }
  });

  it('passes a linked --source as its real folder', () => {
    const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'fashion-gan-source-')));
    try {
      mkdirSync(path.join(root, 'data'));
      symlinkSync(path.join(root, 'data'), path.join(root, 'link'));
      const result = runCli(['pipeline', '--source', 'link', '--dry-run'], { cwd: root });

      assert.equal(result.status, 0, result.stderr);
      assert.ok(result.stdout.includes(`--source ${path.join(root, 'data')} `), result.stdout);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
