/** Live figures of a running workflow, read from its pending step activity's heartbeat. */
import { type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { type StepHeartbeat } from '../model/workflow.js';
import { type StepLiveStatus } from './types.js';

/** The running step activity's heartbeat, or null when no step runs or it has not heartbeated yet. */
export async function runningStep(handle: WorkflowHandle): Promise<StepLiveStatus | null> {
  const { raw } = await handle.describe();
  const pending = raw.pendingActivities?.find((a) => a.activityType?.name === 'runStep');
  const payload = pending?.heartbeatDetails?.payloads?.[0];
  if (!pending || !payload) return null;
  const hb = defaultPayloadConverter.fromPayload<Partial<StepHeartbeat>>(payload);
  return { messages: hb.messages ?? 0, spendUsd: hb.spendUsd ?? 0, attempt: pending.attempt ?? 1 };
}
