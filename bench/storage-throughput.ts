/**
 * Prints the throughput of the artifact stores: streamed writes and reads of one large object
 * and a listing of many keys, for a local folder and for an S3 server on 127.0.0.1
 * (FASHION_GAN_S3_SERVER selects versitygw or minio, as in the tests).
 *
 * Usage: npx ts-node --transpile-only bench/storage-throughput.ts [megabytes] [keys]
 * Output: one `key=value` line per measurement on standard output.
 */
import { mkdtempSync, rmSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

import { FileStore } from '../lib/storage/file-store';
import { createS3Store } from '../lib/storage/s3-store';
import { ArtifactStore } from '../lib/storage/store';
import { digestStream, generatedStream } from '../test/support/byte-streams';
import { S3TestServer } from '../test/support/s3-server';

const MiB = 1024 * 1024;

async function measure(name: string, store: ArtifactStore, megabytes: number, keyCount: number) {
  const bytes = megabytes * MiB;

  let started = performance.now();
  await store.putStream('bench/large.bin', generatedStream(bytes).stream);
  const writeSeconds = (performance.now() - started) / 1000;

  started = performance.now();
  await digestStream(await store.getStream('bench/large.bin'));
  const readSeconds = (performance.now() - started) / 1000;

  const keys = Array.from(
    { length: keyCount },
    (_, i) => `bench/keys/${String(i).padStart(6, '0')}`,
  );
  started = performance.now();
  for (let i = 0; i < keys.length; i += 32) {
    await Promise.all(keys.slice(i, i + 32).map((key) => store.put(key, '{}')));
  }
  const putSeconds = (performance.now() - started) / 1000;

  started = performance.now();
  const listed = await store.list('bench/keys/');
  const listSeconds = (performance.now() - started) / 1000;
  if (listed.length !== keyCount)
    throw new Error(`listed ${listed.length} keys, expected ${keyCount}`);

  console.log(
    [
      `store=${name}`,
      `object_mb=${megabytes}`,
      `write_mb_per_s=${(megabytes / writeSeconds).toFixed(1)}`,
      `read_mb_per_s=${(megabytes / readSeconds).toFixed(1)}`,
      `small_puts_per_s=${(keyCount / putSeconds).toFixed(0)}`,
      `list_keys=${keyCount}`,
      `list_s=${listSeconds.toFixed(2)}`,
    ].join(' '),
  );
}

async function main() {
  const megabytes = Number(process.argv[2] ?? 200);
  const keyCount = Number(process.argv[3] ?? 2500);

  const folder = mkdtempSync(path.join(os.tmpdir(), 'fashion-gan-bench-'));
  const server = await S3TestServer.launch();
  try {
    await measure('file', new FileStore(folder), megabytes, keyCount);
    for (const partMiB of [5, 16]) {
      const store = createS3Store(server.storeUrl(`part-${partMiB}`), {
        env: server.env(),
        partSize: partMiB * MiB,
      });
      await measure(`s3-${server.kind}-part-${partMiB}mib`, store, megabytes, keyCount);
      await store.close();
    }
  } finally {
    await server.dispose();
    rmSync(folder, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
