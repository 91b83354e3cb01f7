import { spawn } from 'child_process';
import { createInterface } from 'readline';

/** Seconds between SIGTERM and SIGKILL when a stage outlives its timeout. */
const KILL_GRACE_SECONDS = 10;

/** Maximum length of a failure reason taken from a stage's standard error, in characters. */
const MAX_REASON_LENGTH = 400;

export interface StageProcessOptions {
  argv: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  timeoutSeconds: number;
  /** Receives every output line, tagged with the stream it came from. */
  onLine: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface StageProcessResult {
  ok: boolean;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Why the stage failed: its last error line on standard error, or how it exited. */
  reason?: string;
}

/**
 * Runs one stage as a child process and waits for it. Kills it (SIGTERM, then SIGKILL after
 * 10 s) when it runs longer than `timeoutSeconds`.
 */
export function runStageProcess(options: StageProcessOptions): Promise<StageProcessResult> {
  return new Promise((resolve) => {
    const child = spawn(options.argv[0], options.argv.slice(1), {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stderrLines: string[] = [];
    let timedOut = false;
    let spawnError: Error | undefined;

    createInterface({ input: child.stdout }).on('line', (line) => options.onLine(line, 'stdout'));
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderrLines.push(line);
      if (stderrLines.length > 200) stderrLines.shift();
      options.onLine(line, 'stderr');
    });

    let killTimer: NodeJS.Timeout | undefined;
    const timeout = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_SECONDS * 1000);
    }, options.timeoutSeconds * 1000);

    child.on('error', (error) => {
      spawnError = error;
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timeout);
      if (killTimer) clearTimeout(killTimer);
      const ok = exitCode === 0 && !timedOut && spawnError === undefined;
      let reason: string | undefined;
      if (spawnError) reason = `cannot start ${options.argv[0]}: ${spawnError.message}`;
      else if (timedOut) reason = `timed out after ${options.timeoutSeconds} s (timeoutSeconds)`;
      else if (!ok) reason = lastErrorLine(stderrLines) ?? exitDescription(exitCode, signal);
      resolve({ ok, exitCode, signal, timedOut, reason });
    });
  });
}

/**
 * Picks the line that explains a failure: the last standard error line that reports an error
 * (the CLI's `fashion-gan: ...` line, a `level=error` log line, an `Error:` of a stack trace),
 * otherwise the last non-empty line.
 */
export function lastErrorLine(lines: string[]): string | undefined {
  const nonEmpty = lines.map((line) => line.trim()).filter((line) => line !== '');
  const errorLine = [...nonEmpty]
    .reverse()
    .find(
      (line) =>
        /^fashion-gan: |level=error|\b\w*Error\b|\berror\b/i.test(line) && !/^at /.test(line),
    );
  const chosen = errorLine ?? nonEmpty[nonEmpty.length - 1];
  if (chosen === undefined) return undefined;
  return chosen.length > MAX_REASON_LENGTH ? `${chosen.slice(0, MAX_REASON_LENGTH)}...` : chosen;
}

function exitDescription(exitCode: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exited with code ${exitCode}`;
}
