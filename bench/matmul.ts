/**
 * Times a 512x512 float32 matrix product on libtensorflow (tfjs-node) and on tfjs's
 * pure-JavaScript `cpu` backend in the same process, and prints both and their ratio.
 *
 * Usage: npx ts-node --transpile-only bench/matmul.ts [--size 512]
 */
import * as tf from '@tensorflow/tfjs';

import { loadBackend } from '../lib/tensorflow/backend';

const argv = process.argv.slice(2);
const sizeIndex = argv.indexOf('--size');
const size = sizeIndex >= 0 ? Number(argv[sizeIndex + 1]) : 512;

/** Returns the median time of one product in milliseconds, after one warm-up product. */
async function timeProduct(backend: string, repeats: number): Promise<number> {
  await tf.setBackend(backend);
  const a = tf.randomNormal([size, size], 0, 1, 'float32', 1);
  const b = tf.randomNormal([size, size], 0, 1, 'float32', 2);
  const times: number[] = [];
  for (let i = 0; i <= repeats; i++) {
    const started = process.hrtime.bigint();
    // Not inside tf.tidy: tidy scans a returned typed array element by element.
    const product = tf.matMul(a, b);
    product.dataSync();
    product.dispose();
    if (i > 0) times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  tf.dispose([a, b]);
  times.sort((x, y) => x - y);
  return times[Math.floor(times.length / 2)];
}

async function main(): Promise<void> {
  loadBackend({ device: 'cpu' });
  const native = await timeProduct('tensorflow', 30);
  const javascript = await timeProduct('cpu', 5);
  console.log(`${size}x${size} matrix product, median of repeated runs:`);
  console.log(`  tensorflow (libtensorflow): ${native.toFixed(2)} ms`);
  console.log(`  cpu (pure JavaScript):      ${javascript.toFixed(2)} ms`);
  console.log(`  libtensorflow is ${(javascript / native).toFixed(1)} times faster`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
