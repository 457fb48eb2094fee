/**
 * Validation of a {@link RunRequest}: a zod schema for the shapes, then the
 * rules that tie fields to the mode. Every error names the field.
 */
import { z } from 'zod';
import { invalidInput } from '../failures.js';
import { UUID_RE } from '../formats.js';
import { MAX_PROMPT_BYTES } from '../defaults.js';
import { CLAUDE_MODES, PERMISSION_MODES, type RunRequest } from '../run.js';
import { requestModeIssue } from '../step-modes.js';
import { modelName, promptText, sizeText } from './user-input.js';

const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Variables the runner sets itself; a request may not override them. */
export const RESERVED_ENV_KEYS: readonly string[] = [
  'CLAUDE_CONFIG_DIR',
  'CLAUDE_CODE_MAX_RETRIES',
  'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC',
  'DISABLE_AUTOUPDATER',
  'PATH',
  'HOME',
];

const nonEmpty = z.string().min(1, 'must not be empty');

/** A zod refinement from one of the model's checks: its problem becomes the issue's message. */
export function refineWith(check: (value: string, field: string) => unknown) {
  return (value: string, ctx: z.RefinementCtx): void => {
    try {
      check(value, 'value');
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^Invalid value: /, '') });
    }
  };
}
const uuid = z.string().regex(UUID_RE, 'must be a UUID');
const stringList = z.array(nonEmpty);

export const runRequestSchema = z.strictObject({
  mode: z.enum(CLAUDE_MODES).describe('query: new session; continue: latest of the cwd; resume: a session; fork: a new branch'),
  prompt: z.string().superRefine(refineWith(promptText)).optional().describe(`The prompt (at most ${sizeText(MAX_PROMPT_BYTES)}, no NUL byte); optional for continue and resume`),
  sessionId: uuid.optional().describe('Session to resume or fork'),
  newSessionId: uuid.optional().describe('Fixed id of a new session or fork (--session-id)'),
  model: z.string().superRefine(refineWith(modelName)).optional().describe("Model alias or id (--model); default: the CLI's"),
  fallbackModel: z.string().superRefine(refineWith(modelName)).optional().describe('Model used when the first is overloaded (--fallback-model)'),
  maxTurns: z.number().int('must be an integer').positive('must be positive').optional().describe('Stop after this many agentic turns (--max-turns)'),
  maxBudgetUsd: z.number().finite('must be finite').positive('must be greater than 0').optional().describe('Stop once the run has spent this many USD (--max-budget-usd)'),
  allowedTools: stringList.optional().describe('Tools allowed without asking (--allowedTools)'),
  disallowedTools: stringList.optional().describe('Tools removed from the model (--disallowedTools)'),
  permissionMode: z.enum(PERMISSION_MODES).optional().describe('Permission mode (--permission-mode); bypassPermissions is refused as root'),
  systemPrompt: z.string().optional().describe('Replaces the system prompt (--system-prompt)'),
  appendSystemPrompt: z.string().optional().describe('Appended to the system prompt (--append-system-prompt)'),
  mcpConfig: nonEmpty.optional().describe('MCP server config, JSON or a file path (--mcp-config)'),
  addDirs: stringList.optional().describe('Extra directories the tools may use (--add-dir)'),
  cwd: nonEmpty.optional().describe("Working directory of the run; default: the worker's work directory"),
  env: z.record(z.string(), z.string()).optional().describe("Extra environment variables for claude (the worker's own are not passed through)"),
  timeoutMs: z.number().int('must be an integer').positive('must be positive').optional().describe('Kill the run after this many milliseconds'),
});

function fieldOf(path: readonly PropertyKey[]): string {
  return path.length === 0 ? 'request' : path.map(String).join('.');
}

export interface ValidateOptions {
  /** When set, the only keys `env` may carry; default: any key but {@link RESERVED_ENV_KEYS}. */
  envAllowlist?: readonly string[];
}

/**
 * Checks a run request; throws `invalidInput(field, problem)` naming the first bad field.
 * Returns the request with the schema's types.
 */
export function validateRunRequest(input: unknown, options: ValidateOptions = {}): RunRequest {
  const parsed = runRequestSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (!issue) throw invalidInput('request', 'is not valid');
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0] ?? '';
      throw invalidInput(fieldOf([...issue.path, key]), 'is not a known option');
    }
    const present = issue.path.length > 0 && input !== null && typeof input === 'object' && issue.path[0] !== undefined && (input as Record<PropertyKey, unknown>)[issue.path[0]] !== undefined;
    throw invalidInput(fieldOf(issue.path), present || issue.path.length === 0 ? issue.message : 'is required');
  }
  const request = parsed.data as RunRequest;
  const issue = requestModeIssue(request);
  if (issue) throw invalidInput(issue.field, issue.problem);
  for (const key of Object.keys(request.env ?? {})) {
    if (!ENV_NAME_RE.test(key)) throw invalidInput(`env.${key}`, 'is not a valid variable name');
    if (RESERVED_ENV_KEYS.includes(key)) throw invalidInput(`env.${key}`, 'is set by the runner');
    if (options.envAllowlist && !options.envAllowlist.includes(key)) throw invalidInput(`env.${key}`, 'is not in the allowlist');
  }
  return request;
}
