import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  patched,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import {
  closeConversationSignal,
  CONVERSATION_RECORD_PATCH,
  conversationSendUpdate,
  conversationStateQuery,
  conversationStoreActivities,
  stepActivities,
} from './definitions.js';
import { addUsd } from '../model/formats.js';
import { type ConversationCarry, type ConversationInput, type ConversationReply, type ConversationState } from '../model/workflow.js';

/**
 * The conversation manager: one long-lived workflow per key (a user
 * id). Each `send` update runs one step in the key's session, in arrival
 * order, and returns the reply. It waits for days without holding a worker
 * slot and continues-as-new when history grows, keeping its session.
 */
export async function conversation(input: ConversationInput): Promise<ConversationCarry> {
  const { runStep } = stepActivities(input.tuning);
  const state: ConversationCarry = input.state ?? { conversationId: uuid4(), sessionId: null, turns: 0, totalCostUsd: 0, generation: 0 };
  // Histories recorded before the store kept conversations neither read nor write the key's record.
  const keepsRecord = patched(CONVERSATION_RECORD_PATCH);
  let loaded = !(keepsRecord && !input.state);
  let closed = false;
  // Tickets give arrival order: a handler runs when its ticket is the oldest one waiting.
  const queue: number[] = [];
  let nextTicket = 0;

  setHandler(conversationStateQuery, (): ConversationState => ({ key: input.key, ...state, pending: queue.length, closed }));
  setHandler(closeConversationSignal, () => {
    closed = true;
  });
  setHandler(
    conversationSendUpdate,
    async ({ prompt, fork }): Promise<ConversationReply> => {
      const ticket = nextTicket++;
      queue.push(ticket);
      try {
        await condition(() => loaded && queue[0] === ticket);
        const turn = state.turns + 1;
        const { workflowId } = workflowInfo();
        // `fork` branches into a new session of the current one; the conversation continues there.
        const mode = !state.sessionId ? 'query' : fork ? 'fork' : 'resume';
        const result = await runStep({
          // The key plus the turn number is stable across continue-as-new generations.
          stepKey: `${workflowId}/${state.conversationId}/turn-${turn}`,
          mode,
          prompt,
          sessionId: state.sessionId ?? undefined,
          newSessionId: mode === 'resume' ? undefined : uuid4(),
          options: input.options,
          tags: input.tags,
          description: input.description ?? `Conversation ${input.key}`,
          scope: input.scope,
          origin: { pipeline: 'conversation', workflowId, step: `turn-${turn}` },
          ...(keepsRecord ? { conversation: { key: input.key, exchange: turn } } : {}),
        });
        state.sessionId = result.sessionId;
        state.turns = turn;
        state.totalCostUsd = addUsd(state.totalCostUsd, result.totalCostUsd);
        return {
          sessionId: result.sessionId,
          turn,
          summary: result.summary,
          resultText: result.resultText,
          costUsd: result.totalCostUsd,
          status: result.status,
        };
      } finally {
        queue.shift();
      }
    },
    {
      validator: (arg) => {
        if (closed) throw ApplicationFailure.create({ type: 'InvalidInput', message: 'Conversation is closed' });
        if (typeof arg?.prompt !== 'string' || arg.prompt.trim() === '') {
          throw ApplicationFailure.create({ type: 'InvalidInput', message: 'Invalid prompt: must be a non-empty string' });
        }
      },
    },
  );

  if (!loaded) {
    // Handlers first (an update may come with the start); then the key's record: a conversation re-opened with
    // its key resumes the session the store holds (a new one only when asked).
    const record = await conversationStoreActivities.loadConversation({ key: input.key });
    if (record) {
      state.turns = record.exchanges;
      if (!input.newSession) state.sessionId = record.sessionId;
    }
    loaded = true;
  }

  const limit = input.continueAsNewAfterEvents ?? 10_000;
  const shouldRoll = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= limit;
  await condition(() => closed || (shouldRoll() && queue.length === 0));
  // Let a reply that is on its way finish before the run ends.
  await condition(allHandlersFinished);
  if (closed) return state;
  return await continueAsNew<typeof conversation>({ ...input, state: { ...state, generation: state.generation + 1 } });
}
