import { strict as assert } from 'assert';
import { randomBytes } from 'crypto';
import { writeFileSync } from 'fs';
import * as path from 'path';

import * as k8s from '@kubernetes/client-node';

import { ClusterClient, connect } from '../lib/cluster/client';
import { argoWorkflow, compileRun, CompiledRun } from '../lib/cluster/compile';
import { driveRun } from '../lib/cluster/drive';
import { RUN_LABEL, STAGE_LABEL, jobName, runObjectName } from '../lib/cluster/names';
import { deleteRun, readRunObject, runStatus } from '../lib/cluster/runs';
import { createRun, renderRunYaml } from '../lib/cluster/submit';
import { UserError } from '../lib/errors';
import { newRunId } from '../lib/pipeline/record';
import { PipelineSpec, loadPipeline, resolveParameters } from '../lib/pipeline/spec';
import { KubeCluster, startKubeCluster, waitFor } from './support/kube-cluster';

const ROOT = path.resolve(__dirname, '..');
const NAMESPACE = 'fashion-gan';
const STORE = 's3://fashion-gan/cluster-test';

describe('cluster runs on a real API server', function () {
  this.timeout(180_000);
  let cluster: KubeCluster;
  let spec: PipelineSpec;

  before(async function () {
    this.timeout(240_000);
    cluster = await startKubeCluster({ cpuNodes: 2, gpuNodes: 1 });
    spec = await loadPipeline(path.join(ROOT, 'pipeline.yaml'));
    await cluster.kubectl(['apply', '-k', path.join(ROOT, 'k8s', 'base')]);
    await cluster.kubectl(['apply', '-f', path.join(ROOT, 'k8s', 'test', 'workflow-crd.yaml')]);
    const credentials = path.join(cluster.dir, 'store.env');
    writeFileSync(
      credentials,
      `AWS_ACCESS_KEY_ID=test${randomBytes(4).toString('hex')}\nAWS_SECRET_ACCESS_KEY=${randomBytes(12).toString('hex')}\n`,
      { mode: 0o600 },
    );
    const secret = ['create', 'secret', 'generic', 'fashion-gan-store-credentials', `--from-env-file=${credentials}`];
    await cluster.kubectl(['-n', NAMESPACE, ...secret]);
    await cluster.kubectl(['wait', '--for=condition=Established', 'crd/workflows.argoproj.io', '--timeout=60s']);
  });

  after(async () => {
    await cluster?.stop();
  });

  const client = (namespace = NAMESPACE, user: 'admin' | 'outsider' = 'admin'): ClusterClient =>
    connect({ kubeconfig: cluster.kubeconfigFor(user), namespace });

  const compile = (runId: string, namespace = NAMESPACE, extraEnv = {}, model = spec): CompiledRun =>
    compileRun(model, {
      runId,
      namespace,
      store: STORE,
      parameters: resolveParameters(model, { target: 'kubernetes', sets: ['prepare.download=true'] }),
      extraEnv,
    });

  it('accepts the manifests of k8s/ in a server-side dry run', async () => {
    const base = await cluster.kubectl(['apply', '--dry-run=server', '-k', path.join(ROOT, 'k8s', 'base')]);
    assert.match(base, /role.rbac.authorization.k8s.io\/fashion-gan-submitter/);
    const overlay = await cluster.kubectl([
      'apply', '--dry-run=server', '-k', path.join(ROOT, 'k8s', 'overlays', 'in-cluster-store'),
    ]);
    assert.match(overlay, /deployment.apps\/fashion-gan-store/);
    assert.match(overlay, /job.batch\/fashion-gan-store-bucket/);
    const secret = await cluster.kubectl([
      'apply', '--dry-run=server', '-f', path.join(ROOT, 'k8s', 'store-credentials.example.yaml'),
    ]);
    assert.match(secret, /secret\/fashion-gan-store-credentials/);
  });

  it('accepts every compiled Job in a server-side dry run', async () => {
    const runId = newRunId();
    const { created } = await createRun(client(), compile(runId), 'jobs', runId, { serverDryRun: true });
    assert.deepEqual(
      created.map((resource) => resource.metadata?.name),
      ['prepare', 'train', 'evaluate', 'publish'].map((stage) => jobName(runId, stage)),
    );
    const stored = await client().batch.listNamespacedJob({ namespace: NAMESPACE, labelSelector: `${RUN_LABEL}=${runId}` });
    assert.equal(stored.items.length, 0, 'a dry run stored Jobs');
  });

  it('creates an argo Workflow whose DAG follows the dependencies', async () => {
    const runId = newRunId();
    const run = compile(runId);
    await createRun(client(), run, 'argo', runId, { serverDryRun: true });
    await createRun(client(), run, 'argo', runId);

    const stored = (await client().objects.read({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Workflow',
      metadata: { name: runObjectName(runId), namespace: NAMESPACE },
    })) as unknown as ReturnType<typeof argoWorkflow> & {
      metadata: k8s.V1ObjectMeta;
      spec: { entrypoint: string; templates: { name: string; dag?: { tasks: { name: string; dependencies?: string[] }[] }; retryStrategy?: { limit: number }; nodeSelector?: Record<string, string> }[] };
    };
    const dag = stored.spec.templates.find((template) => template.name === stored.spec.entrypoint)?.dag;
    assert.ok(dag, 'the entry point is not a DAG template');
    const dependencies = Object.fromEntries(dag.tasks.map((task) => [task.name, task.dependencies ?? []]));
    assert.deepEqual(dependencies, {
      prepare: [],
      train: ['prepare'],
      evaluate: ['prepare', 'train'],
      publish: ['evaluate', 'train'],
    });
    const train = stored.spec.templates.find((template) => template.name === 'train');
    assert.equal(train?.retryStrategy?.limit, 1);
    assert.deepEqual(train?.nodeSelector, { 'fashion-gan/node-pool': 'gpu' });
    assert.equal(stored.metadata.ownerReferences?.[0]?.name, runObjectName(runId));

    await deleteRun(client(), runId);
  });

  it('runs the four stages in order to Succeeded with the jobs engine', async () => {
    const runId = newRunId();
    await createRun(client(), compile(runId), 'jobs', runId);
    const status = await driveRun(client(), runId, { pollMs: 300 });
    assert.equal(status.phase, 'Succeeded');
    assert.deepEqual(
      status.stages.map((stage) => `${stage.name}=${stage.state}`),
      ['prepare=succeeded', 'train=succeeded', 'evaluate=succeeded', 'publish=succeeded'],
    );

    const jobs = await client().batch.listNamespacedJob({ namespace: NAMESPACE, labelSelector: `${RUN_LABEL}=${runId}` });
    const byStage = new Map(jobs.items.map((job) => [job.metadata!.labels![STAGE_LABEL], job]));
    for (const [stage, upstream] of [['train', 'prepare'], ['evaluate', 'train'], ['publish', 'evaluate']]) {
      const created = byStage.get(stage)!.metadata!.creationTimestamp!.getTime();
      const finished = byStage.get(upstream)!.status!.completionTime!.getTime();
      assert.ok(created >= finished, `${stage} was created before ${upstream} completed`);
    }
    for (const job of jobs.items) {
      assert.equal(job.metadata?.ownerReferences?.[0]?.name, runObjectName(runId));
    }
  });

  it('schedules train on the GPU node only', async () => {
    const runId = newRunId();
    await createRun(client(), compile(runId), 'jobs', runId);
    await driveRun(client(), runId, { pollMs: 300 });
    const pods = await client().core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `${RUN_LABEL}=${runId}` });
    const nodes = new Map(pods.items.map((pod) => [pod.metadata!.labels![STAGE_LABEL], pod.spec!.nodeName]));
    assert.equal(nodes.get('train'), 'gpu-0');
    for (const stage of ['prepare', 'evaluate', 'publish']) {
      assert.match(nodes.get(stage) ?? '', /^cpu-/, `${stage} ran on ${nodes.get(stage)}`);
    }
    const train = pods.items.find((pod) => pod.metadata!.labels![STAGE_LABEL] === 'train')!;
    assert.equal(train.spec!.containers[0].resources!.limits!['nvidia.com/gpu'], '1');
  });

  it('stops the dependants of a failing stage and reports it', async () => {
    const runId = newRunId();
    const failing = { evaluate: { FASHION_GAN_KWOK_EXIT_CODE: '3' } };
    await createRun(client(), compile(runId, NAMESPACE, failing), 'jobs', runId);
    const status = await driveRun(client(), runId, { pollMs: 300 });
    assert.equal(status.phase, 'Failed');
    const states = Object.fromEntries(status.stages.map((stage) => [stage.name, stage.state]));
    assert.deepEqual(states, { prepare: 'succeeded', train: 'succeeded', evaluate: 'failed', publish: 'skipped' });
    assert.match(status.stages[2].reason ?? '', /BackoffLimitExceeded/);
    await assert.rejects(
      client().batch.readNamespacedJob({ name: jobName(runId, 'publish'), namespace: NAMESPACE }),
      (error: { code?: number }) => error.code === 404,
    );
  });

  it('leaves nothing behind after runs delete', async () => {
    const runId = newRunId();
    await createRun(client(), compile(runId), 'jobs', runId);
    await driveRun(client(), runId, { pollMs: 300 });
    await deleteRun(client(), runId);

    const selector = `${RUN_LABEL}=${runId}`;
    await waitFor(`run ${runId} to be gone`, 60_000, async () => {
      const [maps, jobs, pods] = await Promise.all([
        client().core.listNamespacedConfigMap({ namespace: NAMESPACE, labelSelector: selector }),
        client().batch.listNamespacedJob({ namespace: NAMESPACE, labelSelector: selector }),
        client().core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: selector }),
      ]);
      return maps.items.length + jobs.items.length + pods.items.length === 0;
    });
    await assert.rejects(readRunObject(client(), runId), /not found in namespace fashion-gan/);
  });

  it('reports a GPU stage that no node can take', async () => {
    // A namespace without the GPU quota of k8s/base, which would reject the pod outright.
    const namespace = 'no-gpu-quota';
    await cluster.kubectl(['create', 'namespace', namespace]);
    await cluster.kubectl(['-n', namespace, 'create', 'serviceaccount', 'fashion-gan-stage']);
    const greedy: PipelineSpec = {
      ...spec,
      stages: spec.stages.map((stage) => (stage.name === 'prepare' ? { ...stage, resources: { ...stage.resources, gpu: 2 } } : stage)),
    };
    const runId = newRunId();
    await createRun(client(namespace), compile(runId, namespace, {}, greedy), 'jobs', runId);
    await assert.rejects(
      driveRun(client(namespace), runId, { pollMs: 300, pendingTimeoutMs: 2000 }),
      (error: Error) =>
        error instanceof UserError &&
        /stage prepare could not be scheduled for 2 s: .*Insufficient nvidia\.com\/gpu/.test(error.message) &&
        /add a GPU node pool/.test(error.message),
    );
  });

  it('rejects a namespace that does not exist', async () => {
    const runId = newRunId();
    await assert.rejects(
      createRun(client('no-such-namespace'), compile(runId, 'no-such-namespace'), 'jobs', runId),
      /namespace no-such-namespace does not exist .*kubectl apply -k k8s\/base/,
    );
  });

  it('reports RBAC refusals with the Role to bind', async () => {
    const runId = newRunId();
    await assert.rejects(
      createRun(client(NAMESPACE, 'outsider'), compile(runId), 'jobs', runId),
      /forbidden by RBAC: .*fashion-gan-outsider.*bind the Role fashion-gan-submitter/,
    );
  });

  it('rolls back the run object when a Job cannot be created', async () => {
    // The outsider may create ConfigMaps, not Jobs: the run object is created, then removed.
    await cluster.kubectl(['-n', NAMESPACE, 'create', 'role', 'configmaps-only', '--verb=create,get,list,delete', '--resource=configmaps']);
    await cluster.kubectl(['-n', NAMESPACE, 'create', 'rolebinding', 'configmaps-only', '--role=configmaps-only', '--user=fashion-gan-outsider']);
    const runId = newRunId();
    await assert.rejects(
      createRun(client(NAMESPACE, 'outsider'), compile(runId), 'jobs', runId),
      /create Job .* forbidden by RBAC/,
    );
    await assert.rejects(readRunObject(client(), runId), /not found/);
  });

  it('names an unreachable API server and what to check', async () => {
    const config = new k8s.KubeConfig();
    config.loadFromFile(cluster.kubeconfig);
    const file = path.join(cluster.dir, 'kubeconfig-closed.yaml');
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const text = config.exportConfig().replace(cluster.server, 'https://127.0.0.1:1');
    writeFileSync(file, text);
    const runId = newRunId();
    await assert.rejects(
      createRun(connect({ kubeconfig: file, namespace: NAMESPACE }), compile(runId), 'jobs', runId),
      /cannot reach the Kubernetes API server \(context fashion-gan-test, https:\/\/127\.0\.0\.1:1\): ECONNREFUSED/,
    );
  });

  it('rejects a missing kubeconfig and an unknown context', () => {
    const missing = path.join(cluster.dir, 'no-such-kubeconfig.yaml');
    assert.throws(() => connect({ kubeconfig: missing, namespace: NAMESPACE }), /kubeconfig .* does not exist/);
    assert.throws(
      () => connect({ kubeconfig: cluster.kubeconfig, context: 'prod', namespace: NAMESPACE }),
      /--context prod: no such context .*\(contexts: fashion-gan-test\)/,
    );
    const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME, host: process.env.KUBERNETES_SERVICE_HOST };
    try {
      process.env.KUBECONFIG = '';
      process.env.HOME = cluster.dir;
      delete process.env.KUBERNETES_SERVICE_HOST;
      assert.throws(() => connect({ namespace: NAMESPACE }), /no kubeconfig found: set KUBECONFIG, pass --kubeconfig FILE/);
    } finally {
      if (saved.KUBECONFIG === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved.KUBECONFIG;
      process.env.HOME = saved.HOME;
      if (saved.host !== undefined) process.env.KUBERNETES_SERVICE_HOST = saved.host;
    }
  });

  it('prints both engines as YAML without credentials', () => {
    const runId = '20261204-170102-k3f9';
    for (const engine of ['jobs', 'argo'] as const) {
      const text = renderRunYaml(compile(runId), engine, runId, NAMESPACE);
      assert.match(text, /secretRef:\n\s+name: fashion-gan-store-credentials/);
      assert.doesNotMatch(text, /AWS_SECRET_ACCESS_KEY/);
      assert.match(text, engine === 'argo' ? /kind: Workflow/ : /kind: Job/);
    }
  });

  it('lists a finished run with its stage states', async () => {
    const runId = newRunId();
    await createRun(client(), compile(runId), 'jobs', runId);
    await driveRun(client(), runId, { pollMs: 300 });
    const status = await runStatus(client(), await readRunObject(client(), runId));
    assert.equal(status.engine, 'jobs');
    assert.equal(status.phase, 'Succeeded');
    assert.equal(status.stages.length, 4);
  });
});
