import { Writable } from 'stream';

import * as k8s from '@kubernetes/client-node';

import { UserError } from '../errors';
import { ClusterClient } from './client';
import { RUN_LABEL, STAGE_LABEL } from './names';

/**
 * Writes the logs of a run's pods to `output`, stage by stage in creation order, each line
 * prefixed with `[stage] `; with `follow`, keeps streaming a running pod until it ends.
 * Only the latest attempt of each stage is shown. Throws a `UserError` when the run or stage
 * has no pod yet.
 */
export async function streamRunLogs(
  client: ClusterClient,
  runId: string,
  stage: string | undefined,
  output: Writable,
  follow = false,
): Promise<void> {
  const selector = stage ? `${RUN_LABEL}=${runId},${STAGE_LABEL}=${stage}` : `${RUN_LABEL}=${runId}`;
  const pods = await client.call(`list the pods of run ${runId}`, () =>
    client.core.listNamespacedPod({ namespace: client.namespace, labelSelector: selector }),
  );
  const latest = new Map<string, k8s.V1Pod>();
  const byAge = pods.items.sort(
    (a, b) => (a.metadata?.creationTimestamp?.getTime() ?? 0) - (b.metadata?.creationTimestamp?.getTime() ?? 0),
  );
  for (const pod of byAge) latest.set(pod.metadata?.labels?.[STAGE_LABEL] ?? '', pod);
  if (latest.size === 0) {
    const what = stage ? `stage ${stage} of run ${runId}` : `run ${runId}`;
    throw new UserError(`${what} has no pod yet; check its state with 'fashion-gan runs'`);
  }

  const logs = new k8s.Log(client.config);
  for (const [name, pod] of latest) {
    const prefixed = new PrefixLines(`[${name}] `, output);
    await client.call(`read the logs of pod ${pod.metadata?.name}`, async () => {
      const request = await logs.log(client.namespace, pod.metadata!.name!, 'stage', prefixed, { follow });
      // The request ends when the server closes the stream.
      await new Promise<void>((resolve, reject) => {
        prefixed.on('finish', resolve);
        request.signal?.addEventListener?.('abort', () => resolve());
        prefixed.on('error', reject);
      });
    });
  }
}

/** A stream that puts a prefix before every line it passes on. */
class PrefixLines extends Writable {
  private partial = '';

  constructor(
    private readonly prefix: string,
    private readonly target: Writable,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    const lines = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.target.write(`${this.prefix}${line}\n`);
    done();
  }

  override _final(done: (error?: Error | null) => void): void {
    if (this.partial !== '') this.target.write(`${this.prefix}${this.partial}\n`);
    done();
  }
}
