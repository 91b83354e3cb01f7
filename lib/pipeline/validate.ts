import Ajv from 'ajv';

import { checkKey } from '../storage/store';
import { findCycle } from './graph';
import { closestName, describeValue, unknownName } from './names';
import { RUN_PLACEHOLDERS, placeholdersIn } from './placeholders';
import { PIPELINE_SCHEMA } from './schema';
import { schemaErrors } from './schema-errors';
import type { ParameterSpec, ParameterValue, RawPipeline, RawStage } from './spec';

/** One problem in a pipeline file: where it is (`stages.train.resources.gpu`) and what is wrong. */
export interface PipelineError {
  path: string;
  message: string;
}

const ajv = new Ajv({ allErrors: true, verbose: true, strict: false });
const validateSchema = ajv.compile(PIPELINE_SCHEMA);

/**
 * Checks a parsed pipeline document against the schema, then the references between stages:
 * artifact inputs and `after` name existing stages and outputs, no cycle, placeholders and `if`
 * groups name existing parameters and artifacts, defaults and overrides fit their types.
 * Returns every problem found; an empty list means the document is valid.
 */
export function validatePipeline(document: unknown): PipelineError[] {
  if (!validateSchema(document)) return schemaErrors(validateSchema.errors ?? []);
  const raw = document as unknown as RawPipeline;
  const problems: PipelineError[] = [];

  for (const [name, stage] of Object.entries(raw.stages)) {
    checkStage(raw, name, stage, problems);
  }

  const nodes = Object.entries(raw.stages).map(([name, stage]) => ({
    name,
    dependencies: [
      ...Object.values(stage.inputs?.artifacts ?? {}).map((input) => input.from.split('.')[0]),
      ...(stage.after ?? []),
    ],
  }));
  const cycle = findCycle(nodes);
  if (cycle) problems.push({ path: 'stages', message: `dependency cycle ${cycle.join(' -> ')}` });

  for (const [name, ref] of Object.entries(raw.outputs ?? {})) {
    checkArtifactRef(raw, ref, `outputs.${name}`, problems);
  }
  for (const [target, overrides] of Object.entries(raw.targets ?? {})) {
    checkOverrides(raw, overrides, `targets.${target}`, problems);
  }
  for (const [profile, spec] of Object.entries(raw.profiles ?? {})) {
    checkOverrides(raw, spec.set ?? {}, `profiles.${profile}.set`, problems);
  }
  return problems;
}

function checkStage(
  raw: RawPipeline,
  name: string,
  stage: RawStage,
  problems: PipelineError[],
): void {
  const at = `stages.${name}`;
  const parameters = stage.inputs?.parameters ?? {};
  const inputs = stage.inputs?.artifacts ?? {};
  const outputs = stage.outputs?.artifacts ?? {};

  for (const [parameterName, parameter] of Object.entries(parameters)) {
    if (!('default' in parameter)) continue;
    const full = { ...parameter, default: parameter.default ?? null, required: false };
    const expected = checkParameterValue(full, parameter.default ?? null);
    if (expected !== undefined) {
      problems.push({
        path: `${at}.inputs.parameters.${parameterName}.default`,
        message: `expected ${expected}, got ${describeValue(parameter.default ?? null)}`,
      });
    }
  }

  for (const [input, ref] of Object.entries(inputs)) {
    checkArtifactRef(raw, ref.from, `${at}.inputs.artifacts.${input}.from`, problems);
    if (ref.from.split('.')[0] === name) {
      problems.push({
        path: `${at}.inputs.artifacts.${input}.from`,
        message: `stage ${name} cannot consume its own output`,
      });
    }
  }

  (stage.after ?? []).forEach((dependency, index) => {
    if (raw.stages[dependency] !== undefined) return;
    problems.push({
      path: `${at}.after[${index}]`,
      message: unknownName('stage', dependency, Object.keys(raw.stages)),
    });
  });

  const allowed = new Set([
    ...RUN_PLACEHOLDERS,
    ...Object.keys(parameters).map((key) => `inputs.parameters.${key}`),
    ...Object.keys(inputs).map((key) => `inputs.artifacts.${key}`),
    ...Object.keys(outputs).map((key) => `outputs.artifacts.${key}`),
  ]);
  const checkText = (text: string, path: string, names: Set<string>) => {
    for (const placeholder of placeholdersIn(text)) {
      if (names.has(placeholder)) continue;
      problems.push({
        path,
        message: unknownName(
          'placeholder',
          `{{${placeholder}}}`,
          [...names].map((n) => `{{${n}}}`),
        ),
      });
    }
  };

  stage.container.command.forEach((text, index) =>
    checkText(text, `${at}.container.command[${index}]`, allowed),
  );
  (stage.container.args ?? []).forEach((arg, index) => {
    const path = `${at}.container.args[${index}]`;
    if (typeof arg === 'string') return checkText(arg, path, allowed);
    if (arg.if !== undefined && parameters[arg.if] === undefined) {
      problems.push({
        path: `${path}.if`,
        message: unknownName('parameter', arg.if, Object.keys(parameters)),
      });
    }
    arg.then?.forEach((text, item) => checkText(text, `${path}.then[${item}]`, allowed));
    arg.else?.forEach((text, item) => checkText(text, `${path}.else[${item}]`, allowed));
  });
  for (const [key, text] of Object.entries(stage.container.env ?? {})) {
    checkText(text, `${at}.container.env.${key}`, allowed);
  }

  const prefixNames = new Set([
    'run.id',
    ...Object.keys(parameters).map((key) => `inputs.parameters.${key}`),
  ]);
  for (const [output, spec] of Object.entries(outputs)) {
    const path = `${at}.outputs.artifacts.${output}.prefix`;
    checkText(spec.prefix, path, prefixNames);
    try {
      checkKey(spec.prefix.replace(/\{\{[^{}]*\}\}/g, 'x'), 'prefix');
    } catch (error) {
      problems.push({
        path,
        message: `${(error as Error).message}, expected a key prefix such as runs/{{run.id}}/train`,
      });
    }
  }
}

function checkArtifactRef(
  raw: RawPipeline,
  ref: string,
  path: string,
  problems: PipelineError[],
): void {
  const [stageName, artifact] = ref.split('.');
  const producer = raw.stages[stageName];
  if (producer === undefined) {
    problems.push({ path, message: unknownName('stage', stageName, Object.keys(raw.stages)) });
    return;
  }
  const outputs = Object.keys(producer.outputs?.artifacts ?? {});
  if (!outputs.includes(artifact)) {
    const hint = closestName(artifact, outputs);
    problems.push({
      path,
      message:
        `no stage produces '${ref}', stage ${stageName} outputs ${outputs.join(', ') || 'nothing'}` +
        (hint ? `; did you mean '${stageName}.${hint}'?` : ''),
    });
  }
}

function checkOverrides(
  raw: RawPipeline,
  overrides: Record<string, ParameterValue>,
  at: string,
  problems: PipelineError[],
): void {
  for (const [key, value] of Object.entries(overrides)) {
    const [stageName, parameterName] = key.split('.');
    const path = `${at}.${key}`;
    const stage = raw.stages[stageName];
    if (stage === undefined) {
      problems.push({ path, message: unknownName('stage', stageName, Object.keys(raw.stages)) });
      continue;
    }
    const parameters = stage.inputs?.parameters ?? {};
    const parameter = parameters[parameterName];
    if (parameter === undefined) {
      problems.push({
        path,
        message: unknownName(
          `parameter of stage ${stageName}`,
          parameterName,
          Object.keys(parameters),
        ),
      });
      continue;
    }
    const expected = checkParameterValue(
      { ...parameter, default: null, required: !('default' in parameter) },
      value,
    );
    if (expected !== undefined) {
      problems.push({
        path,
        message: `parameter ${key} expects ${expected}, got ${describeValue(value)}`,
      });
    }
  }
}

/**
 * Checks a value against a parameter's type, enum and range. Returns what was expected, such as
 * `an integer >= 1`, or undefined when the value fits. Null fits unless the parameter is required.
 */
export function checkParameterValue(
  parameter: ParameterSpec,
  value: ParameterValue,
): string | undefined {
  const expected = expectedText(parameter);
  if (value === null) return parameter.required ? expected : undefined;

  const typeFits =
    parameter.type === 'integer'
      ? Number.isInteger(value)
      : parameter.type === 'number'
        ? typeof value === 'number' && Number.isFinite(value)
        : typeof value === parameter.type;
  if (!typeFits) return expected;
  if (parameter.enum && !parameter.enum.includes(value)) return expected;
  if (typeof value === 'number') {
    if (parameter.minimum !== undefined && value < parameter.minimum) return expected;
    if (parameter.maximum !== undefined && value > parameter.maximum) return expected;
  }
  return undefined;
}

function expectedText(parameter: ParameterSpec): string {
  if (parameter.enum) return `one of ${parameter.enum.map((value) => String(value)).join(', ')}`;
  let text = parameter.type === 'integer' ? 'an integer' : `a ${parameter.type}`;
  if (parameter.minimum !== undefined) text += ` >= ${parameter.minimum}`;
  if (parameter.maximum !== undefined) text += ` <= ${parameter.maximum}`;
  return text;
}

/**
 * Converts `--set` text to a parameter's type: `null` unsets, integers and numbers are parsed,
 * `true`/`false` are booleans. Text that does not parse stays a string, for the type check to
 * reject with the text in its message.
 */
export function parseParameterText(parameter: ParameterSpec, text: string): ParameterValue {
  if (text === 'null') return null;
  if (parameter.type === 'integer' && /^[-+]?\d+$/.test(text)) return Number(text);
  if (parameter.type === 'number' && text.trim() !== '' && Number.isFinite(Number(text)))
    return Number(text);
  if (parameter.type === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}

export { closestName, describeValue };
