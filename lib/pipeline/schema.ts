/**
 * JSON Schema (draft-07) of pipeline.yaml. It checks shapes and types; references between stages,
 * cycles and placeholders are checked in validate.ts. Every object rejects unknown keys so that a
 * misspelled key is an error instead of a silently ignored setting.
 */

const NAME = '^[a-z][a-zA-Z0-9]*$';
const STAGE_REF = '^[a-z][a-zA-Z0-9]*\\.[a-z][a-zA-Z0-9]*$';
const PARAMETER_REF = '^[a-z][a-zA-Z0-9]*\\.[a-zA-Z][a-zA-Z0-9]*$';

const scalar = { type: ['string', 'number', 'boolean', 'null'] };

const parameter = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: { enum: ['string', 'integer', 'number', 'boolean'] },
    default: scalar,
    description: { type: 'string' },
    enum: { type: 'array', minItems: 1, items: scalar },
    minimum: { type: 'number' },
    maximum: { type: 'number' },
    unsetMessage: { type: 'string' },
  },
};

const artifactInput = {
  type: 'object',
  additionalProperties: false,
  required: ['from'],
  properties: {
    from: { type: 'string', pattern: STAGE_REF },
    description: { type: 'string' },
  },
};

const artifactOutput = {
  type: 'object',
  additionalProperties: false,
  required: ['prefix'],
  properties: {
    prefix: { type: 'string', minLength: 1 },
    description: { type: 'string' },
  },
};

const argList = {
  type: 'array',
  items: {
    if: { type: 'string' },
    then: { type: 'string' },
    else: { $ref: '#/definitions/conditionalArgs' },
  },
};

const conditionalArgs = {
  type: 'object',
  additionalProperties: false,
  required: ['if', 'then'],
  properties: {
    if: { type: 'string', pattern: NAME },
    then: { type: 'array', items: { type: 'string' } },
    else: { type: 'array', items: { type: 'string' } },
  },
};

const toleration = {
  type: 'object',
  additionalProperties: false,
  required: ['key', 'operator'],
  properties: {
    key: { type: 'string' },
    operator: { enum: ['Exists', 'Equal'] },
    value: { type: 'string' },
    effect: { enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] },
  },
};

const stage = {
  type: 'object',
  additionalProperties: false,
  required: ['container'],
  properties: {
    description: { type: 'string' },
    inputs: {
      type: 'object',
      additionalProperties: false,
      properties: {
        parameters: {
          type: 'object',
          propertyNames: { pattern: NAME },
          additionalProperties: parameter,
        },
        artifacts: {
          type: 'object',
          propertyNames: { pattern: NAME },
          additionalProperties: artifactInput,
        },
      },
    },
    outputs: {
      type: 'object',
      additionalProperties: false,
      properties: {
        artifacts: {
          type: 'object',
          propertyNames: { pattern: NAME },
          additionalProperties: artifactOutput,
        },
      },
    },
    container: {
      type: 'object',
      additionalProperties: false,
      required: ['image', 'command'],
      properties: {
        image: { type: 'string', minLength: 1 },
        command: { type: 'array', minItems: 1, items: { type: 'string' } },
        args: argList,
        env: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
    resources: {
      type: 'object',
      additionalProperties: false,
      properties: {
        cpu: { type: ['number', 'string'], pattern: '^[0-9]+(\\.[0-9]+)?m?$', exclusiveMinimum: 0 },
        memory: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$' },
        gpu: { type: 'integer', minimum: 0 },
      },
    },
    nodeSelector: { type: 'object', additionalProperties: { type: 'string' } },
    tolerations: { type: 'array', items: toleration },
    after: { type: 'array', items: { type: 'string', pattern: NAME } },
    code: { type: 'array', items: { type: 'string', minLength: 1 } },
    retries: { type: 'integer', minimum: 0, maximum: 10 },
    timeoutSeconds: { type: 'integer', minimum: 1 },
  },
};

const overrides = {
  type: 'object',
  propertyNames: { pattern: PARAMETER_REF },
  additionalProperties: scalar,
};

/** The schema that ajv compiles; `verbose` errors expose `parentSchema` for "did you mean". */
export const PIPELINE_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['format', 'name', 'stages'],
  definitions: { conditionalArgs },
  properties: {
    format: { const: 'fashion-gan-pipeline/1' },
    name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
    description: { type: 'string' },
    code: { type: 'array', items: { type: 'string', minLength: 1 } },
    outputs: { type: 'object', additionalProperties: { type: 'string', pattern: STAGE_REF } },
    stages: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: NAME },
      additionalProperties: stage,
    },
    targets: { type: 'object', propertyNames: { pattern: NAME }, additionalProperties: overrides },
    profiles: {
      type: 'object',
      propertyNames: { pattern: NAME },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: { description: { type: 'string' }, set: overrides },
      },
    },
  },
};
