/**
 * An error meant for the person running the command: its message is one line that names the
 * file, key or option and the problem. The command line prints it without a stack trace and
 * exits with `exitCode`.
 */
/**
 * Exit code of a command that failed for a reason that may pass, such as a store that stayed
 * unreachable through its own retries: EX_TEMPFAIL of sysexits.h. The pipeline retries it.
 */
export const EXIT_TEMPORARY_FAILURE = 75;

export class UserError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}
