import { spawnSync } from 'child_process';
import * as path from 'path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stderr without libtensorflow's start-up lines, which it prints whatever the log level. */
  errorLines: string[];
}

/** Runs `fashion-gan ARGS` in a child process, as a user would, and captures its output. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): CliResult {
  const result = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'fashion-gan.js'), ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, CI: 'true', ...options.env },
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 120_000,
  });
  const errorLines = (result.stderr ?? '')
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^(WARNING: All log messages|I0000|W0000)/.test(line));
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '', errorLines };
}
