import { SingleBar } from 'cli-progress';

import { Fields, Logger, formatLine, writeLine } from './logger';

export interface Progress {
  /** Records that `done` of `total` units are finished, with fields such as losses. */
  update(done: number, fields?: Fields): void;
  /** Ends the bar, or writes a last log line. */
  stop(fields?: Fields): void;
}

export interface ProgressOptions {
  total: number;
  /** Name of the unit counted, such as `step` or `image`. */
  unit: string;
  /** Seconds between log lines when the output is not a terminal. */
  logIntervalSeconds?: number;
  /** Draw a bar even when standard error is not a terminal; for tests. */
  forceBar?: boolean;
}

/**
 * Shows the progress of a long step: a bar with rate and ETA on a terminal, and one plain
 * `key=value` line per interval elsewhere (cluster logs, files, pipes).
 */
export function startProgress(logger: Logger, options: ProgressOptions): Progress {
  const interactive = options.forceBar ?? (process.stderr.isTTY === true && !process.env.CI);
  return interactive ? barProgress(options) : lineProgress(logger, options);
}

function barProgress(options: ProgressOptions): Progress {
  const bar = new SingleBar({
    format: `{bar} {value}/{total} ${options.unit}s | {rate}/s | ETA {eta_formatted} | {details}`,
    stream: process.stderr,
    hideCursor: true,
    etaBuffer: 50,
  });
  const started = Date.now();
  let lastDone = 0;
  const rate = () => (lastDone / Math.max(1e-3, (Date.now() - started) / 1000)).toFixed(1);
  bar.start(options.total, 0, { rate: '0', details: '' });
  return {
    update(done, fields) {
      lastDone = done;
      bar.update(done, { rate: rate(), details: fields ? formatLine(fields) : '' });
    },
    stop(fields) {
      bar.update(lastDone, { rate: rate(), details: fields ? formatLine(fields) : '' });
      bar.stop();
    },
  };
}

function lineProgress(logger: Logger, options: ProgressOptions): Progress {
  const intervalMs = (options.logIntervalSeconds ?? 10) * 1000;
  const started = Date.now();
  let lastLog = started;
  let lastDone = 0;

  const line = (done: number, fields?: Fields) => {
    const elapsed = (Date.now() - started) / 1000;
    const rate = done / Math.max(elapsed, 1e-3);
    const remaining = rate > 0 ? (options.total - done) / rate : 0;
    writeLine(
      formatLine({
        stage: logger.stage,
        level: 'info',
        msg: 'progress',
        [options.unit]: `${done}/${options.total}`,
        [`${options.unit}_per_s`]: Number(rate.toFixed(2)),
        eta_s: Math.round(remaining),
        ...fields,
      }),
    );
  };

  return {
    update(done, fields) {
      lastDone = done;
      if (Date.now() - lastLog >= intervalMs) {
        lastLog = Date.now();
        line(done, fields);
      }
    },
    stop(fields) {
      line(lastDone, fields);
    },
  };
}
