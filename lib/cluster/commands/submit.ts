import * as path from 'path';

import { CommandModule } from 'yargs';

import { UserError } from '../../errors';
import { newRunId } from '../../pipeline/record';
import { loadPipeline, resolveParameters } from '../../pipeline/spec';
import { connect } from '../client';
import { Engine, compileRun } from '../compile';
import { DEFAULT_PENDING_TIMEOUT_MS, driveRun } from '../drive';
import { checkClusterName } from '../names';
import { createRun, renderRunYaml } from '../submit';
import { ClusterArgs, withClusterOptions } from './options';
import { formatRunTable } from './table';

interface SubmitArgs extends ClusterArgs {
  file: string;
  engine: Engine;
  store: string;
  profile?: string;
  set: string[];
  download: boolean;
  'run-id'?: string;
  'image-registry'?: string;
  'dry-run': boolean;
  'server-dry-run': boolean;
  wait: boolean;
  'pending-timeout': number;
}

const DEFAULT_PIPELINE = path.resolve(__dirname, '..', '..', '..', 'pipeline.yaml');

/** `fashion-gan submit`: compiles pipeline.yaml into cluster resources and creates them. */
export const command: CommandModule<object, SubmitArgs> = {
  command: 'submit',
  describe: 'Run the pipeline on a Kubernetes cluster (Jobs, or an Argo Workflow)',
  builder: (yargs) =>
    withClusterOptions(yargs)
      .option('file', { type: 'string', default: DEFAULT_PIPELINE, defaultDescription: 'pipeline.yaml of this checkout', describe: 'Pipeline definition' })
      .option('engine', {
        choices: ['jobs', 'argo'] as const,
        default: 'jobs' as Engine,
        describe: 'jobs: one batch/v1 Job per stage, created in dependency order by this command; argo: one Argo Workflow',
      })
      .option('store', { type: 'string', demandOption: true, describe: 'Artifact store the stages share, s3://BUCKET/PREFIX' })
      .option('profile', { type: 'string', describe: 'Profile of pipeline.yaml, such as quick' })
      .option('set', { type: 'string', array: true, default: [], describe: 'Override a parameter: STAGE.PARAMETER=VALUE (repeatable)' })
      .option('download', { type: 'boolean', default: false, describe: 'Let prepare download Fashion-MNIST' })
      .option('run-id', { type: 'string', describe: 'Run id; a timestamp and random suffix if absent' })
      .option('image-registry', { type: 'string', describe: 'Registry path put before the image names, such as ghcr.io/me' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Print the resources as YAML and create nothing' })
      .option('server-dry-run', { type: 'boolean', default: false, describe: 'Send every resource with dryRun=All: the server validates, stores nothing' })
      .option('wait', { type: 'boolean', default: true, describe: 'Wait for the run to end (the jobs engine needs it to create later stages)' })
      .option('pending-timeout', { type: 'number', default: DEFAULT_PENDING_TIMEOUT_MS / 1000, describe: 'Seconds a stage pod may stay unschedulable before submit reports it' }) as never,
  handler: async (args) => {
    const spec = await loadPipeline(args.file);
    const sets = args.download ? ['prepare.download=true', ...args.set] : args.set;
    const parameters = resolveParameters(spec, { target: 'kubernetes', profile: args.profile, sets });
    const runId = args['run-id'] ?? newRunId();
    const problem = checkClusterName(runId, 'x');
    if (problem) throw new UserError(`--run-id ${runId}: ${problem}`);

    const run = compileRun(spec, {
      runId,
      namespace: args.namespace,
      store: args.store,
      parameters,
      imageRegistry: args['image-registry'],
    });
    if (args['dry-run']) {
      process.stdout.write(renderRunYaml(run, args.engine, runId, args.namespace));
      return;
    }

    const client = connect(args);
    await createRun(client, run, args.engine, runId, { serverDryRun: args['server-dry-run'] });
    if (args['server-dry-run']) {
      process.stdout.write(`run ${runId}: the API server accepted every resource (dry run, nothing stored)\n`);
      return;
    }
    process.stdout.write(`run ${runId} submitted to namespace ${args.namespace} (${args.engine})\n`);
    if (args.engine === 'argo' || !args.wait) {
      if (args.engine === 'jobs') {
        process.stdout.write(`later stages start only while 'fashion-gan runs watch ${runId}' runs\n`);
      }
      return;
    }
    const status = await driveRun(client, runId, { pendingTimeoutMs: args['pending-timeout'] * 1000 });
    process.stdout.write(formatRunTable([status]));
    if (status.phase !== 'Succeeded') process.exitCode = 1;
  },
};
