/**
 * The step-mode rules, stated once: what a run request or a pipeline step of
 * each mode needs. The run-request check, the pipeline schema and the
 * pipeline workflow all read them. Pure module.
 */
import { CLAUDE_MODES, type ClaudeMode, type RunRequest } from './run.js';
import { type StepInput } from './workflow.js';

/** Query and fork start a new session (whose id may be fixed), so they need a prompt. */
export function createsSession(mode: ClaudeMode): mode is 'query' | 'fork' {
  return mode === 'query' || mode === 'fork';
}

/** Resume and fork start from a given session; continue finds its own, query has none. */
export function startsFromSession(mode: ClaudeMode): mode is 'resume' | 'fork' {
  return mode === 'resume' || mode === 'fork';
}

/** The runner's request for a step in `cwd`: its options, and the session it starts from or creates, by mode. */
export function stepRunRequest(input: StepInput, cwd: string): RunRequest {
  return {
    ...input.options,
    mode: input.mode,
    prompt: input.prompt,
    sessionId: startsFromSession(input.mode) ? input.sessionId : undefined,
    newSessionId: createsSession(input.mode) ? input.newSessionId : undefined,
    cwd,
  };
}

export function isClaudeMode(value: unknown): value is ClaudeMode {
  return typeof value === 'string' && (CLAUDE_MODES as readonly string[]).includes(value);
}

/** A broken rule: the field, in the input's terms, and what is wrong with it. */
export interface ModeIssue {
  field: string;
  problem: string;
}

/** The first mode rule a run request breaks, or null. */
export function requestModeIssue(request: { mode: ClaudeMode; prompt?: string; sessionId?: string; newSessionId?: string }): ModeIssue | null {
  const { mode, prompt, sessionId, newSessionId } = request;
  if (createsSession(mode) && prompt === undefined) return { field: 'prompt', problem: `is required for mode ${mode}` };
  if (startsFromSession(mode)) {
    if (sessionId === undefined) return { field: 'sessionId', problem: `is required for mode ${mode}` };
  } else if (sessionId !== undefined) {
    return { field: 'sessionId', problem: `is only for modes resume and fork, not ${mode}` };
  }
  if (newSessionId !== undefined && !createsSession(mode)) return { field: 'newSessionId', problem: `is only for modes query and fork, not ${mode}` };
  if (mode === 'fork' && newSessionId !== undefined && newSessionId.toLowerCase() === sessionId?.toLowerCase()) {
    return { field: 'newSessionId', problem: 'must differ from sessionId' };
  }
  return null;
}

/** What the rules read of a pipeline step. */
export interface StepShape {
  name?: string;
  mode: ClaudeMode;
  prompt?: string;
  sessionId?: string;
  from?: string | number;
}

/** A step's name for progress, reports and `from`: its own, else `step-<n>` (1-based). */
export function stepName(step: { name?: string }, index: number): string {
  return step.name ?? `step-${index + 1}`;
}

/**
 * The first mode rule a pipeline's steps break, or null: query and fork need a prompt; only resume
 * and fork take a session or `from`, which must name an earlier step; a first resume or fork needs a
 * session; step names are unique.
 */
export function pipelineStepsIssue(steps: readonly StepShape[]): ModeIssue | null {
  const names: string[] = [];
  for (const [i, step] of steps.entries()) {
    const at = `steps[${i}]`;
    if (!isClaudeMode(step.mode)) return { field: `${at}.mode`, problem: `must be one of ${CLAUDE_MODES.join(', ')}` };
    if (createsSession(step.mode) && (step.prompt === undefined || step.prompt.trim() === '')) {
      return { field: `${at}.prompt`, problem: `is required for mode ${step.mode}` };
    }
    if (!startsFromSession(step.mode) && (step.sessionId !== undefined || step.from !== undefined)) {
      return { field: `${at}.${step.sessionId !== undefined ? 'sessionId' : 'from'}`, problem: 'is only for modes resume and fork' };
    }
    if (startsFromSession(step.mode)) {
      if (step.sessionId === undefined && step.from === undefined && i === 0) return { field: `${at}.sessionId`, problem: `is required for a first ${step.mode} step` };
      if (step.from !== undefined) {
        const ok = typeof step.from === 'number' ? Number.isInteger(step.from) && step.from >= 0 && step.from < i : names.includes(step.from);
        if (!ok) return { field: `${at}.from`, problem: 'must name an earlier step' };
      }
    }
    const name = stepName(step, i);
    if (names.includes(name)) return { field: `${at}.name`, problem: `repeats ${name}` };
    names.push(name);
  }
  return null;
}
