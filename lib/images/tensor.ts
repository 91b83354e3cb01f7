import * as tf from '@tensorflow/tfjs';

import { pixelToByte } from '../constants';
import { GrayImage } from './png';

/**
 * Converts a batch of model outputs to grayscale images, one per batch entry, through
 * `pixelToByte` so that every picture uses the pixel range that training used.
 *
 * @param images [n, height, width, 1], values in [-1, 1]; values outside are clamped.
 * Does not dispose `images`.
 */
export function tensorToImages(images: tf.Tensor4D): GrayImage[] {
  const [count, height, width, channels] = images.shape;
  if (channels !== 1) throw new Error(`tensorToImages: expected 1 channel, got ${channels}`);
  const values = images.dataSync();
  const size = height * width;
  const result: GrayImage[] = [];
  for (let n = 0; n < count; n += 1) {
    const pixels = new Uint8Array(size);
    for (let i = 0; i < size; i += 1) pixels[i] = pixelToByte(values[n * size + i]);
    result.push({ width, height, pixels });
  }
  return result;
}
