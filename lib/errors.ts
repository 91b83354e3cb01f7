/**
 * An error meant for the person running the command: its message is one line that names the
 * file, key or option and the problem. The command line prints it without a stack trace and
 * exits with `exitCode`.
 */
export class UserError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}
