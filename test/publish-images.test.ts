import { strict as assert } from 'assert';

import * as tf from '@tensorflow/tfjs';

import { composeGrid, upscaleNearest } from '../lib/images/grid';
import { decodePng, encodePng } from '../lib/images/png';
import { tensorToImages } from '../lib/images/tensor';
import { loadBackend } from '../lib/tensorflow/backend';

describe('publish images', () => {
  before(() => loadBackend({ device: 'cpu' }));

  it('round-trips a grayscale PNG', () => {
    const image = { width: 3, height: 2, pixels: Uint8Array.from([0, 50, 100, 150, 200, 255]) };
    const decoded = decodePng(encodePng(image));
    assert.equal(decoded.width, 3);
    assert.equal(decoded.height, 2);
    assert.deepEqual(Array.from(decoded.pixels), [0, 50, 100, 150, 200, 255]);
  });

  it('upscales by repeating pixels', () => {
    const scaled = upscaleNearest({ width: 2, height: 1, pixels: Uint8Array.from([10, 20]) }, 2);
    assert.deepEqual(Array.from(scaled.pixels), [10, 10, 20, 20, 10, 10, 20, 20]);
  });

  it('lays out tiles with gaps', () => {
    const tile = (value: number) => ({ width: 1, height: 1, pixels: Uint8Array.from([value]) });
    const grid = composeGrid([[tile(1), tile(2)], [tile(3)]], { gap: 1, background: 9 });
    assert.equal(grid.width, 5);
    assert.equal(grid.height, 5);
    assert.deepEqual(Array.from(grid.pixels), [
      9, 9, 9, 9, 9,
      9, 1, 9, 2, 9,
      9, 9, 9, 9, 9,
      9, 3, 9, 9, 9,
      9, 9, 9, 9, 9,
    ]);
  });

  it('maps the model range to bytes', () => {
    const output = tf.tensor4d([-1, 0, 1, 2], [1, 2, 2, 1]);
    const [image] = tensorToImages(output);
    output.dispose();
    assert.deepEqual(Array.from(image.pixels), [0, 128, 255, 255]);
  });

  it('rejects a body that is not a PNG', () => {
    assert.throws(() => decodePng(Buffer.from('not a png'), 'lines.png'), /lines\.png: not a valid PNG/);
  });
});
