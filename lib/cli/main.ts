import yargs, { CommandModule } from 'yargs';

import { UserError } from '../errors';

/**
 * Command modules of the `fashion-gan` command line by command name. Each exports `command`, a
 * yargs CommandModule whose name is the key here, and loads libtensorflow only in its handler.
 */
export const COMMAND_MODULES: Record<string, string> = {
  prepare: '../../stages/prepare/command',
  train: '../../stages/train/command',
  pipeline: '../pipeline/command',
  publish: '../../stages/publish/command',
  line: '../../stages/publish/line-command',
  gallery: '../../stages/publish/gallery-command',
  evaluate: '../../stages/evaluate/command',
  submit: '../cluster/commands/submit',
  runs: '../cluster/commands/runs',
};

/** The part of the yargs instance that lists the declared options by type. */
interface YargsOptions {
  getOptions(): { array: string[] };
}

/** Runs the command line with the given arguments (without `node` and the script). */
export async function main(argv: string[]): Promise<void> {
  const name = argv.find((arg) => !arg.startsWith('-'));
  const cli = yargs(argv)
    .scriptName('fashion-gan')
    .usage('$0 <command> [options]')
    .strict()
    .demandCommand(1, 'name a command; see --help')
    .recommendCommands()
    .check((args) => {
      // yargs turns a number option given as text into NaN, which later checks would echo.
      for (const [option, value] of Object.entries(args)) {
        // yargs also lists each option under its camelCase alias; report the dashed name.
        const camelCase = /[A-Z]/.test(option);
        if (typeof value === 'number' && Number.isNaN(value) && !camelCase) {
          throw new Error(`--${option} must be a number`);
        }
      }
      // yargs merges a repeated option into a list, or for some values into a sum, which the
      // stages would misread, so only list options may be repeated.
      const listOptions = new Set((cli as unknown as YargsOptions).getOptions().array);
      const counts = new Map<string, number>();
      for (const arg of argv.slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length)) {
        if (!arg.startsWith('--')) continue;
        const option = arg.slice(2).split('=')[0];
        counts.set(option, (counts.get(option) ?? 0) + 1);
      }
      for (const [option, count] of counts) {
        if (count > 1 && !listOptions.has(option)) {
          throw new Error(`--${option} is given ${count} times, expected once`);
        }
      }
      return true;
    }, true)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((message, error) => {
      if (error instanceof UserError) reportAndExit(error);
      // yargs passes a message for argument errors, its own and those thrown by .check(), and
      // none for an error thrown by a command's handler, which is a crash worth a stack.
      if (!message) throw error;
      // recommendCommands() prints only a suggestion for an unknown command, so add its name.
      if (message.startsWith('Did you mean')) message = `unknown command '${name}'. ${message}`;
      process.stderr.write(`fashion-gan: ${message}\n(run with --help for usage)\n`);
      process.exit(2);
    });

  // Loading every module took up to a second here, mostly for the Kubernetes client, so a known
  // command loads only its own module. Help and unknown commands need them all.
  const modulePaths =
    name !== undefined && Object.hasOwn(COMMAND_MODULES, name)
      ? [COMMAND_MODULES[name]]
      : Object.values(COMMAND_MODULES);
  for (const modulePath of modulePaths) cli.command(loadCommand(modulePath));

  try {
    await cli.parseAsync();
  } catch (error) {
    reportAndExit(error);
  }
}

/** Returns the `command` export of a command module, given relative to this file. */
export function loadCommand(modulePath: string): CommandModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(modulePath) as { command: CommandModule }).command;
}

/** Prints a user error as one line, or an unexpected error with its stack, and exits. */
export function reportAndExit(error: unknown): never {
  if (error instanceof UserError) {
    process.stderr.write(`fashion-gan: ${error.message}\n`);
    process.exit(error.exitCode);
  }
  process.stderr.write(`fashion-gan: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(70);
}
