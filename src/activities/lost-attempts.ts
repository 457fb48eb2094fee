/**
 * Attempts that did not finish: their messages are dropped and their spend stays in the ledger,
 * estimated from what they were seen to send and receive, under the model the API named.
 */
import { CancelledFailure } from '@temporalio/common';
import { type FailureType, isFailureType } from '../model/failures.js';
import { type RunLedgerEntry } from '../model/session.js';
import { type StepHeartbeat } from '../model/workflow.js';
import { type SessionStore } from '../store/types.js';
import { toApplicationFailure } from './failures.js';
import { type ActivityLogger } from './index.js';
import { estimatedUsage } from './spend.js';

interface Deps {
  store: SessionStore;
  logger: ActivityLogger;
}

/** A store write of the step: fenced by its session lease, retried through outages. */
export type FencedWrite = <T>(fn: () => Promise<T>) => Promise<T>;

/** Writes through `call` (retried through outages), each after `check` (the lease is still this run's). */
export function fencedWrite(call: FencedWrite, check: () => Promise<void>): FencedWrite {
  return (fn) => call(async () => (await check(), fn()));
}

/**
 * Attempts that died with their worker left a `running` entry: record their spend (an estimate from
 * the last heartbeat when it is theirs), drop their messages. Returns the step's earlier attempts as they now stand.
 */
export async function settleLostAttempts(
  { store, logger }: Deps,
  earlier: RunLedgerEntry[],
  heartbeat: Partial<StepHeartbeat> | undefined,
  write: FencedWrite,
): Promise<RunLedgerEntry[]> {
  const settled: RunLedgerEntry[] = [];
  for (const run of earlier) {
    if (run.status !== 'running') {
      settled.push(run);
      continue;
    }
    const lost = lostEntry(run, heartbeat?.runId === run.runId ? heartbeat : undefined);
    await write(() => store.discardRunMessages(run.sessionId, run.runId));
    await write(() => store.recordRun(lost));
    settled.push(lost);
    logger.warn('Recorded a lost attempt of a step', { runId: run.runId, spendUsd: lost.costUsd, estimated: true });
  }
  return settled;
}

/**
 * An attempt that failed in this worker (the runner threw, the store stayed away, the step was
 * cancelled): recorded with its own failure type; returns the failure to throw. Best effort: if the
 * store cannot take it, the next attempt or the pipeline's end settles it from the heartbeat.
 */
export async function recordFailure({ store, logger }: Deps, base: RunLedgerEntry, progress: StepHeartbeat, err: unknown, write: FencedWrite): Promise<Error> {
  const failure = toApplicationFailure(err);
  const type = failureTypeOf(failure);
  progress.failure = type;
  try {
    await write(() => store.discardRunMessages(base.sessionId, base.runId));
    await write(() => store.recordRun({ ...lostEntry(base, progress), failureType: type }));
  } catch (e) {
    logger.error('Could not record a failed run', { runId: base.runId, error: String(e) });
  }
  return failure;
}

/** A lost or failed attempt as the ledger keeps it: failed, its spend an estimate from its heartbeat. */
export function lostEntry(run: RunLedgerEntry, hb: Partial<StepHeartbeat> | undefined): RunLedgerEntry {
  const estimate = {
    model: hb?.model ?? null,
    inputTokens: hb?.inputTokens ?? 0,
    outputTokens: hb?.outputTokens ?? 0,
    cacheReadInputTokens: hb?.cacheReadInputTokens ?? 0,
    cacheCreationInputTokens: hb?.cacheCreationInputTokens ?? 0,
    spendUsd: hb?.spendUsd ?? run.costUsd,
  };
  return {
    ...run,
    status: 'failed',
    // A store outage or a cancellation is not a crash: the attempt says why when it knows.
    failureType: hb?.failure && isFailureType(hb.failure) ? hb.failure : 'Crashed',
    costUsd: estimate.spendUsd,
    usageByModel: hb ? estimatedUsage(estimate) : run.usageByModel,
    model: estimate.model ?? run.model,
    messageCount: hb?.messages ?? run.messageCount,
    finishedAt: new Date(),
    estimated: true,
  };
}

function failureTypeOf(err: Error): FailureType {
  if (err instanceof CancelledFailure) return 'Cancelled';
  const type = (err as { type?: unknown }).type;
  return isFailureType(type) ? type : 'Crashed';
}
