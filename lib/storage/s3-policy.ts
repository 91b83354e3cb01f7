import { createHash } from 'crypto';

import { StoreError } from './store';

/** Statement ids of the bucket policy statements that `setPublicRead` writes start with this. */
export const PUBLIC_READ_SID_PREFIX = 'FashionGanPublicRead';

/** An S3 bucket policy document, reduced to the fields this module reads. */
export interface BucketPolicy {
  Version: string;
  Statement: Record<string, unknown>[];
}

export function emptyBucketPolicy(): BucketPolicy {
  return { Version: '2012-10-17', Statement: [] };
}

/**
 * Parses a bucket policy document. A single statement object becomes a list of one, as the
 * policy grammar allows both forms.
 */
export function parseBucketPolicy(text: string, storeUrl: string, bucket: string): BucketPolicy {
  let policy: BucketPolicy;
  try {
    policy = JSON.parse(text) as BucketPolicy;
  } catch {
    throw new StoreError(
      'failed',
      `${storeUrl}: the bucket policy of '${bucket}' is not valid JSON: fix or delete it` +
        ' before publishing',
    );
  }
  if (!Array.isArray(policy.Statement)) {
    policy.Statement = policy.Statement ? [policy.Statement] : [];
  }
  return policy;
}

/**
 * Returns the policy with a statement that allows anonymous s3:GetObject on `resource` (an
 * ARN such as `arn:aws:s3:::bucket/prefix/*`). The statement id derives from the resource, so
 * a repeated call replaces its own statement and leaves every other statement as it was.
 */
export function withPublicRead(policy: BucketPolicy, resource: string): BucketPolicy {
  const resourceHash = createHash('sha256').update(resource).digest('hex');
  const sid = `${PUBLIC_READ_SID_PREFIX}${resourceHash.slice(0, 16)}`;
  const others = policy.Statement.filter((statement) => statement.Sid !== sid);
  const statement = {
    Sid: sid,
    Effect: 'Allow',
    Principal: '*',
    Action: ['s3:GetObject'],
    Resource: [resource],
  };
  return { ...policy, Statement: [...others, statement] };
}
