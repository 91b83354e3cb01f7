import { ErrorObject } from 'ajv';

import { describeValue, unknownName } from './names';
import type { PipelineError } from './validate';

/** Meanings of the name patterns of schema.ts, for messages. */
const PATTERN_MEANINGS: Record<string, string> = {
  '^[a-z][a-zA-Z0-9]*$': 'a camelCase name starting with a lowercase letter',
  '^[a-z][a-zA-Z0-9]*\\.[a-z][a-zA-Z0-9]*$': 'STAGE.ARTIFACT, such as train.model',
  '^[a-z][a-zA-Z0-9]*\\.[a-zA-Z][a-zA-Z0-9]*$': 'STAGE.PARAMETER, such as train.epochs',
  '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$': 'lowercase letters, digits and dashes',
};

/** Turns ajv errors into one line each, with dotted paths and "did you mean" for unknown keys. */
export function schemaErrors(errors: ErrorObject[]): PipelineError[] {
  const problems: PipelineError[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const problem = schemaError(error);
    if (problem === undefined) continue;
    const line = `${problem.path}: ${problem.message}`;
    if (seen.has(line)) continue;
    seen.add(line);
    problems.push(problem);
  }
  return problems;
}

function schemaError(error: ErrorObject): PipelineError | undefined {
  const path = dottedPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'if':
    case 'propertyNames':
      // Both come with a more specific error for the same value.
      return undefined;
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = Object.keys((error.parentSchema as { properties?: object }).properties ?? {});
      return { path: joinPath(path, key), message: unknownName('key', key, known) };
    }
    case 'required':
      return {
        path: path || '(top level)',
        message: `missing required key '${String(params.missingProperty)}'`,
      };
    case 'type': {
      const expected = String(params.type).replace(',', ' or ');
      const got = `${typeName(error.data)} ${describeValue(error.data)}`;
      return { path, message: `expected ${expected}, got ${got}` };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).join(', ');
      return { path, message: `expected one of ${allowed}, got ${describeValue(error.data)}` };
    }
    case 'const':
      return {
        path,
        message: `expected ${describeValue(params.allowedValue)}, got ${describeValue(error.data)}`,
      };
    case 'pattern': {
      const meaning =
        PATTERN_MEANINGS[String(params.pattern)] ?? `text matching ${String(params.pattern)}`;
      if (error.propertyName !== undefined) {
        return {
          path: joinPath(path, error.propertyName),
          message: `invalid name '${error.propertyName}': expected ${meaning}`,
        };
      }
      return { path, message: `expected ${meaning}, got ${describeValue(error.data)}` };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum': {
      const comparison = String(params.comparison);
      return {
        path,
        message: `expected a number ${comparison} ${params.limit}, got ${describeValue(error.data)}`,
      };
    }
    default:
      return { path, message: `${error.message ?? 'invalid'}, got ${describeValue(error.data)}` };
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function dottedPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce(
      (path, segment) => (/^\d+$/.test(segment) ? `${path}[${segment}]` : joinPath(path, segment)),
      '',
    );
}

function joinPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
