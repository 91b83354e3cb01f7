import { promises as fs } from 'fs';
import * as path from 'path';

import { CommandModule } from 'yargs';

import { UserError } from '../errors';
import { DEFAULT_STORE, runPipeline } from './runner';

interface PipelineArgs {
  file: string;
  source?: string;
  download: boolean;
  store: string;
  profile?: string;
  set: string[];
  cache: boolean;
  'run-id'?: string;
  resume?: string;
  only?: string;
  from?: string;
  'dry-run': boolean;
  quiet: boolean;
}

const DEFAULT_PIPELINE = path.resolve(__dirname, '..', '..', 'pipeline.yaml');

/** `fashion-gan pipeline`: runs every stage of pipeline.yaml on this machine, with caching. */
export const command: CommandModule<object, PipelineArgs> = {
  command: 'pipeline',
  describe: 'Run the whole pipeline on this machine, reusing cached stages',
  builder: (yargs) =>
    yargs
      .option('file', {
        type: 'string',
        default: DEFAULT_PIPELINE,
        defaultDescription: 'pipeline.yaml of this checkout',
        describe: 'Pipeline definition',
      })
      .option('source', {
        type: 'string',
        describe: 'Folder with the four Fashion-MNIST .gz files',
      })
      .option('download', {
        type: 'boolean',
        default: false,
        describe: 'Let prepare download Fashion-MNIST instead of reading --source',
      })
      .option('store', {
        type: 'string',
        default: DEFAULT_STORE,
        describe: 'Artifact store URL (file://DIR or s3://BUCKET/PREFIX)',
      })
      .option('profile', { type: 'string', describe: 'Profile of pipeline.yaml, such as quick' })
      .option('set', {
        type: 'string',
        array: true,
        default: [],
        describe: 'Override a parameter: STAGE.PARAMETER=VALUE (repeatable)',
      })
      .option('cache', {
        type: 'boolean',
        default: true,
        describe: 'Reuse outputs of stages whose inputs, parameters and code are unchanged',
      })
      .option('run-id', {
        type: 'string',
        describe: 'Run id; a timestamp and random suffix if absent',
      })
      .option('resume', {
        type: 'string',
        describe: 'Continue the failed or interrupted run with this id; train resumes from its checkpoint',
      })
      .option('only', {
        type: 'string',
        describe: 'Run only this stage, even if cached; the stages before it must be cached',
      })
      .option('from', { type: 'string', describe: 'Rerun this stage and all after it' })
      .option('dry-run', {
        type: 'boolean',
        default: false,
        describe: 'Print the resolved command lines and cache states, run nothing',
      })
      .option('quiet', {
        type: 'boolean',
        default: false,
        describe: 'Keep stage output in the log files only, not on the terminal',
      })
      .check((args) => {
        if (args.source !== undefined && args.download) {
          throw new Error('pass either --source DIR or --download, not both');
        }
        if (args.resume !== undefined && args['run-id'] !== undefined) {
          throw new Error('pass either --resume RUN or --run-id, not both');
        }
        return true;
      }),
  handler: async (args) => {
    const sets: string[] = [];
    if (args.source !== undefined) sets.push(`prepare.source=${await sourceFolder(args.source)}`);
    if (args.download) sets.push('prepare.download=true');

    // Ctrl-C reaches the stage processes too, which fail, so the runner can still record the
    // run as failed. A second Ctrl-C ends the runner at once.
    const interruption = { requested: false };
    const onInterrupt = () => {
      interruption.requested = true;
      process.stderr.write('fashion-gan: interrupted, recording the run (Ctrl-C again to quit)\n');
      process.once('SIGINT', () => process.exit(130));
    };
    process.once('SIGINT', onInterrupt);

    const record = await runPipeline({
      pipelineFile: args.file,
      store: args.store,
      profile: args.profile,
      sets: [...sets, ...args.set],
      runId: args.resume ?? args['run-id'],
      resume: args.resume !== undefined,
      interruption,
      noCache: !args.cache,
      only: args.only,
      from: args.from,
      dryRun: args['dry-run'],
      stageOutput: args.quiet ? undefined : (line) => process.stderr.write(`${line}\n`),
    });
    process.off('SIGINT', onInterrupt);
    if (record.state === 'failed') process.exitCode = 1;
  },
};

/**
 * Resolves --source to an absolute folder without symbolic links, because the stages may run
 * from another directory and two spellings of one folder should share the prepare cache.
 */
async function sourceFolder(source: string): Promise<string> {
  const folder = path.resolve(source);
  const stat = await fs.stat(folder).catch(() => undefined);
  if (!stat?.isDirectory()) {
    throw new UserError(
      `--source ${source}: folder not found; pass the folder that contains ` +
        'train-images-idx3-ubyte.gz and the other three Fashion-MNIST files, or --download',
    );
  }
  return fs.realpath(folder);
}
