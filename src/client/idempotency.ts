/**
 * Workflow ids are idempotency keys: a start under an id that was used before
 * returns the existing run when the request is the same (a retried command),
 * and is refused, before anything is written, when it is not.
 */
import { createHash } from 'node:crypto';
import { type Client, type WorkflowHandle } from '@temporalio/client';
import { invalidInput } from '../model/failures.js';

/** Memo key holding the digest of the request a workflow was started with. */
export const REQUEST_DIGEST_MEMO = 'requestDigest';

/** A digest of a request that does not depend on key order. */
export function requestDigest(request: unknown): string {
  return createHash('sha256').update(canonical(request)).digest('hex');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function checkWorkflowId(workflowId: string): string {
  if (typeof workflowId !== 'string' || workflowId.trim() === '') throw invalidInput('workflowId', 'must not be empty');
  return workflowId;
}

/**
 * Starts with `start` unless the id was used: then the existing run is returned (same request)
 * or the start is refused with `InvalidInput` naming `workflowId` (another request). `start` must
 * refuse an id used before, closed runs' included (`REJECT_DUPLICATE`).
 */
export async function startOnce<H extends WorkflowHandle>(
  client: Client,
  workflowId: string,
  digest: string,
  start: () => Promise<H>,
): Promise<{ handle: H; existing: boolean }> {
  for (let i = 0; i < 2; i++) {
    // Started first and looked at only if the id is taken: a new id costs one call (a refused start writes nothing).
    try {
      return { handle: await start(), existing: false };
    } catch (err) {
      if ((err as { name?: string }).name !== 'WorkflowExecutionAlreadyStartedError') throw err;
    }
    const used = await usedDigest(client, workflowId);
    // Gone between the start and the look (retention): start again.
    if (used === undefined) continue;
    if (used !== digest) {
      throw invalidInput('workflowId', `${workflowId} was already used for a different request; choose another workflow id`);
    }
    return { handle: client.workflow.getHandle(workflowId) as H, existing: true };
  }
  throw invalidInput('workflowId', `${workflowId} is being started by another request`);
}

/** The digest the id's latest run was started with; undefined when the id is unused, null when unknown. */
async function usedDigest(client: Client, workflowId: string): Promise<string | null | undefined> {
  try {
    const d = await client.workflow.getHandle(workflowId).describe();
    const memo = (await d.memo) as Record<string, unknown> | undefined;
    const value = memo?.[REQUEST_DIGEST_MEMO];
    return typeof value === 'string' ? value : null;
  } catch (err) {
    if ((err as { name?: string }).name === 'WorkflowNotFoundError') return undefined;
    throw err;
  }
}
