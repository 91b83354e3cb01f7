import { existsSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as k8s from '@kubernetes/client-node';

import { UserError } from '../errors';
import { RequestContext, clusterError } from './errors';

/** Where to find the cluster: the command line's --kubeconfig and --context. */
export interface ConnectOptions {
  kubeconfig?: string;
  context?: string;
  namespace: string;
}

/** Clients for one cluster and namespace, with the facts error messages need. */
export interface ClusterClient {
  config: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  batch: k8s.BatchV1Api;
  objects: k8s.KubernetesObjectApi;
  namespace: string;
  server: string;
  context: string;
  /** Runs an API call and turns its failure into a one-line `UserError`. */
  call<T>(action: string, request: () => Promise<T>, kindHint?: string): Promise<T>;
}

/**
 * Loads the client configuration: --kubeconfig, else $KUBECONFIG, else ~/.kube/config, else the
 * in-cluster service account. Throws a `UserError` when none exists or --context is unknown.
 */
export function loadKubeConfig(options: Omit<ConnectOptions, 'namespace'>): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  const file = options.kubeconfig ?? firstKubeconfigFile();
  try {
    if (file !== undefined) {
      if (!existsSync(file)) throw new UserError(`kubeconfig ${file} does not exist`);
      config.loadFromFile(file);
    } else if (process.env.KUBERNETES_SERVICE_HOST) {
      config.loadFromCluster();
    } else {
      throw new UserError(
        'no kubeconfig found: set KUBECONFIG, pass --kubeconfig FILE, create ~/.kube/config, or ' +
          'run inside a cluster',
      );
    }
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`kubeconfig ${file}: cannot load it: ${(error as Error).message}`);
  }

  if (options.context !== undefined) {
    const names = config.getContexts().map((context) => context.name);
    if (!names.includes(options.context)) {
      throw new UserError(
        `--context ${options.context}: no such context in ${file ?? 'the configuration'} ` +
          `(contexts: ${names.join(', ') || 'none'})`,
      );
    }
    config.setCurrentContext(options.context);
  }
  if (!config.getCurrentCluster()) {
    throw new UserError(
      `kubeconfig ${file ?? ''}: the current context names no cluster; pass --context NAME`,
    );
  }
  return config;
}

function firstKubeconfigFile(): string | undefined {
  const fromEnvironment = (process.env.KUBECONFIG ?? '').split(path.delimiter).find((entry) => entry !== '');
  if (fromEnvironment) return fromEnvironment;
  const home = path.join(os.homedir(), '.kube', 'config');
  return existsSync(home) ? home : undefined;
}

/** Connects to the cluster of the kubeconfig; no request is sent until the first call. */
export function connect(options: ConnectOptions): ClusterClient {
  const config = loadKubeConfig(options);
  const server = config.getCurrentCluster()!.server;
  const context = config.getCurrentContext() || 'in-cluster';
  return {
    config,
    core: config.makeApiClient(k8s.CoreV1Api),
    batch: config.makeApiClient(k8s.BatchV1Api),
    objects: k8s.KubernetesObjectApi.makeApiClient(config),
    namespace: options.namespace,
    server,
    context,
    async call<T>(action: string, request: () => Promise<T>, kindHint?: string): Promise<T> {
      try {
        return await request();
      } catch (error) {
        const details: RequestContext = { action, namespace: options.namespace, server, context, kindHint };
        throw clusterError(error, details);
      }
    },
  };
}
