import { createHash, randomFillSync } from 'crypto';
import { Readable } from 'stream';
import { setFlagsFromString } from 'v8';
import { runInNewContext } from 'vm';

/** A stream of random bytes made on demand, with the SHA-256 of everything it produced. */
export interface GeneratedStream {
  stream: Readable;
  /** Returns the hex SHA-256 of the bytes produced so far, the full digest once the stream ends. */
  digest(): string;
  /** Bytes produced so far. */
  produced(): number;
}

/**
 * Returns a stream of `size` random bytes in `chunkSize` chunks that are generated only when
 * the consumer reads, so the whole body is never in memory at once. `onChunk` runs after each
 * chunk with the byte count so far, which lets a test act in the middle of an upload.
 */
export function generatedStream(
  size: number,
  options: { chunkSize?: number; onChunk?: (produced: number) => void } = {},
): GeneratedStream {
  const chunkSize = options.chunkSize ?? 64 * 1024;
  const hash = createHash('sha256');
  let produced = 0;
  let digest: string | undefined;

  const stream = new Readable({
    read() {
      if (produced >= size) {
        digest = hash.digest('hex');
        this.push(null);
        return;
      }
      const chunk = randomFillSync(Buffer.allocUnsafe(Math.min(chunkSize, size - produced)));
      hash.update(chunk);
      produced += chunk.length;
      this.push(chunk);
      options.onChunk?.(produced);
    },
  });

  return {
    stream,
    digest: () => digest ?? hash.copy().digest('hex'),
    produced: () => produced,
  };
}

/** Returns the hex SHA-256 and the length of a stream's bytes, read chunk by chunk. */
export async function digestStream(stream: Readable): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

export function sha256(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

/** Full garbage collection on demand, so that memory samples count live buffers only. */
function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * Samples the bytes held in live ArrayBuffers (Node Buffers) every `intervalMs` after a forced
 * garbage collection. `stop` returns the peak above the level at the start, in bytes. The start
 * waits until the level is steady, because V8 frees dropped buffers some time after collecting.
 */
export async function sampleBufferMemory(
  intervalMs = 100,
): Promise<{ stop(): number; samples: number[] }> {
  const gc = collectGarbage();
  const measure = () => {
    gc();
    return process.memoryUsage().arrayBuffers;
  };

  let baseline = measure();
  for (let round = 0; round < 20; round += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const bytes = measure();
    const steady = Math.abs(bytes - baseline) < 256 * 1024;
    baseline = bytes;
    if (steady) break;
  }

  // Each sample is the lower of two readings 20 ms apart, because buffers found dead by one
  // collection may still be counted until V8 finishes sweeping them.
  const samples: number[] = [];
  let sampling = true;
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  void (async () => {
    while (sampling) {
      await pause(intervalMs);
      const first = measure();
      await pause(20);
      if (sampling) samples.push(Math.min(first, measure()) - baseline);
    }
  })();
  return {
    samples,
    stop() {
      sampling = false;
      return Math.max(0, ...samples);
    },
  };
}
