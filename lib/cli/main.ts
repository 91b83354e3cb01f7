import yargs, { CommandModule } from 'yargs';

import { UserError } from '../errors';

/**
 * Command modules of the `fashion-gan` command line. Each exports `command`, a yargs
 * CommandModule, and loads libtensorflow only inside its handler so that `--help` stays fast.
 */
const COMMAND_MODULES: string[] = [
  '../../stages/prepare/command',
  '../../stages/train/command',
  '../pipeline/command',
  '../../stages/publish/command',
  '../../stages/publish/line-command',
  '../../stages/publish/gallery-command',
  '../../stages/evaluate/command',
  '../cluster/commands/submit',
  '../cluster/commands/runs',
];

/** Runs the command line with the given arguments (without `node` and the script). */
export async function main(argv: string[]): Promise<void> {
  const cli = yargs(argv)
    .scriptName('fashion-gan')
    .usage('$0 <command> [options]')
    .strict()
    .demandCommand(1, 'name a command; see --help')
    .recommendCommands()
    .check((args) => {
      // yargs turns a number option given as text into NaN, which later checks would echo.
      for (const [name, value] of Object.entries(args)) {
        // yargs also lists each option under its camelCase alias; report the dashed name.
        const camelCase = /[A-Z]/.test(name);
        if (typeof value === 'number' && Number.isNaN(value) && !camelCase) {
          throw new Error(`--${name} must be a number`);
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
      if (message.startsWith('Did you mean')) {
        const name = argv.find((arg) => !arg.startsWith('-'));
        message = `unknown command '${name}'. ${message}`;
      }
      process.stderr.write(`fashion-gan: ${message}\n(run with --help for usage)\n`);
      process.exit(2);
    });

  for (const modulePath of COMMAND_MODULES) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { command } = require(modulePath) as { command: CommandModule };
    cli.command(command);
  }

  try {
    await cli.parseAsync();
  } catch (error) {
    reportAndExit(error);
  }
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
