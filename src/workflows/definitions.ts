/**
 * Signals, queries, updates, search attributes and activity proxies shared by
 * the workflows: one place, so the client and the workflows use the same typed
 * references.
 */
import {
  ActivityCancellationType,
  defineQuery,
  defineSignal,
  defineUpdate,
  proxyActivities,
} from '@temporalio/workflow';
import type { SearchAttributeType } from '@temporalio/common';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes.js';
import type { Activities } from '../activities/index.js';
import { DEFAULT_HEARTBEAT_TIMEOUT_MS, DEFAULT_STEP_TIMEOUT_MS } from '../model/defaults.js';
import { NON_RETRYABLE_TYPES } from '../model/failures.js';
import {
  type ConversationReply,
  type ConversationSendInput,
  type ConversationState,
  type PipelineProgress,
  type StepActivityTuning,
} from '../model/workflow.js';

export const progressQuery = defineQuery<PipelineProgress>('progress');

export const conversationSendUpdate = defineUpdate<ConversationReply, [ConversationSendInput]>('send');
export const conversationStateQuery = defineQuery<ConversationState>('conversationState');
export const closeConversationSignal = defineSignal('close');
/** The conversation keeps its key's session in the store (`patched`: older histories replay without it). */
export const CONVERSATION_RECORD_PATCH = 'conversation-record';

/** Registered on the dev server by the stack; on a real server, see the README. */
// Plain objects of @temporalio/common's key type: the workflow package does not re-export its factory.
const key = <T extends SearchAttributeType>(name: string, type: T): SearchAttributeKey<T> => ({ name, type });
export const TAGS_SEARCH_ATTRIBUTE = key('ClaudeTags', 'KEYWORD_LIST');
export const PIPELINE_SEARCH_ATTRIBUTE = key('ClaudePipeline', 'KEYWORD');
export const COST_SEARCH_ATTRIBUTE = key('ClaudeCostUsd', 'DOUBLE');

/** The step activity, tuned per workflow input. */
export function stepActivities(tuning: StepActivityTuning = {}) {
  return proxyActivities<Pick<Activities, 'runStep'>>({
    startToCloseTimeout: tuning.startToCloseTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS,
    heartbeatTimeout: tuning.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS,
    // Wait for the activity to kill its process before the workflow moves on.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: tuning.initialRetryIntervalMs ?? 1_000,
      backoffCoefficient: 2,
      maximumInterval: 60_000,
      maximumAttempts: tuning.maximumAttempts ?? 5,
      nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
    },
  });
}

/** A failed pipeline settles its step before it closes (`patched`: older histories replay without it). */
export const SETTLE_STEP_PATCH = 'settle-step';

/** Settles what a step that will not run again left behind (its attempts still `running`). */
export const settleActivities = proxyActivities<Pick<Activities, 'settleStep'>>({
  startToCloseTimeout: DEFAULT_STEP_TIMEOUT_MS,
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE_TYPES },
});

/** Short store look-ups and the cleanup run. */
export const storeActivities = proxyActivities<Pick<Activities, 'resolveContinueSession'>>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE_TYPES },
});

export const conversationStoreActivities = proxyActivities<Pick<Activities, 'loadConversation'>>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE_TYPES },
});

export const cleanupActivities = proxyActivities<Pick<Activities, 'cleanupSessions'>>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE_TYPES },
});
