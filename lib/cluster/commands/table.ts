import { RunStatus } from '../runs';

/** Formats runs as a table: run id, engine, phase, age, then `stage=state` for each stage. */
export function formatRunTable(runs: RunStatus[], now = new Date()): string {
  const rows = runs.map((run) => [
    run.runId,
    run.engine,
    run.phase,
    run.created ? formatAge(now.getTime() - run.created.getTime()) : '-',
    run.stages.map((stage) => `${stage.name}=${stage.state}`).join(' '),
  ]);
  const header = ['RUN', 'ENGINE', 'PHASE', 'AGE', 'STAGES'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const format = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd();
  return [format(header), ...rows.map(format)].join('\n') + '\n';
}

function formatAge(milliseconds: number): string {
  const seconds = Math.max(0, Math.round(milliseconds / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}
