/** The ledger entries a step writes, and the step result read back from them. */
import { createHash } from 'node:crypto';
import { addUsd } from '../model/formats.js';
import { type RunOutcome } from '../model/run.js';
import { type RunLedgerEntry } from '../model/session.js';
import { type StepHeartbeat, type StepInput, type StepResult } from '../model/workflow.js';

/** The `running` entry written before the CLI starts: a worker that dies leaves it for the retry to settle. */
export function ledgerBase(input: StepInput, runId: string, sessionId: string, attempt: number, startedAt: Date): RunLedgerEntry {
  const iso = startedAt.toISOString();
  return {
    runId,
    sessionId,
    mode: input.mode,
    promptDigest: createHash('sha256').update(input.prompt ?? '').digest('hex'),
    status: 'running',
    failureType: null,
    subtype: null,
    costUsd: 0,
    cumulativeCostUsd: 0,
    usageByModel: {},
    numTurns: 0,
    messageCount: 0,
    exitCode: null,
    startedAt,
    finishedAt: null,
    durationMs: 0,
    stepKey: input.stepKey,
    attempt,
    day: iso.slice(0, 10),
    month: iso.slice(0, 7),
    tags: input.tags ?? [],
    model: input.options?.model ?? null,
    pipeline: input.origin?.pipeline ?? null,
    workflowId: input.origin?.workflowId ?? null,
  };
}

/** The entry of a finished run, from the runner's outcome. */
export function finishedEntry(base: RunLedgerEntry, outcome: RunOutcome, progress: StepHeartbeat): RunLedgerEntry {
  return {
    ...base,
    status: outcome.status,
    failureType: outcome.failure?.type ?? null,
    subtype: outcome.subtype,
    costUsd: outcome.runCostUsd,
    cumulativeCostUsd: outcome.cumulativeCostUsd,
    usageByModel: outcome.usageByModel,
    numTurns: outcome.numTurns,
    // Stored lines only: partial-message events feed the estimate, not the conversation.
    messageCount: progress.messages,
    assistantMessages: progress.assistantMessages ?? 0,
    exitCode: outcome.exitCode,
    finishedAt: new Date(),
    durationMs: outcome.durationMs,
    model: outcome.models.at(-1) ?? null,
    summary: progress.summary,
    resultText: outcome.resultText?.slice(0, 2000) ?? null,
  };
}

/** A step's result from its entry; the total adds the spend of the step's other attempts. */
export function resultFromLedger(stepKey: string, entry: RunLedgerEntry, all: RunLedgerEntry[], fromRecord = true): StepResult {
  const total = addUsd(...all.filter((r) => r.runId !== entry.runId).map((r) => r.costUsd), entry.costUsd);
  return {
    stepKey,
    sessionId: entry.sessionId,
    status: entry.status === 'running' ? 'failed' : entry.status,
    failureType: entry.failureType,
    costUsd: entry.costUsd,
    totalCostUsd: total,
    numTurns: entry.numTurns,
    messageCount: entry.messageCount,
    summary: entry.summary ?? null,
    resultText: entry.resultText ?? null,
    attempt: entry.attempt,
    fromRecord,
  };
}
