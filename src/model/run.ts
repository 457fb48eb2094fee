/**
 * Types of the Claude Code runner: a typed request in, one real `claude -p`
 * run, a typed outcome out. Pure module (types and constants only), so
 * workflows may import it.
 */
import { type FailureEvidence, type FailureType } from './failures.js';

export const CLAUDE_MODES = ['query', 'continue', 'resume', 'fork'] as const;
export type ClaudeMode = (typeof CLAUDE_MODES)[number];

export const PERMISSION_MODES = ['default', 'acceptEdits', 'bypassPermissions', 'plan', 'dontAsk'] as const;
export type PermissionMode = (typeof PERMISSION_MODES)[number];

/** The prompt sent when a continue or resume has none: the CLI refuses an empty prompt. */
export const DEFAULT_CONTINUE_PROMPT = 'Continue where you left off.';

/** Per-run options, named as the Claude Agent SDK names them. */
export interface ClaudeOptions {
  /** Model alias or id; default: the CLI's. */
  model?: string;
  /** Model used when the first is overloaded; default: none. */
  fallbackModel?: string;
  /** Stop after this many agentic turns; default: no limit. */
  maxTurns?: number;
  /** Stop when this run has spent this many USD; default: no limit. */
  maxBudgetUsd?: number;
  /** Tools allowed without asking; default: the CLI's. */
  allowedTools?: string[];
  /** Tools removed from the model's context; default: none. */
  disallowedTools?: string[];
  /** Permission mode; default: `default`. */
  permissionMode?: PermissionMode;
  /** Replaces the system prompt; default: the CLI's. */
  systemPrompt?: string;
  /** Appended to the system prompt; default: none. */
  appendSystemPrompt?: string;
  /** MCP server config (JSON string or file path); default: none. */
  mcpConfig?: string;
  /** Extra directories the tools may access; default: none. */
  addDirs?: string[];
  /** Working directory of the run (also the scope of `continue`); default: the runner's work directory. */
  cwd?: string;
  /** Extra environment variables for the child; default: none (the parent's environment is not passed through). */
  env?: Record<string, string>;
  /** Kill the run after this many milliseconds; default: no limit. */
  timeoutMs?: number;
}

/** One run of the CLI. */
export interface RunRequest extends ClaudeOptions {
  mode: ClaudeMode;
  /** The prompt; optional for `continue` and `resume` (then {@link DEFAULT_CONTINUE_PROMPT}). */
  prompt?: string;
  /** The session to resume or fork (UUID); required for `resume` and `fork`. */
  sessionId?: string;
  /** Fixed id of a new session or fork (`--session-id`); default: the CLI picks one. */
  newSessionId?: string;
}

/** Token usage of one model in one run, as the CLI's `modelUsage` reports it. */
export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
  costUSD: number;
}

/** How a run ended, as the pipeline sees it. */
export const RUN_STATUSES = ['success', 'max_turns', 'budget_exceeded', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunFailure {
  type: FailureType;
  message: string;
  retryable: boolean;
  evidence: FailureEvidence;
}

/** What one run did. Small and serialisable: it may cross into workflow history. */
export interface RunOutcome {
  status: RunStatus;
  /** Session id of this run (from `system/init`, checked against `result`); null when the CLI never said. */
  sessionId: string | null;
  /** `result.subtype`, e.g. `success`, `error_max_turns`, `error_during_execution`. */
  subtype: string | null;
  isError: boolean;
  numTurns: number;
  /** `result.result`: the final text. */
  resultText: string | null;
  /** Models that answered in this run, latest last. */
  models: string[];
  /** What this run spent, in USD (right for both the cumulative and the per-process CLI behaviours). */
  runCostUsd: number;
  /** What the CLI reports for the whole lineage (`total_cost_usd`). */
  cumulativeCostUsd: number;
  /** This run's tokens and cost per model. */
  usageByModel: Record<string, ModelUsage>;
  durationMs: number;
  exitCode: number | null;
  signal: string | null;
  stderrTail: string;
  /** Messages parsed from stdout (every line, including system and stream events). */
  messageCount: number;
  failure?: RunFailure;
}
