import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

import { setLogOutput } from '../lib/log/logger';
import { decodePng } from '../lib/images/png';
import { FileStore } from '../lib/storage/file-store';
import { loadBackend } from '../lib/tensorflow/backend';
import { writeFakeRun } from './support/publish-fixture';

const CLI = path.resolve(__dirname, '..', 'bin', 'fashion-gan.js');

/** Runs `fashion-gan line` with the arguments and returns its exit code and standard error. */
function runLine(args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, 'line', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stderr: result.stderr };
}

describe('fashion-gan line', function () {
  this.timeout(180_000);

  let root: string;
  let storeUrl: string;
  let trainOut: string;

  before(async () => {
    loadBackend({ device: 'cpu' });
    const restore = setLogOutput(() => undefined);
    root = mkdtempSync(path.join(os.tmpdir(), 'fashion-gan-line-'));
    const store = new FileStore(path.join(root, 'store'));
    storeUrl = store.url;
    trainOut = (await writeFakeRun(store, { runId: 'run-line', seed: 4 })).trainOut;
    setLogOutput(restore);
  });

  after(() => rmSync(root, { recursive: true, force: true }));

  /** Arguments of a valid request, each option given once, with `overrides` replacing values. */
  const lineArgs = (out: string, overrides: Record<string, string> = {}) => {
    const options: Record<string, string> = {
      store: storeUrl,
      model: trainOut,
      categories: 'dress,coat,sneaker',
      styles: '2',
      seed: '7',
      out,
      ...overrides,
    };
    return Object.entries(options).flatMap(([name, value]) => [`--${name}`, value]);
  };

  it('writes cells, a grid and a walk', () => {
    const out = path.join(root, 'first');
    const { status, stderr } = runLine(lineArgs(out, { walk: '5' }));
    assert.equal(status, 0, stderr);

    const files = readdirSync(out).sort();
    assert.deepEqual(files, [
      'line.json', 'lines.png',
      'style-01-coat.png', 'style-01-dress.png', 'style-01-sneaker.png',
      'style-02-coat.png', 'style-02-dress.png', 'style-02-sneaker.png',
      'walk.png',
    ]);
    const cell = decodePng(readFileSync(path.join(out, 'style-01-dress.png')));
    assert.equal(cell.width, 112);
    assert.equal(cell.height, 112);
    const grid = decodePng(readFileSync(path.join(out, 'lines.png')));
    assert.equal(grid.width, 3 * 112 + 4 * 2);
    assert.equal(grid.height, 2 * 112 + 3 * 2);
    const walk = decodePng(readFileSync(path.join(out, 'walk.png')));
    assert.equal(walk.width, 5 * 112 + 6 * 2);
    assert.equal(walk.height, 3 * 112 + 4 * 2);
  });

  it('draws the same pictures for the same seed', () => {
    const first = path.join(root, 'again-1');
    const second = path.join(root, 'again-2');
    assert.equal(runLine(lineArgs(first)).status, 0);
    assert.equal(runLine(lineArgs(second)).status, 0);
    const other = path.join(root, 'other-seed');
    assert.equal(runLine(lineArgs(other, { seed: '8' })).status, 0);

    const grid = (folder: string) => readFileSync(path.join(folder, 'lines.png'));
    assert.ok(grid(first).equals(grid(second)), 'same seed gave different grids');
    assert.ok(!grid(first).equals(grid(other)), 'another seed gave the same grid');
  });

  it('rejects an unknown category', () => {
    const out = path.join(root, 'unknown');
    const { status, stderr } = runLine(lineArgs(out, { categories: 'dress,hat' }));
    assert.equal(status, 1);
    assert.equal(
      stderr.trim(),
      "fashion-gan: --categories: unknown category 'hat'; valid: tshirt, trouser, pullover, " +
        'dress, coat, sandal, shirt, sneaker, bag, ankle-boot',
    );
    assert.ok(!existsSync(out), 'output folder was created');
  });

  it('rejects zero styles', () => {
    const { status, stderr } = runLine(lineArgs(path.join(root, 'zero'), { styles: '0' }));
    assert.equal(status, 1);
    assert.equal(stderr.trim(), 'fashion-gan: --styles: expected a whole number of at least 1, got 0');
  });

  it('rejects a store without the model', () => {
    const { status, stderr } = runLine(lineArgs(path.join(root, 'none'), { model: 'runs/nothing/train' }));
    assert.equal(status, 1);
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0], /^fashion-gan: --model: no generator under 'runs\/nothing\/train' in file:\/\//);
  });
});
