import { ApplicationFailure, isCancellation, uuid4, workflowInfo } from '@temporalio/workflow';
import { stepActivities } from './definitions.js';
import { addUsd } from '../model/formats.js';
import { failureTypeOf, innermostMessage } from '../model/causes.js';
import { type BranchResult, type ExploreInput, type ExploreResult } from '../model/workflow.js';

/**
 * The fork fan-out: one session, N prompts, each forked into its own
 * new session in parallel (at most `concurrency` at once). A failing branch is
 * reported and does not fail the others; the base session is never changed.
 */
export async function exploreAlternatives(input: ExploreInput): Promise<ExploreResult> {
  if (!input.sessionId) throw invalid('sessionId', 'a session to fork is required');
  if (!Array.isArray(input.prompts) || input.prompts.length === 0) throw invalid('prompts', 'at least one prompt is required');
  const concurrency = input.concurrency ?? 3;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw invalid('concurrency', 'must be a positive integer');

  const { runStep } = stepActivities(input.tuning);
  const { workflowId } = workflowInfo();
  const branches: BranchResult[] = new Array(input.prompts.length);

  const runBranch = async (index: number): Promise<void> => {
    const prompt = input.prompts[index]!;
    try {
      const r = await runStep({
        stepKey: `${workflowId}/${index}`,
        mode: 'fork',
        prompt,
        sessionId: input.sessionId,
        newSessionId: uuid4(),
        options: input.options,
        tags: input.tags,
        description: input.description ?? prompt.slice(0, 100),
        scope: input.scope,
        origin: { pipeline: input.name ?? 'explore-alternatives', workflowId, step: `branch-${index + 1}` },
      });
      branches[index] = {
        prompt,
        status: 'completed',
        sessionId: r.sessionId,
        parentSessionId: input.sessionId,
        summary: r.summary,
        costUsd: r.totalCostUsd,
        failureType: r.failureType,
        error: null,
      };
    } catch (err) {
      if (isCancellation(err)) throw err;
      branches[index] = {
        prompt,
        status: 'failed',
        sessionId: null,
        parentSessionId: input.sessionId,
        summary: null,
        costUsd: 0,
        failureType: failureTypeOf(err),
        error: innermostMessage(err),
      };
    }
  };

  // A small pool: each lane takes the next prompt until none are left.
  let next = 0;
  const lane = async () => {
    while (next < input.prompts.length) await runBranch(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, input.prompts.length) }, lane));

  return {
    parentSessionId: input.sessionId,
    branches,
    totalCostUsd: addUsd(...branches.map((b) => b.costUsd)),
  };
}

function invalid(field: string, problem: string) {
  return ApplicationFailure.create({ type: 'InvalidInput', message: `Invalid ${field}: ${problem}`, nonRetryable: true });
}
