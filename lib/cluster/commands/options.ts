import { Argv } from 'yargs';

import { DEFAULT_NAMESPACE } from '../names';

/** Options of every command that talks to a cluster. */
export interface ClusterArgs {
  kubeconfig?: string;
  context?: string;
  namespace: string;
}

/** Adds --kubeconfig, --context and --namespace. */
export function withClusterOptions<T>(yargs: Argv<T>): Argv<T & ClusterArgs> {
  return yargs
    .option('kubeconfig', {
      type: 'string',
      describe: 'Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster account)',
    })
    .option('context', { type: 'string', describe: 'Kubeconfig context (default: the current one)' })
    .option('namespace', {
      alias: 'n',
      type: 'string',
      default: DEFAULT_NAMESPACE,
      describe: 'Namespace of the runs, set up by k8s/base',
    }) as Argv<T & ClusterArgs>;
}
