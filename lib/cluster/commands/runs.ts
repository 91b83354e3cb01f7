import { CommandModule } from 'yargs';

import { connect } from '../client';
import { driveRun } from '../drive';
import { streamRunLogs } from '../logs';
import { deleteRun, listRunObjects, runStatus } from '../runs';
import { ClusterArgs, withClusterOptions } from './options';
import { formatRunTable } from './table';

interface RunArgs extends ClusterArgs {
  run: string;
  stage?: string;
  follow?: boolean;
}

const logs: CommandModule<ClusterArgs, RunArgs> = {
  command: 'logs <run> [stage]',
  describe: "Print the logs of a run's stages (the latest attempt of each)",
  builder: (yargs) =>
    yargs
      .positional('run', { type: 'string', demandOption: true, describe: 'Run id' })
      .positional('stage', { type: 'string', describe: 'Only this stage' })
      .option('follow', { alias: 'f', type: 'boolean', default: false, describe: 'Keep streaming until the pods end' }) as never,
  handler: async (args) => {
    await streamRunLogs(connect(args), args.run, args.stage, process.stdout, args.follow);
  },
};

const remove: CommandModule<ClusterArgs, RunArgs> = {
  command: 'delete <run>',
  describe: 'Delete a run and everything it created in the cluster (its artifacts stay in the store)',
  builder: (yargs) => yargs.positional('run', { type: 'string', demandOption: true, describe: 'Run id' }) as never,
  handler: async (args) => {
    await deleteRun(connect(args), args.run);
    process.stdout.write(`run ${args.run} deleted\n`);
  },
};

const watch: CommandModule<ClusterArgs, RunArgs> = {
  command: 'watch <run>',
  describe: 'Carry on a jobs-engine run: create stage Jobs as their dependencies succeed',
  builder: (yargs) => yargs.positional('run', { type: 'string', demandOption: true, describe: 'Run id' }) as never,
  handler: async (args) => {
    const status = await driveRun(connect(args), args.run);
    process.stdout.write(formatRunTable([status]));
    if (status.phase !== 'Succeeded') process.exitCode = 1;
  },
};

/** `fashion-gan runs`: lists cluster runs with their stage states; subcommands logs, delete, watch. */
export const command: CommandModule<object, ClusterArgs> = {
  command: 'runs',
  describe: 'List the runs on the cluster with their stage states',
  builder: (yargs) => withClusterOptions(yargs).command(logs).command(remove).command(watch) as never,
  handler: async (args) => {
    const client = connect(args);
    const runObjects = await listRunObjects(client);
    const statuses = [];
    for (const runObject of runObjects) statuses.push(await runStatus(client, runObject));
    process.stdout.write(statuses.length > 0 ? formatRunTable(statuses) : `no runs in namespace ${args.namespace}\n`);
  },
};

