/** The --store option that every stage and tool shares: where artifacts are read and written. */
export const STORE_OPTION = {
  type: 'string',
  default: 'file://./artifacts',
  describe: 'Artifact store URL (file://DIR or s3://BUCKET/PREFIX)',
} as const;

/** The --dataset option of the stages that read the prepared data set. */
export const DATASET_OPTION = {
  type: 'string',
  default: 'datasets/fashion-mnist',
  describe: 'Key prefix of the prepared data set',
} as const;
