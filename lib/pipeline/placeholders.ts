import { UserError } from '../errors';
import { ArgSpec, ParameterValue, StageSpec } from './spec';

/** `{{name}}` in a command line, output prefix or environment value. */
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** Placeholder names that do not depend on the stage. */
export const RUN_PLACEHOLDERS = ['run.id', 'store', 'pipeline.dir'];

/** Values that fill a stage's placeholders in one run. */
export interface PlaceholderContext {
  runId: string;
  /** Store URL the stages read and write. */
  store: string;
  /** Folder of the pipeline file, for commands that run scripts next to it. */
  pipelineDir: string;
  parameters: Record<string, ParameterValue>;
  /** Input artifact name -> store key prefix. */
  inputs: Record<string, string>;
  /** Output artifact name -> store key prefix. */
  outputs: Record<string, string>;
}

/** Returns the names of the placeholders in a text, such as `inputs.parameters.epochs`. */
export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((match) => match[1]);
}

/** Tells whether a parameter value turns an `if` argument group on. */
export function isSet(value: ParameterValue | undefined): boolean {
  return value !== null && value !== undefined && value !== false && value !== '';
}

/** Expands `if` groups with the parameter values and returns the argument templates. */
export function expandArgs(args: ArgSpec[], parameters: Record<string, ParameterValue>): string[] {
  return args.flatMap((arg) => {
    if (typeof arg === 'string') return [arg];
    return isSet(parameters[arg.if]) ? arg.then : arg.else;
  });
}

/**
 * Replaces every placeholder in a text with its value from `lookup`. `lookup` returns undefined
 * for a name it does not know, which is an error naming `where`.
 */
export function fillPlaceholders(
  text: string,
  lookup: (name: string) => string | undefined,
  where: string,
): string {
  return text.replace(PLACEHOLDER, (_match, name: string) => {
    const value = lookup(name);
    if (value === undefined) throw new UserError(`${where}: unknown placeholder {{${name}}}`);
    return value;
  });
}

/** Returns the value of one placeholder in a stage's context, or undefined if it is unknown. */
export function lookupPlaceholder(
  stage: StageSpec,
  context: PlaceholderContext,
  name: string,
): string | undefined {
  if (name === 'run.id') return context.runId;
  if (name === 'store') return context.store;
  if (name === 'pipeline.dir') return context.pipelineDir;

  const [scope, kind, key, ...rest] = name.split('.');
  if (rest.length > 0 || key === undefined) return undefined;
  if (scope === 'inputs' && kind === 'parameters' && key in context.parameters) {
    const value = context.parameters[key];
    if (value === null) {
      const parameter = stage.inputs.parameters[key];
      const fix = parameter?.unsetMessage ?? `set it with --set ${stage.name}.${key}=VALUE`;
      throw new UserError(`stage ${stage.name} needs parameter ${key}, which is not set: ${fix}`);
    }
    return String(value);
  }
  if (scope === 'inputs' && kind === 'artifacts') return context.inputs[key];
  if (scope === 'outputs' && kind === 'artifacts') return context.outputs[key];
  return undefined;
}

/** Renders the output prefixes of a stage, which may use `{{run.id}}` and parameters. */
export function renderOutputs(
  stage: StageSpec,
  context: Omit<PlaceholderContext, 'inputs' | 'outputs'>,
): Record<string, string> {
  const full = { ...context, inputs: {}, outputs: {} };
  return Object.fromEntries(
    Object.entries(stage.outputs.artifacts).map(([name, output]) => [
      name,
      fillPlaceholders(
        output.prefix,
        (placeholder) => lookupPlaceholder(stage, full, placeholder),
        `stage ${stage.name} output ${name}`,
      ),
    ]),
  );
}

/** Renders a stage's command and arguments as the container runs them. */
export function renderCommandLine(stage: StageSpec, context: PlaceholderContext): string[] {
  const templates = [
    ...stage.container.command,
    ...expandArgs(stage.container.args, context.parameters),
  ];
  return templates.map((template) =>
    fillPlaceholders(
      template,
      (name) => lookupPlaceholder(stage, context, name),
      `stage ${stage.name}`,
    ),
  );
}

/** Renders a stage's environment values. */
export function renderEnv(stage: StageSpec, context: PlaceholderContext): Record<string, string> {
  return Object.fromEntries(
    Object.entries(stage.container.env).map(([name, template]) => [
      name,
      fillPlaceholders(
        template,
        (key) => lookupPlaceholder(stage, context, key),
        `stage ${stage.name} env ${name}`,
      ),
    ]),
  );
}
