/** Live figures of a running workflow, read from its pending step activity's heartbeat. */
import { type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { type StepHeartbeat } from '../model/workflow.js';
import { type StepLiveStatus } from './types.js';

/** The running step activity's heartbeat, or null when no step runs or it has not heartbeated yet. */
export async function runningStep(handle: WorkflowHandle): Promise<StepLiveStatus | null> {
  return (await runningSteps(handle))[0] ?? null;
}

/** The heartbeats of every step activity running now (a fan-out runs several). */
export async function runningSteps(handle: WorkflowHandle): Promise<StepLiveStatus[]> {
  const { raw } = await handle.describe();
  const out: StepLiveStatus[] = [];
  for (const pending of raw.pendingActivities ?? []) {
    const payload = pending.activityType?.name === 'runStep' ? pending.heartbeatDetails?.payloads?.[0] : undefined;
    if (!payload) continue;
    const hb = defaultPayloadConverter.fromPayload<Partial<StepHeartbeat>>(payload);
    out.push({ messages: hb.messages ?? 0, spendUsd: hb.spendUsd ?? 0, attempt: pending.attempt ?? 1 });
  }
  return out;
}
