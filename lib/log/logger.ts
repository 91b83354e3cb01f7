/**
 * Structured log lines that a cluster operator can grep: `stage=train level=info msg="..."
 * key=value ...`, one event per line on standard error, so that standard output stays free for
 * a command's own output (YAML from --dry-run, tables).
 */
export type Fields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  readonly stage: string;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
}

/** Destination of every log line. Tests replace it to capture output. */
export let writeLine: (line: string) => void = (line) => process.stderr.write(`${line}\n`);

/** Replaces the output of every logger and returns the previous one. */
export function setLogOutput(output: (line: string) => void): (line: string) => void {
  const previous = writeLine;
  writeLine = output;
  return previous;
}

export function createLogger(stage: string): Logger {
  const emit = (level: string, message: string, fields?: Fields) =>
    writeLine(formatLine({ stage, level, msg: message, ...fields }));
  return {
    stage,
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
  };
}

/** Formats fields as `key=value` pairs, quoting values that contain spaces or quotes. */
export function formatLine(fields: Fields): string {
  return Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${formatValue(value as string | number | boolean)}`)
    .join(' ');
}

function formatValue(value: string | number | boolean): string {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return String(value);
    return Math.abs(value) >= 100 ? value.toFixed(1) : value.toPrecision(4);
  }
  const text = String(value);
  return /[\s"=]/.test(text) || text === '' ? JSON.stringify(text) : text;
}
