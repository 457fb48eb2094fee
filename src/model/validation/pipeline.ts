/**
 * The pipeline schema: validates what the client starts and what `run
 * <pipeline-file>` reads, and is published as JSON Schema
 * (`schemas/pipeline.schema.json`).
 */
import { z } from 'zod';
import { invalidInput } from '../failures.js';
import { TAG_CHARS_MESSAGE, TAG_RE, UUID_RE } from '../formats.js';
import { MAX_DESCRIPTION_LENGTH, MAX_FORK_PROMPTS, MAX_PIPELINE_BYTES, MAX_PIPELINE_STEPS, MAX_PROMPT_BYTES, MAX_TAG_LENGTH, MAX_TAGS, PIPELINE_STEPS_PER_RUN } from '../defaults.js';
import { CLAUDE_MODES } from '../run.js';
import { pipelineStepsIssue } from '../step-modes.js';
import { type ExploreInput, type PipelineInput } from '../workflow.js';
import { refineWith, runRequestSchema } from './run-request.js';
import { promptText, shown, sizeText, utf8Bytes } from './user-input.js';

export const claudeOptionsSchema = runRequestSchema
  .omit({ mode: true, prompt: true, sessionId: true, newSessionId: true })
  .describe('Options of a claude run, named as the Claude Agent SDK names them');

const tagSchema = z
  .string()
  .min(1)
  .max(MAX_TAG_LENGTH, `must be at most ${MAX_TAG_LENGTH} characters`)
  .regex(TAG_RE, TAG_CHARS_MESSAGE);

export const pipelineStepSchema = z.strictObject({
  name: z.string().min(1).max(200).optional().describe('Name for progress, reports and `from`; default step-<n>'),
  mode: z.enum(CLAUDE_MODES).describe('query: new session; continue: latest of the scope; resume: a session; fork: a new branch'),
  prompt: z.string().superRefine(refineWith(promptText)).optional().describe(`Required for query and fork; at most ${sizeText(MAX_PROMPT_BYTES)}`),
  sessionId: z.string().regex(UUID_RE, 'must be a UUID').optional().describe('Session to resume or fork'),
  from: z.union([z.string().min(1), z.number().int().min(0)]).optional().describe('An earlier step (name or 0-based index) whose session to resume or fork; default the previous step'),
  options: claudeOptionsSchema.optional(),
  onLimit: z.enum(['stop', 'continue']).optional().describe('On max turns or budget: stop the pipeline or go on; default stop'),
});

export const pipelineInputSchema = z.strictObject({
  $schema: z.string().optional().describe('Path or URL of this JSON Schema, for editors'),
  name: z.string().min(1).max(200).optional().describe('Pipeline name for reports and the UI; default pipeline'),
  steps: z.array(pipelineStepSchema).min(1, 'at least one step is required').max(MAX_PIPELINE_STEPS, `must hold at most ${MAX_PIPELINE_STEPS} steps`),
  tags: z.array(tagSchema).max(MAX_TAGS, `must hold at most ${MAX_TAGS} tags`).optional().describe('Tags of every session the pipeline creates or runs'),
  description: z.string().max(MAX_DESCRIPTION_LENGTH, `must be at most ${MAX_DESCRIPTION_LENGTH} characters`).optional(),
  budgetUsd: z.number().finite().positive('must be greater than 0').optional().describe('Stop before a step once this much is spent'),
  scope: z.string().min(1).optional().describe('Working directory of the runs and scope of continue'),
  defaults: claudeOptionsSchema.optional().describe('Options of every step'),
  tuning: z
    .strictObject({
      heartbeatTimeoutMs: z.number().int().positive().optional(),
      maximumAttempts: z.number().int().positive().optional(),
      initialRetryIntervalMs: z.number().int().positive().optional(),
      startToCloseTimeoutMs: z.number().int().positive().optional(),
      continueAsNewAfterSteps: z.number().int().positive().max(PIPELINE_STEPS_PER_RUN).optional().describe(`Start a fresh history after this many steps; default ${PIPELINE_STEPS_PER_RUN}`),
    })
    .optional(),
  failFast: z.boolean().optional().describe('When a session is busy with another run, fail with SessionBusy instead of waiting'),
});

/** `steps.1.options.maxTurns` → `steps[1].options.maxTurns`. */
function fieldOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '') || 'pipeline';
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((v, key) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined), input);
}

/** Check a pipeline fully; throws `InvalidInput` naming the step and field. */
export function validatePipelineInput(input: unknown): PipelineInput {
  const parsed = pipelineInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') throw invalidInput(fieldOf([...issue.path, issue.keys[0] ?? '']), 'is not a known field');
    // A YAML file's `0x10` or `yes` is text: say what was read, not only what was expected.
    if (issue.code === 'invalid_type') {
      const given = valueAt(input, issue.path);
      if (typeof given === 'string') throw invalidInput(fieldOf(issue.path), `must be ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}, got the text ${shown(given)}`);
    }
    throw invalidInput(fieldOf(issue.path), issue.message);
  }
  const { $schema: _schema, ...pipeline } = parsed.data;
  // The pipeline travels as one workflow input: keep it well under Temporal's payload limit.
  const bytes = utf8Bytes(JSON.stringify(pipeline));
  if (bytes > MAX_PIPELINE_BYTES) throw invalidInput('pipeline', `is ${bytes} bytes as JSON, more than the maximum of ${sizeText(MAX_PIPELINE_BYTES)}`);
  const issue = pipelineStepsIssue(pipeline.steps);
  if (issue) throw invalidInput(issue.field, issue.problem);
  return pipeline as PipelineInput;
}

/** The published JSON Schema of pipeline files. */
export function pipelineJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(pipelineInputSchema, { target: 'draft-2020-12' }),
    $id: 'https://github.com/claude-temporal/claude-temporal/schemas/pipeline.schema.json',
    title: 'claude-temporal pipeline',
  };
}

/** Runs `fn`; an `InvalidInput` it throws is thrown again with its field renamed by `rename`. */
export function renameField<T>(fn: () => T, rename: (field: string) => string): T {
  try {
    return fn();
  } catch (err) {
    const e = err as { type?: string; message: string; evidence?: { field?: string } };
    const field = e.evidence?.field;
    if (e.type !== 'InvalidInput' || field === undefined) throw err;
    const to = rename(field);
    if (to === field) throw err;
    throw invalidInput(to, e.message.slice(`Invalid ${field}: `.length));
  }
}

export const exploreInputSchema = z.strictObject({
  sessionId: z.string().regex(UUID_RE, 'must be a UUID'),
  prompts: z.array(z.string().superRefine(refineWith(promptText))).min(1, 'at least one prompt is required').max(MAX_FORK_PROMPTS, `must hold at most ${MAX_FORK_PROMPTS} prompts`),
  concurrency: z.number().int('must be an integer').positive('must be positive').max(MAX_FORK_PROMPTS).optional(),
  options: claudeOptionsSchema.optional(),
  tags: z.array(tagSchema).max(MAX_TAGS, `must hold at most ${MAX_TAGS} tags`).optional(),
  description: z.string().max(MAX_DESCRIPTION_LENGTH, `must be at most ${MAX_DESCRIPTION_LENGTH} characters`).optional(),
  scope: z.string().min(1).optional(),
  name: z.string().min(1).max(200).optional(),
  tuning: pipelineInputSchema.shape.tuning,
});

/** Check the input of the fork fan-out; throws `InvalidInput` naming the field. */
export function validateExploreInput(input: unknown): ExploreInput {
  const parsed = exploreInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') throw invalidInput(fieldOf([...issue.path, issue.keys[0] ?? '']), 'is not a known field');
    throw invalidInput(fieldOf(issue.path), issue.message);
  }
  return parsed.data as ExploreInput;
}
