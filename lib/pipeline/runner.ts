import * as path from 'path';

import { UserError } from '../errors';
import { openStore } from '../storage/open';
import { ArtifactStore, checkKey, joinKey } from '../storage/store';
import { CacheEntry, cacheKey, codeVersion, lookupCache, outputsFingerprint, recordCache } from './cache';
import { downstreamOf } from './graph';
import { renderEnv } from './placeholders';
import { runStageProcess } from './process';
import { RunRecord, RunRecordWriter, newRunId, runRecordKey, stageLogKey } from './record';
import { contextOf, formatSeconds, label, newRecord, render, secondsSince } from './run-setup';
import { PipelineSpec, StageSpec, loadPipeline, resolveParameters } from './spec';

/** Store used when no --store is given. */
export const DEFAULT_STORE = 'file://./artifacts';

/** Seconds between uploads of a running stage's log, so a long stage's log can be followed. */
const LOG_FLUSH_SECONDS = 30;

export interface RunOptions {
  pipelineFile: string;
  /** Store URL; `file://./artifacts` when absent. */
  store?: string;
  profile?: string;
  /** `stage.parameter=value` overrides. */
  sets?: string[];
  runId?: string;
  /**
   * Continue the existing run `runId`: stages that succeeded are reused from the cache, and
   * the others run again under the same output prefixes, so train resumes from its checkpoint.
   */
  resume?: boolean;
  /** Set by the caller when the user interrupted the run; no stage is retried or started then. */
  interruption?: { requested: boolean };
  /** Run every selected stage even when its cache entry is valid. */
  noCache?: boolean;
  /** Run only this stage; the stages it needs must be cached. */
  only?: string;
  /** Rerun this stage and every stage after it, using the cache before it. */
  from?: string;
  /** Print the resolved command lines and cache states without running anything. */
  dryRun?: boolean;
  /** Receives the runner's own lines: one per stage event and the summary. Default stdout. */
  output?: (line: string) => void;
  /** Receives stage output lines prefixed with the stage name; undefined keeps them quiet. */
  stageOutput?: (line: string) => void;
  /** Programs for a command's first word; `fashion-gan` runs bin/fashion-gan.js with node. */
  programs?: Record<string, string[]>;
}

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'fashion-gan.js');

/**
 * Runs a pipeline on this machine: each stage in dependency order as a separate process with its
 * container's command line, skipping stages whose cache entry is valid. A failed stage stops the
 * run and its dependants are skipped. Returns the run record, also stored at
 * `runs/<run-id>/run.json`. Throws a `UserError` for invalid files, options or parameters before
 * any stage starts.
 */
export async function runPipeline(options: RunOptions): Promise<RunRecord> {
  const output = options.output ?? ((line: string) => process.stdout.write(`${line}\n`));
  const spec = await loadPipeline(options.pipelineFile);
  const parameters = resolveParameters(spec, {
    target: 'local',
    profile: options.profile,
    sets: options.sets,
  });
  checkSelection(spec, options);

  const runId = options.runId ?? newRunId();
  checkKey(runId, 'run id');
  const store = openStore(options.store ?? DEFAULT_STORE);
  try {
    const exists = await store.exists(runRecordKey(runId));
    if (options.resume && !exists) {
      throw new UserError(`run ${runId} not found in ${store.url}: nothing to resume`);
    }
    if (!options.dryRun && !options.resume && exists) {
      throw new UserError(`run ${runId} already exists in ${store.url}: pass another --run-id`);
    }
    const record = newRecord(spec, runId, options, store, parameters);
    // Render every stage before any runs, so a missing parameter fails fast.
    for (const stage of spec.stages) record.stages[stage.name].commandLine = render(stage, record);

    const runner = new Runner(spec, store, record, options, output);
    return await runner.run();
  } finally {
    await store.close();
  }
}

function checkSelection(spec: PipelineSpec, options: RunOptions): void {
  const names = spec.stages.map((stage) => stage.name);
  for (const [flag, value] of [
    ['--only', options.only],
    ['--from', options.from],
  ] as const) {
    if (value !== undefined && !names.includes(value)) {
      throw new UserError(`${flag} ${value}: unknown stage (stages: ${names.join(', ')})`);
    }
  }
  if (options.only !== undefined && options.from !== undefined) {
    throw new UserError('--only and --from cannot be combined: pass one of them');
  }
}

class Runner {
  private readonly writer: RunRecordWriter;
  private readonly forced: Set<string>;

  constructor(
    private readonly spec: PipelineSpec,
    private readonly store: ArtifactStore,
    private readonly record: RunRecord,
    private readonly options: RunOptions,
    private readonly output: (line: string) => void,
  ) {
    this.writer = new RunRecordWriter(store, record);
    const all = spec.stages.map((stage) => stage.name);
    if (options.noCache) this.forced = new Set(all);
    else if (options.only) this.forced = new Set([options.only]);
    else if (options.from)
      this.forced = new Set([options.from, ...downstreamOf(spec.stages, options.from)]);
    else this.forced = new Set();
  }

  async run(): Promise<RunRecord> {
    const { record, spec } = this;
    const mode = this.options.dryRun ? ' (dry run)' : '';
    this.output(
      `pipeline ${spec.name} run=${record.runId} profile=${record.profile} ` +
        `store=${record.store}${mode}`,
    );
    if (!this.options.dryRun) await this.writer.save();

    for (const stage of spec.stages) {
      await this.runStage(stage);
      if (!this.options.dryRun) await this.writer.save();
    }

    const failed = Object.values(record.stages).some((stage) => stage.state === 'failed');
    record.state = failed ? 'failed' : 'succeeded';
    record.finishedAt = new Date().toISOString();
    record.durationSeconds = secondsSince(record.startedAt);
    for (const [name, ref] of Object.entries(spec.outputs)) {
      const stage = record.stages[ref.stage];
      if (stage.state === 'cached' || stage.state === 'succeeded') {
        record.outputs[name] = stage.outputs[ref.artifact];
      }
    }
    if (!this.options.dryRun) await this.writer.save();
    await this.summarize();
    return record;
  }

  private async runStage(stage: StageSpec): Promise<void> {
    const entry = this.record.stages[stage.name];
    const blocker = stage.dependencies.find((name) =>
      ['failed', 'skipped'].includes(this.record.stages[name].state),
    );
    if (blocker !== undefined) {
      return this.finish(stage, 'skipped', `${blocker} ${this.record.stages[blocker].state}`);
    }
    if (this.options.only !== undefined && this.options.only !== stage.name) {
      if (!downstreamOf(this.spec.stages, stage.name).has(this.options.only)) {
        return this.finish(stage, 'skipped', `not selected by --only ${this.options.only}`);
      }
    }

    entry.cacheKey = await this.cacheKeyOf(stage);
    const cached = this.forced.has(stage.name)
      ? undefined
      : await lookupCache(this.store, stage.name, entry.cacheKey);
    if (cached) return this.reuse(stage, cached);
    if (this.options.only !== undefined && this.options.only !== stage.name) {
      const reason = `no valid cache entry, which --only ${this.options.only} needs: run without --only`;
      return this.finish(stage, 'failed', reason);
    }

    entry.commandLine = render(stage, this.record);
    if (this.options.dryRun) {
      this.output(`${label(stage.name)} would run: ${entry.commandLine.join(' ')}`);
      return;
    }
    await this.execute(stage);
  }

  private async cacheKeyOf(stage: StageSpec): Promise<string> {
    const inputs = Object.fromEntries(
      Object.entries(stage.inputs.artifacts).map(([name, ref]) => {
        const producer = this.record.stages[ref.stage];
        return [name, `${producer.cacheKey}:${ref.artifact}`];
      }),
    );
    const version = await codeVersion(path.dirname(this.spec.file), stage.code);
    return cacheKey({
      stage,
      parameters: this.record.parameters[stage.name],
      inputs,
      codeVersion: version,
    });
  }

  private reuse(stage: StageSpec, cached: CacheEntry): void {
    const entry = this.record.stages[stage.name];
    entry.state = 'cached';
    entry.outputs = cached.outputs;
    entry.cachedFrom = cached.runId;
    entry.commandLine = render(stage, this.record);
    this.output(`${label(stage.name)} cached (outputs of run ${cached.runId})`);
  }

  private async execute(stage: StageSpec): Promise<void> {
    const entry = this.record.stages[stage.name];
    const context = contextOf(stage, this.record);
    const argv = this.programFor(entry.commandLine);
    const env = {
      ...process.env,
      ...renderEnv(stage, context),
      FASHION_GAN_RUN_ID: this.record.runId,
    };
    entry.log = stageLogKey(this.record.runId, stage.name);
    entry.startedAt = new Date().toISOString();
    entry.state = 'running';
    await this.writer.save();

    const log: string[] = [];
    const flush = () => this.store.put(entry.log!, log.length ? `${log.join('\n')}\n` : '');
    const flushTimer = setInterval(
      () => void flush().catch(() => undefined),
      LOG_FLUSH_SECONDS * 1000,
    );
    const maxAttempts = stage.retries + 1;
    try {
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        entry.attempts = attempt;
        const attemptText = attempt > 1 ? ` (attempt ${attempt}/${maxAttempts})` : '';
        this.output(`${label(stage.name)} started${attemptText}`);
        log.push(`# ${new Date().toISOString()} ${argv.join(' ')}${attemptText}`);

        const result = await runStageProcess({
          argv,
          env,
          cwd: process.cwd(),
          timeoutSeconds: stage.timeoutSeconds,
          onLine: (line) => {
            log.push(line);
            this.options.stageOutput?.(`[${stage.name}] ${line}`);
          },
        });
        entry.exitCode = result.exitCode;
        if (result.ok) {
          await flush();
          await this.succeed(stage);
          return;
        }
        entry.reason = result.reason;
        if (this.options.interruption?.requested) {
          entry.reason = 'interrupted';
          break;
        }
        // Exit codes 1 and 2 are the command line's own verdicts on its input (bad files,
        // options, missing artifacts) and would fail the same way again. Retries are for
        // crashes and kills, such as a preempted or out-of-memory stage, and for exit code 75,
        // a store still unreachable after its own retries.
        if (result.exitCode === 1 || result.exitCode === 2) break;
        if (attempt < maxAttempts)
          this.output(`${label(stage.name)} retrying after: ${result.reason}`);
      }
      await flush();
      this.finish(stage, 'failed', entry.reason ?? 'failed');
    } finally {
      clearInterval(flushTimer);
    }
  }

  private async succeed(stage: StageSpec): Promise<void> {
    const entry = this.record.stages[stage.name];
    entry.durationSeconds = secondsSince(entry.startedAt!);
    entry.reason = undefined;
    // A stage that wrote elsewhere leaves an output empty, and no cache entry may point at it.
    const missing: string[] = [];
    for (const [name, prefix] of Object.entries(entry.outputs)) {
      if ((await this.store.list(`${prefix}/`)).length === 0) missing.push(`${name} (${prefix}/)`);
    }
    if (missing.length > 0) {
      return this.finish(
        stage,
        'failed',
        `exited 0 but wrote no objects for ${missing.join(', ')}`,
      );
    }
    await recordCache(this.store, {
      format: 'fashion-gan-cache/1',
      stage: stage.name,
      key: entry.cacheKey!,
      runId: this.record.runId,
      outputs: entry.outputs,
      fingerprint: await outputsFingerprint(this.store, entry.outputs),
      createdAt: new Date().toISOString(),
      durationSeconds: entry.durationSeconds,
    });
    entry.state = 'succeeded';
    this.output(`${label(stage.name)} done in ${formatSeconds(entry.durationSeconds)}`);
  }

  private finish(stage: StageSpec, state: 'failed' | 'skipped', reason: string): void {
    const entry = this.record.stages[stage.name];
    entry.state = state;
    entry.reason = reason;
    if (entry.startedAt) entry.durationSeconds = secondsSince(entry.startedAt);
    const after =
      entry.durationSeconds !== undefined ? ` after ${formatSeconds(entry.durationSeconds)}` : '';
    this.output(`${label(stage.name)} ${state}${state === 'failed' ? after : ''}: ${reason}`);
  }

  private programFor(commandLine: string[]): string[] {
    const programs: Record<string, string[]> = {
      'fashion-gan': [process.execPath, BIN],
      node: [process.execPath],
      ...this.options.programs,
    };
    const [first, ...rest] = commandLine;
    return [...(programs[first] ?? [first]), ...rest];
  }

  private async summarize(): Promise<void> {
    const { record } = this;
    const counts = new Map<string, number>();
    for (const stage of Object.values(record.stages)) {
      counts.set(stage.state, (counts.get(stage.state) ?? 0) + 1);
    }
    const tally = [...counts].map(([state, count]) => `${count} ${state}`).join(', ');
    if (this.options.dryRun) {
      this.output(`dry run ${record.runId}: nothing ran (${tally})`);
      return;
    }
    this.output(
      `run ${record.runId} ${record.state} in ${formatSeconds(record.durationSeconds ?? 0)}: ` +
        `${tally}; record ${record.store}/${runRecordKey(record.runId)}`,
    );
    for (const [name, prefix] of Object.entries(record.outputs)) {
      const index = joinKey(prefix, 'index.html');
      const location = (await this.store.exists(index)) ? index : `${prefix}/`;
      this.output(`${name}: ${record.store}/${location}`);
    }
  }
}
