import { ArtifactStore, StoreError } from './store';

/** Opens an S3-compatible bucket. */
export function createS3Store(url: string): ArtifactStore {
  // TODO: the S3 backend is being written; until then s3:// URLs are rejected.
  throw new StoreError('invalid-url', `store URL '${url}': the S3 backend is not available yet`);
}
