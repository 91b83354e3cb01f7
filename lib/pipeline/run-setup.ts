import * as path from 'path';

import { ArtifactStore } from '../storage/store';
import { PlaceholderContext, renderCommandLine, renderOutputs } from './placeholders';
import { RunRecord, StageRecord } from './record';
import type { RunOptions } from './runner';
import { PipelineSpec, StageSpec } from './spec';

/** Building blocks of a run record and the runner's lines. */

/** Creates the record of a run that has not started, with every stage pending. */
export function newRecord(
  spec: PipelineSpec,
  runId: string,
  options: RunOptions,
  store: ArtifactStore,
  parameters: RunRecord['parameters'],
): RunRecord {
  const stages: Record<string, StageRecord> = {};
  for (const stage of spec.stages) {
    const context = { runId, store: store.url, pipelineDir: path.dirname(spec.file) };
    const outputs = renderOutputs(stage, { ...context, parameters: parameters[stage.name] });
    stages[stage.name] = { state: 'pending', commandLine: [], outputs, attempts: 0 };
  }
  return {
    format: 'fashion-gan-run/1',
    runId,
    pipeline: spec.name,
    pipelineFile: spec.file,
    profile: options.profile ?? 'default',
    store: store.url,
    state: 'running',
    startedAt: new Date().toISOString(),
    parameters,
    stages,
    outputs: {},
  };
}

/** Fills a stage's command line with this run's values and its producers' output prefixes. */
export function render(stage: StageSpec, record: RunRecord): string[] {
  return renderCommandLine(stage, contextOf(stage, record));
}

/** Returns the placeholder values of a stage in a run. */
export function contextOf(stage: StageSpec, record: RunRecord): PlaceholderContext {
  const inputs = Object.fromEntries(
    Object.entries(stage.inputs.artifacts).map(([name, ref]) => [
      name,
      record.stages[ref.stage].outputs[ref.artifact],
    ]),
  );
  return {
    runId: record.runId,
    store: record.store,
    pipelineDir: path.dirname(record.pipelineFile),
    parameters: record.parameters[stage.name],
    inputs,
    outputs: record.stages[stage.name].outputs,
  };
}

/** Pads a stage name so that the runner's lines align. */
export function label(stage: string): string {
  return stage.padEnd(9);
}

/** Returns the seconds since an ISO time, to 0.1 s. */
export function secondsSince(iso: string): number {
  return Math.round((Date.now() - Date.parse(iso)) / 100) / 10;
}

/** Formats a duration as `12.3 s` or `4 min 5 s`. */
export function formatSeconds(seconds: number): string {
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}
