import { ChildProcess, execFile, execFileSync, spawn } from 'child_process';
import { generateKeyPairSync, randomBytes } from 'crypto';
import { createWriteStream, promises as fs } from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';

import * as k8s from '@kubernetes/client-node';
import * as yaml from 'js-yaml';

const ROOT = path.resolve(__dirname, '..', '..');
const STAGES_FILE = path.join(ROOT, 'k8s', 'test', 'kwok-stages.yaml');

/** Node pools of the simulated cluster, as pipeline.yaml's nodeSelector names them. */
export const NODE_POOL_LABEL = 'fashion-gan/node-pool';
export const GPU_TAINT = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' };

/** Users of the token file: an administrator, and one with no role at all. */
export type ClusterUser = 'admin' | 'outsider';

/** A control plane on 127.0.0.1 with kwok nodes, started by `startKubeCluster`. */
export interface KubeCluster {
  /** Folder with certificates, tokens, kubeconfigs, etcd data and process logs. */
  dir: string;
  /** https://127.0.0.1:PORT */
  server: string;
  /** Kubeconfig of the administrator (context `fashion-gan-test`). */
  kubeconfig: string;
  /** Writes a kubeconfig for a user and returns its path. */
  kubeconfigFor(user: ClusterUser): string;
  /** A client configuration for a user. */
  kubeConfig(user?: ClusterUser): k8s.KubeConfig;
  /** Runs the kubectl of the same build as the server, as the administrator. */
  kubectl(args: string[], input?: string): Promise<string>;
  /** Stops every process and removes the folder. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  cpuNodes?: number;
  gpuNodes?: number;
}

/** Returns the folder of the control plane binaries, or throws how to build them. */
export function kubeBinaries(): string {
  try {
    return execFileSync('bash', [path.join(ROOT, 'setup', 'kube.sh'), '--check'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
    throw new Error(stderr || 'the Kubernetes binaries are missing: run bash setup/kube.sh');
  }
}

/**
 * Starts etcd, kube-apiserver, kube-controller-manager (Job controller, garbage collector,
 * namespace and service account controllers), kube-scheduler and kwok, all on 127.0.0.1, then
 * creates `cpuNodes` CPU nodes and `gpuNodes` GPU nodes (one nvidia.com/gpu each, tainted
 * nvidia.com/gpu=present:NoSchedule) and waits until they are Ready. About 10 s on 2 cores.
 */
export async function startKubeCluster(options: ClusterOptions = {}): Promise<KubeCluster> {
  const bin = kubeBinaries();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'fashion-gan-kube-'));
  const processes: ChildProcess[] = [];
  const tokens = {
    admin: randomBytes(16).toString('hex'),
    outsider: randomBytes(16).toString('hex'),
    controllerManager: randomBytes(16).toString('hex'),
    scheduler: randomBytes(16).toString('hex'),
    kwok: randomBytes(16).toString('hex'),
  };

  const stop = async () => {
    for (const child of processes.reverse()) await stopProcess(child);
    await fs.rm(dir, { recursive: true, force: true });
  };

  try {
    const [etcdPort, peerPort, apiPort, kwokPort] = await freePorts(4);
    await writeTokenFile(dir, tokens);
    await writeServiceAccountKeys(dir);

    processes.push(
      launch(dir, path.join(bin, 'etcd'), [
        '--name=test',
        `--data-dir=${path.join(dir, 'etcd')}`,
        `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
        `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-cluster=test=http://127.0.0.1:${peerPort}`,
        '--listen-metrics-urls=',
        '--unsafe-no-fsync',
      ]),
    );
    await waitFor(`etcd on port ${etcdPort}`, 30_000, () => httpOk(`http://127.0.0.1:${etcdPort}/health`));

    processes.push(
      launch(dir, path.join(bin, 'kube-apiserver'), [
        `--etcd-servers=http://127.0.0.1:${etcdPort}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        `--cert-dir=${path.join(dir, 'certs')}`,
        `--token-auth-file=${path.join(dir, 'tokens.csv')}`,
        '--authorization-mode=RBAC',
        `--service-account-key-file=${path.join(dir, 'sa.pub')}`,
        `--service-account-signing-key-file=${path.join(dir, 'sa.key')}`,
        '--service-account-issuer=https://kubernetes.default.svc',
        // A range of virtual Service addresses that the server only allocates from.
        '--service-cluster-ip-range=10.96.0.0/16',
        // The Endpoints of the `kubernetes` Service may not hold a loopback address.
        '--endpoint-reconciler-type=none',
        // Without kube-controller-manager's node lifecycle controller nothing would lift the
        // not-ready taint that this plugin puts on new nodes; kwok marks them Ready instead.
        '--disable-admission-plugins=TaintNodesByCondition',
        '--enable-priority-and-fairness=false',
      ]),
    );
    const server = `https://127.0.0.1:${apiPort}`;
    const caFile = path.join(dir, 'certs', 'apiserver.crt');
    await waitFor('kube-apiserver', 60_000, () =>
      httpOk(`${server}/readyz`, tokens.admin, caFile).catch(() => false),
    );

    const kubeconfigFor = (user: string, token: string) => {
      const file = path.join(dir, `kubeconfig-${user}.yaml`);
      writeKubeconfigSync(file, server, caFile, user, token);
      return file;
    };
    const adminConfig = kubeconfigFor('admin', tokens.admin);

    processes.push(
      launch(dir, path.join(bin, 'kube-controller-manager'), [
        `--kubeconfig=${kubeconfigFor('controller-manager', tokens.controllerManager)}`,
        '--controllers=job,garbagecollector,namespace,serviceaccount,podgc',
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        '--secure-port=0',
        '--concurrent-job-syncs=5',
      ]),
      launch(dir, path.join(bin, 'kube-scheduler'), [
        `--kubeconfig=${kubeconfigFor('scheduler', tokens.scheduler)}`,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        '--secure-port=0',
      ]),
      launch(dir, path.join(bin, 'kwok'), [
        `--kubeconfig=${kubeconfigFor('kwok', tokens.kwok)}`,
        `--config=${STAGES_FILE}`,
        '--manage-all-nodes=false',
        '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
        '--node-ip=127.0.0.1',
        `--server-address=127.0.0.1:${kwokPort}`,
      ]),
    );

    const config = loadConfig(adminConfig);
    await createNodes(config, options.cpuNodes ?? 2, options.gpuNodes ?? 1);
    await waitFor('kwok nodes Ready', 60_000, () => allNodesReady(config));
    await waitFor('the default service account', 30_000, async () => {
      const core = config.makeApiClient(k8s.CoreV1Api);
      return core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' }).then(
        () => true,
        () => false,
      );
    });

    const userTokens: Record<ClusterUser, string> = { admin: tokens.admin, outsider: tokens.outsider };
    return {
      dir,
      server,
      kubeconfig: adminConfig,
      kubeconfigFor: (user) => kubeconfigFor(user, userTokens[user]),
      kubeConfig: (user = 'admin') => loadConfig(kubeconfigFor(user, userTokens[user])),
      kubectl: (args, input) => runKubectl(bin, adminConfig, args, input),
      stop,
    };
  } catch (error) {
    const logs = await tailLogs(dir);
    await stop();
    throw new Error(`${(error as Error).message}\n${logs}`);
  }
}

function loadConfig(file: string): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  config.loadFromFile(file);
  return config;
}

async function createNodes(config: k8s.KubeConfig, cpuNodes: number, gpuNodes: number): Promise<void> {
  const core = config.makeApiClient(k8s.CoreV1Api);
  const node = (name: string, pool: string, gpus: number): k8s.V1Node => {
    const capacity: Record<string, string> = { cpu: '8', memory: '32Gi', pods: '110' };
    if (gpus > 0) capacity['nvidia.com/gpu'] = String(gpus);
    return {
      metadata: {
        name,
        // kwok manages nodes with this annotation; the node-ready stage marks them Ready.
        annotations: { 'kwok.x-k8s.io/node': 'fake' },
        labels: { 'kubernetes.io/hostname': name, type: 'kwok', [NODE_POOL_LABEL]: pool },
      },
      spec: gpus > 0 ? { taints: [GPU_TAINT] } : {},
      // Nodes take their status on creation, which is how kwok nodes get capacity.
      status: { capacity, allocatable: capacity },
    };
  };
  for (let index = 0; index < cpuNodes; index += 1) {
    await core.createNode({ body: node(`cpu-${index}`, 'cpu', 0) });
  }
  for (let index = 0; index < gpuNodes; index += 1) {
    await core.createNode({ body: node(`gpu-${index}`, 'gpu', 1) });
  }
}

async function allNodesReady(config: k8s.KubeConfig): Promise<boolean> {
  const nodes = await config.makeApiClient(k8s.CoreV1Api).listNode();
  return nodes.items.every((node) =>
    (node.status?.conditions ?? []).some((condition) => condition.type === 'Ready' && condition.status === 'True'),
  );
}

async function writeTokenFile(dir: string, tokens: Record<string, string>): Promise<void> {
  // Format of --token-auth-file: token,user,uid,"group1,group2"
  const lines = [
    `${tokens.admin},fashion-gan-admin,uid-admin,"system:masters"`,
    `${tokens.outsider},fashion-gan-outsider,uid-outsider`,
    // The controllers run under this one identity (no --use-service-account-credentials), and
    // the bootstrap role of that user lacks what the Job controller does, so it gets full rights.
    `${tokens.controllerManager},system:kube-controller-manager,uid-kcm,"system:masters"`,
    `${tokens.scheduler},system:kube-scheduler,uid-scheduler`,
    // kwok patches the status of every node and pod, so it runs with full rights.
    `${tokens.kwok},kwok-controller,uid-kwok,"system:masters"`,
  ];
  await fs.writeFile(path.join(dir, 'tokens.csv'), `${lines.join('\n')}\n`, { mode: 0o600 });
}

async function writeServiceAccountKeys(dir: string): Promise<void> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  await fs.writeFile(path.join(dir, 'sa.key'), privateKey, { mode: 0o600 });
  await fs.writeFile(path.join(dir, 'sa.pub'), publicKey);
}

function writeKubeconfigSync(file: string, server: string, caFile: string, user: string, token: string): void {
  const document = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'fashion-gan-test', cluster: { server, 'certificate-authority': caFile } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: 'fashion-gan-test', context: { cluster: 'fashion-gan-test', user } }],
    'current-context': 'fashion-gan-test',
  };
  require('fs').writeFileSync(file, yaml.dump(document), { mode: 0o600 });
}

function launch(dir: string, program: string, args: string[]): ChildProcess {
  const name = path.basename(program);
  const log = createWriteStream(path.join(dir, `${name}.log`));
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function tailLogs(dir: string): Promise<string> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const tails: string[] = [];
  for (const name of names.filter((entry) => entry.endsWith('.log'))) {
    const text = await fs.readFile(path.join(dir, name), 'utf8').catch(() => '');
    tails.push(`--- ${name}\n${text.split('\n').slice(-15).join('\n')}`);
  }
  return tails.join('\n');
}

async function runKubectl(bin: string, kubeconfig: string, args: string[], input?: string): Promise<string> {
  const run = promisify(execFile);
  if (input === undefined) {
    const { stdout } = await run(path.join(bin, 'kubectl'), [`--kubeconfig=${kubeconfig}`, ...args]);
    return stdout;
  }
  return new Promise((resolve, reject) => {
    const child = execFile(
      path.join(bin, 'kubectl'),
      [`--kubeconfig=${kubeconfig}`, ...args],
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
    );
    child.stdin?.end(input);
  });
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<net.Server>((resolve, reject) => {
        const server = net.createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server));
      }),
    ),
  );
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

async function httpOk(url: string, token?: string, caFile?: string): Promise<boolean> {
  const ca = caFile ? await fs.readFile(caFile).catch(() => undefined) : undefined;
  if (caFile && !ca) return false;
  const client = url.startsWith('https:') ? await import('https') : await import('http');
  return new Promise((resolve) => {
    const request = client.get(
      url,
      { headers: token ? { Authorization: `Bearer ${token}` } : {}, ca, timeout: 2000 },
      (response) => {
        response.resume();
        resolve(response.statusCode === 200);
      },
    );
    request.on('error', () => resolve(false));
    request.on('timeout', () => request.destroy());
  });
}

/** Polls `check` every 200 ms until it returns true, or throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
