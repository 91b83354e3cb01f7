import { promises as fs } from 'fs';
import * as path from 'path';

import * as yaml from 'js-yaml';

import { UserError } from '../errors';
import { orderStages } from './graph';
import {
  PipelineError,
  checkParameterValue,
  closestName,
  describeValue,
  parseParameterText,
  validatePipeline,
} from './validate';

/** Parameter types of pipeline.yaml, as in Kubeflow component inputs. */
export type ParameterType = 'string' | 'integer' | 'number' | 'boolean';

/** A parameter value; null means "not set", which drops the `if` arguments that test it. */
export type ParameterValue = string | number | boolean | null;

export interface ParameterSpec {
  type: ParameterType;
  /** The value when nothing overrides it; absent (`required`) means a profile or --set must. */
  default: ParameterValue;
  required: boolean;
  description?: string;
  enum?: ParameterValue[];
  minimum?: number;
  maximum?: number;
  /** What to tell the user when the command line needs the parameter and it is null. */
  unsetMessage?: string;
}

/** A reference `stage.artifact` to another stage's output. */
export interface ArtifactRef {
  stage: string;
  artifact: string;
}

export interface ArtifactOutputSpec {
  /** Store key prefix template, such as `runs/{{run.id}}/train`. */
  prefix: string;
  description?: string;
}

/** Arguments added only when parameter `if` is set (not null, false or ''), else `else`. */
export interface ConditionalArgs {
  if: string;
  then: string[];
  else: string[];
}

export type ArgSpec = string | ConditionalArgs;

export interface Toleration {
  key: string;
  operator: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface StageSpec {
  name: string;
  description?: string;
  inputs: {
    parameters: Record<string, ParameterSpec>;
    artifacts: Record<string, ArtifactRef>;
  };
  outputs: { artifacts: Record<string, ArtifactOutputSpec> };
  container: {
    image: string;
    /** Program and leading words, such as ['fashion-gan', 'train']; may hold placeholders. */
    command: string[];
    args: ArgSpec[];
    env: Record<string, string>;
  };
  /** Kubernetes quantities: cpu in cores or millicores ('500m'), memory such as '8Gi'. */
  resources: { cpu: string; memory: string; gpu: number };
  nodeSelector: Record<string, string>;
  tolerations: Toleration[];
  /** Stages named with `after:`, ordering without data. */
  after: string[];
  /** Every stage this one waits for: producers of its artifact inputs plus `after`, sorted. */
  dependencies: string[];
  /** Paths (files or folders ending in '/') whose contents make up the stage's code version. */
  code: string[];
  retries: number;
  timeoutSeconds: number;
}

export interface ProfileSpec {
  description?: string;
  set: Overrides;
}

/** Parameter values keyed `stage.parameter`. */
export type Overrides = Record<string, ParameterValue>;

export interface PipelineSpec {
  /** Absolute path of the file the pipeline was loaded from. */
  file: string;
  name: string;
  description?: string;
  /** Stages in dependency order; ties keep the order of the file. */
  stages: StageSpec[];
  /** Named results, such as `gallery`, printed at the end of a run. */
  outputs: Record<string, ArtifactRef>;
  profiles: Record<string, ProfileSpec>;
  targets: Record<string, Overrides>;
}

/** Parameter values of every stage: stage name -> parameter name -> value. */
export type ResolvedParameters = Record<string, Record<string, ParameterValue>>;

export const DEFAULT_RESOURCES = { cpu: '1', memory: '1Gi', gpu: 0 };
export const DEFAULT_RETRIES = 0;
export const DEFAULT_TIMEOUT_SECONDS = 3600;

/**
 * Reads, validates and models a pipeline file. Throws a `UserError` whose message has one line
 * per problem: `FILE: PATH: what is wrong and what is expected`.
 */
export async function loadPipeline(file: string): Promise<PipelineSpec> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new UserError(`${file}: cannot read the pipeline file: ${(error as Error).message}`);
  }
  return parsePipeline(text, file);
}

/** Validates and models pipeline YAML text; `file` names it in messages. */
export function parsePipeline(text: string, file: string): PipelineSpec {
  let document: unknown;
  try {
    document = yaml.load(text, { filename: file });
  } catch (error) {
    const reason = error instanceof yaml.YAMLException ? error.reason : (error as Error).message;
    const line = error instanceof yaml.YAMLException ? `line ${error.mark.line + 1}: ` : '';
    throw new UserError(`${file}: ${line}invalid YAML: ${reason}`);
  }

  const problems = validatePipeline(document);
  if (problems.length > 0) throw pipelineError(file, problems);
  return buildSpec(document as RawPipeline, path.resolve(file));
}

function pipelineError(file: string, problems: PipelineError[]): UserError {
  return new UserError(
    problems.map((problem) => `${file}: ${problem.path}: ${problem.message}`).join('\n'),
  );
}

/** The document as the schema allows it. */
export interface RawPipeline {
  name: string;
  description?: string;
  code?: string[];
  outputs?: Record<string, string>;
  stages: Record<string, RawStage>;
  targets?: Record<string, Overrides>;
  profiles?: Record<string, { description?: string; set?: Overrides }>;
}

export interface RawStage {
  description?: string;
  inputs?: {
    parameters?: Record<string, Omit<ParameterSpec, 'required'> & { default?: ParameterValue }>;
    artifacts?: Record<string, { from: string }>;
  };
  outputs?: { artifacts?: Record<string, ArtifactOutputSpec> };
  container: {
    image: string;
    command: string[];
    args?: (string | Partial<ConditionalArgs>)[];
    env?: Record<string, string>;
  };
  resources?: { cpu?: number | string; memory?: string; gpu?: number };
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  after?: string[];
  code?: string[];
  retries?: number;
  timeoutSeconds?: number;
}

/** Splits `stage.name` into its two parts. */
export function splitRef(ref: string): ArtifactRef {
  const dot = ref.indexOf('.');
  return { stage: ref.slice(0, dot), artifact: ref.slice(dot + 1) };
}

function buildSpec(raw: RawPipeline, file: string): PipelineSpec {
  const sharedCode = raw.code ?? [];
  const stages = Object.entries(raw.stages).map(([name, stage]) =>
    buildStage(name, stage, sharedCode),
  );
  const outputs = Object.fromEntries(
    Object.entries(raw.outputs ?? {}).map(([name, ref]) => [name, splitRef(ref)]),
  );
  const profiles = Object.fromEntries(
    Object.entries(raw.profiles ?? {}).map(([name, profile]) => [
      name,
      { description: profile.description, set: profile.set ?? {} },
    ]),
  );
  return {
    file,
    name: raw.name,
    description: raw.description,
    stages: orderStages(stages),
    outputs,
    profiles,
    targets: raw.targets ?? {},
  };
}

function buildStage(name: string, raw: RawStage, sharedCode: string[]): StageSpec {
  const parameters: Record<string, ParameterSpec> = {};
  for (const [parameterName, parameter] of Object.entries(raw.inputs?.parameters ?? {})) {
    const required = !('default' in parameter);
    parameters[parameterName] = { ...parameter, default: parameter.default ?? null, required };
  }
  const artifacts = Object.fromEntries(
    Object.entries(raw.inputs?.artifacts ?? {}).map(([input, ref]) => [input, splitRef(ref.from)]),
  );
  const after = raw.after ?? [];
  const producers = Object.values(artifacts).map((ref) => ref.stage);

  return {
    name,
    description: raw.description,
    inputs: { parameters, artifacts },
    outputs: { artifacts: raw.outputs?.artifacts ?? {} },
    container: {
      image: raw.container.image,
      command: raw.container.command,
      args: (raw.container.args ?? []).map((arg) =>
        typeof arg === 'string' ? arg : { if: arg.if!, then: arg.then ?? [], else: arg.else ?? [] },
      ),
      env: raw.container.env ?? {},
    },
    resources: {
      cpu: String(raw.resources?.cpu ?? DEFAULT_RESOURCES.cpu),
      memory: raw.resources?.memory ?? DEFAULT_RESOURCES.memory,
      gpu: raw.resources?.gpu ?? DEFAULT_RESOURCES.gpu,
    },
    nodeSelector: raw.nodeSelector ?? {},
    tolerations: raw.tolerations ?? [],
    after,
    dependencies: [...new Set([...producers, ...after])].sort(),
    code: [...sharedCode, ...(raw.code ?? [`stages/${name}/`])],
    retries: raw.retries ?? DEFAULT_RETRIES,
    timeoutSeconds: raw.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
  };
}

export interface ResolveOptions {
  /** Where the pipeline runs: `local` or `kubernetes`; its `targets` entry applies first. */
  target?: string;
  /** Profile name; `default` when absent. */
  profile?: string;
  /** `--set` texts, `stage.parameter=value`, applied last. */
  sets?: string[];
}

/**
 * Resolves every parameter: defaults, then the target's values, then the profile's, then each
 * `--set`. Throws a `UserError` for an unknown profile, stage or parameter, a value of the wrong
 * type, or a required parameter left without a value.
 */
export function resolveParameters(
  spec: PipelineSpec,
  options: ResolveOptions = {},
): ResolvedParameters {
  const values: ResolvedParameters = {};
  for (const stage of spec.stages) {
    values[stage.name] = Object.fromEntries(
      Object.entries(stage.inputs.parameters).map(([name, parameter]) => [name, parameter.default]),
    );
  }

  if (options.target !== undefined) applyOverrides(values, spec.targets[options.target] ?? {});

  const profileName = options.profile ?? 'default';
  const profile = spec.profiles[profileName];
  if (profile === undefined && profileName !== 'default') {
    const known = Object.keys(spec.profiles);
    const hint = closestName(profileName, known);
    throw new UserError(
      `--profile ${profileName}: unknown profile${hint ? `, did you mean '${hint}'?` : ''} ` +
        `(${path.basename(spec.file)} defines ${known.join(', ') || 'none'})`,
    );
  }
  if (profile !== undefined) applyOverrides(values, profile.set);

  for (const text of options.sets ?? []) {
    const setting = parseSet(spec, text);
    values[setting.stage][setting.parameter] = setting.value;
  }

  for (const stage of spec.stages) {
    for (const [name, parameter] of Object.entries(stage.inputs.parameters)) {
      if (parameter.required && values[stage.name][name] === null) {
        const key = `${stage.name}.${name}`;
        throw new UserError(`parameter ${key} has no value: set it with --set ${key}=VALUE`);
      }
    }
  }
  return values;
}

function applyOverrides(values: ResolvedParameters, overrides: Overrides): void {
  // validate.ts has checked names and types of the file's own overrides.
  for (const [key, value] of Object.entries(overrides)) {
    const ref = splitRef(key);
    if (values[ref.stage] !== undefined) values[ref.stage][ref.artifact] = value;
  }
}

/** One parameter override parsed from `--set STAGE.PARAMETER=VALUE`. */
export interface ParameterSetting {
  stage: string;
  parameter: string;
  value: ParameterValue;
}

/** Parses and type-checks one `--set stage.parameter=value`. */
export function parseSet(spec: PipelineSpec, text: string): ParameterSetting {
  const equals = text.indexOf('=');
  const key = equals < 0 ? text : text.slice(0, equals);
  if (equals < 0 || !key.includes('.')) {
    throw new UserError(`--set ${text}: expected STAGE.PARAMETER=VALUE, such as train.epochs=3`);
  }

  const ref = splitRef(key);
  const stage = spec.stages.find((candidate) => candidate.name === ref.stage);
  if (stage === undefined) {
    const hint = closestName(
      ref.stage,
      spec.stages.map((candidate) => candidate.name),
    );
    throw new UserError(
      `--set ${text}: unknown stage '${ref.stage}'${hint ? `, did you mean '${hint}'?` : ''}`,
    );
  }

  const parameter = stage.inputs.parameters[ref.artifact];
  if (parameter === undefined) {
    const names = Object.keys(stage.inputs.parameters);
    const hint = closestName(ref.artifact, names);
    throw new UserError(
      `--set ${text}: stage ${stage.name} has no parameter '${ref.artifact}'` +
        (hint ? `, did you mean '${hint}'?` : ` (parameters: ${names.join(', ') || 'none'})`),
    );
  }

  const value = parseParameterText(parameter, text.slice(equals + 1));
  const expected = checkParameterValue(parameter, value);
  if (expected !== undefined) {
    throw new UserError(
      `--set ${text}: parameter ${key} expects ${expected}, got ${describeValue(value)}`,
    );
  }
  return { stage: stage.name, parameter: ref.artifact, value };
}
