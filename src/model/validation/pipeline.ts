/**
 * The pipeline schema: validates what the client starts and what `run
 * <pipeline-file>` reads, and is published as JSON Schema
 * (`schemas/pipeline.schema.json`).
 */
import { z } from 'zod';
import { MAX_DESCRIPTION_LENGTH, MAX_TAG_LENGTH, MAX_TAGS } from '../defaults.js';
import { invalidInput } from '../failures.js';
import { TAG_CHARS_MESSAGE, TAG_RE, UUID_RE } from '../formats.js';
import { CLAUDE_MODES } from '../run.js';
import { pipelineStepsIssue } from '../step-modes.js';
import { type PipelineInput } from '../workflow.js';
import { runRequestSchema } from './run-request.js';

export const claudeOptionsSchema = runRequestSchema
  .omit({ mode: true, prompt: true, sessionId: true, newSessionId: true })
  .describe('Options of a claude run, named as the Claude Agent SDK names them');

const tagSchema = z
  .string()
  .min(1)
  .max(MAX_TAG_LENGTH)
  .regex(TAG_RE, TAG_CHARS_MESSAGE);

export const pipelineStepSchema = z.strictObject({
  name: z.string().min(1).max(200).optional().describe('Name for progress, reports and `from`; default step-<n>'),
  mode: z.enum(CLAUDE_MODES).describe('query: new session; continue: latest of the scope; resume: a session; fork: a new branch'),
  prompt: z.string().refine((s) => s.trim() !== '', 'must not be empty').optional().describe('Required for query and fork'),
  sessionId: z.string().regex(UUID_RE, 'must be a UUID').optional().describe('Session to resume or fork'),
  from: z.union([z.string().min(1), z.number().int().min(0)]).optional().describe('An earlier step (name or 0-based index) whose session to resume or fork; default the previous step'),
  options: claudeOptionsSchema.optional(),
  onLimit: z.enum(['stop', 'continue']).optional().describe('On max turns or budget: stop the pipeline or go on; default stop'),
});

export const pipelineInputSchema = z.strictObject({
  $schema: z.string().optional().describe('Path or URL of this JSON Schema, for editors'),
  name: z.string().min(1).max(200).optional().describe('Pipeline name for reports and the UI; default pipeline'),
  steps: z.array(pipelineStepSchema).min(1, 'at least one step is required'),
  tags: z.array(tagSchema).max(MAX_TAGS).optional().describe('Tags of every session the pipeline creates or runs'),
  description: z.string().max(MAX_DESCRIPTION_LENGTH).optional(),
  budgetUsd: z.number().finite().positive('must be greater than 0').optional().describe('Stop before a step once this much is spent'),
  scope: z.string().min(1).optional().describe('Working directory of the runs and scope of continue'),
  defaults: claudeOptionsSchema.optional().describe('Options of every step'),
  tuning: z
    .strictObject({
      heartbeatTimeoutMs: z.number().int().positive().optional(),
      maximumAttempts: z.number().int().positive().optional(),
      initialRetryIntervalMs: z.number().int().positive().optional(),
      startToCloseTimeoutMs: z.number().int().positive().optional(),
    })
    .optional(),
});

/** `steps.1.options.maxTurns` → `steps[1].options.maxTurns`. */
function fieldOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '') || 'pipeline';
}

/** Check a pipeline fully; throws `InvalidInput` naming the step and field. */
export function validatePipelineInput(input: unknown): PipelineInput {
  const parsed = pipelineInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') throw invalidInput(fieldOf([...issue.path, issue.keys[0] ?? '']), 'is not a known field');
    throw invalidInput(fieldOf(issue.path), issue.message);
  }
  const { $schema: _schema, ...pipeline } = parsed.data;
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
