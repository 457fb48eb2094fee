import {
  ApplicationFailure,
  continueAsNew,
  CancellationScope,
  patched,
  isCancellation,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { type ClaudeOptions } from '../model/run.js';
import {
  COST_SEARCH_ATTRIBUTE,
  progressQuery,
  SETTLE_STEP_PATCH,
  settleActivities,
  stepActivities,
  storeActivities,
  TAGS_SEARCH_ATTRIBUTE,
} from './definitions.js';
import { addUsd } from '../model/formats.js';
import { createsSession, pipelineStepsIssue, startsFromSession, stepName } from '../model/step-modes.js';
import { failureSessionIdOf, failureTypeOf } from '../model/causes.js';
import { PIPELINE_STEPS_PER_RUN } from '../model/defaults.js';
import { type PipelineInput, type PipelineProgress, type PipelineResult, type PipelineStep, type StepReport } from '../model/workflow.js';

/**
 * Ordered session steps (query, continue, resume, fork) as one durable
 * pipeline, for multi-step work. Each step runs as one activity;
 * the workflow keeps only ids, counts and costs.
 */
export async function sessionPipeline(input: PipelineInput): Promise<PipelineResult> {
  validatePipeline(input);
  const { runStep } = stepActivities(input.tuning);
  const info = workflowInfo();
  const name = input.name ?? 'pipeline';
  // After a continue-as-new the reports so far come along; the steps before `carry.next` are done.
  const carry = input.carry;
  const steps: StepReport[] = carry?.steps ?? input.steps.map((s, index) => ({
    index,
    name: stepName(s, index),
    mode: s.mode,
    state: 'pending',
    sessionId: null,
    status: null,
    failureType: null,
    costUsd: 0,
    numTurns: 0,
    messageCount: 0,
    summary: null,
  }));
  const progress: PipelineProgress = {
    name,
    status: 'running',
    stepsDone: carry?.stepsDone ?? 0,
    stepsTotal: steps.length,
    currentStep: null,
    totalCostUsd: carry?.totalCostUsd ?? 0,
    budgetUsd: input.budgetUsd ?? null,
    steps,
    stoppedReason: null,
  };
  setHandler(progressQuery, () => progress);
  const searchable = info.typedSearchAttributes.get(TAGS_SEARCH_ATTRIBUTE) !== undefined;

  const first = carry?.next ?? 0;
  const perRun = input.tuning?.continueAsNewAfterSteps ?? PIPELINE_STEPS_PER_RUN;
  for (const [index, step] of input.steps.entries()) {
    if (index < first) continue;
    // A long pipeline goes on in a fresh run, so no run's history grows past a bounded number of steps.
    // Only pipelines longer than `perRun` steps get here: histories of shorter ones are unchanged.
    if (index - first >= perRun) {
      return await continueAsNew<typeof sessionPipeline>({
        ...input,
        carry: { next: index, steps, stepsDone: progress.stepsDone, totalCostUsd: progress.totalCostUsd },
      });
    }
    const report = steps[index]!;
    const remaining = input.budgetUsd === undefined ? undefined : addUsd(input.budgetUsd, -progress.totalCostUsd);
    if (remaining !== undefined && remaining <= 0) {
      return finish(progress, 'stopped', `budget of $${input.budgetUsd} spent before step ${report.name}`);
    }
    const options: ClaudeOptions = { ...input.defaults, ...step.options };
    if (remaining !== undefined) options.maxBudgetUsd = Math.min(options.maxBudgetUsd ?? Infinity, remaining);

    progress.currentStep = report.name;
    report.state = 'running';
    try {
      const stepKey = `${info.workflowId}/${index}`;
      let mode = step.mode;
      let sourceId = step.sessionId ?? sourceOf(step, index, input.steps, steps);
      if (mode === 'continue') {
        // Resolved once: the id is in history, so every retry and replay uses the same session.
        sourceId = await storeActivities.resolveContinueSession({ scope: input.scope ?? null });
        mode = 'resume';
      }
      const newSessionId = createsSession(mode) ? uuid4() : undefined;
      const result = await runStep({
        stepKey,
        mode,
        prompt: step.prompt,
        sessionId: startsFromSession(mode) ? sourceId ?? undefined : undefined,
        newSessionId,
        options,
        tags: input.tags,
        description: input.description,
        scope: input.scope,
        origin: { pipeline: name, workflowId: info.workflowId, step: report.name },
        ...(input.failFast ? { failFast: true } : {}),
      });
      Object.assign(report, {
        state: 'done',
        sessionId: result.sessionId,
        status: result.status,
        failureType: result.failureType,
        costUsd: result.totalCostUsd,
        numTurns: result.numTurns,
        messageCount: result.messageCount,
        summary: result.summary,
      } satisfies Partial<StepReport>);
      progress.totalCostUsd = addUsd(progress.totalCostUsd, result.totalCostUsd);
      progress.stepsDone += 1;
      if (searchable) upsertSearchAttributes([{ key: COST_SEARCH_ATTRIBUTE, value: progress.totalCostUsd }]);

      if (result.status !== 'success' && (step.onLimit ?? 'stop') === 'stop') {
        return finish(progress, 'stopped', `step ${report.name} ended with ${result.status}`);
      }
    } catch (err) {
      if (isCancellation(err)) {
        // Only the queryable progress changes here (no command), so recorded histories replay unchanged.
        report.state = 'cancelled';
        report.failureType = 'Cancelled';
        finish(progress, 'cancelled', `cancelled during step ${report.name}`);
        throw err;
      }
      report.state = 'failed';
      report.failureType = failureTypeOf(err);
      // The session the failed step ran in, when it was written (a step refused up front writes none).
      report.sessionId = failureSessionIdOf(err);
      // No attempt follows: settle what the step's attempts left behind before the workflow closes
      // (`patched`: histories recorded before this replay without it).
      if (patched(SETTLE_STEP_PATCH)) {
        await CancellationScope.nonCancellable(() => settleActivities.settleStep({ stepKey: `${info.workflowId}/${index}` }));
      }
      finish(progress, 'failed', `step ${report.name} failed: ${report.failureType ?? 'unknown failure'}`);
      throw ApplicationFailure.create({
        type: report.failureType ?? 'Crashed',
        message: `Pipeline ${name} failed at step ${report.name}`,
        nonRetryable: true,
        cause: err instanceof Error ? err : undefined,
        details: [{ stepsDone: progress.stepsDone, totalCostUsd: progress.totalCostUsd, failedStep: report.name }],
      });
    }
  }
  return finish(progress, 'completed', null);
}

function finish(progress: PipelineProgress, status: PipelineProgress['status'], reason: string | null): PipelineResult {
  progress.status = status;
  progress.currentStep = null;
  progress.stoppedReason = reason;
  for (const s of progress.steps) if (s.state === 'pending') s.state = 'skipped';
  return progress;
}

/** The session a resume or fork starts from: `from`, else the previous step's. */
function sourceOf(step: PipelineStep, index: number, all: PipelineStep[], reports: StepReport[]): string | null {
  if (!startsFromSession(step.mode)) return null;
  const from =
    step.from === undefined ? index - 1 : typeof step.from === 'number' ? step.from : all.findIndex((s, i) => stepName(s, i) === step.from);
  return reports[from]?.sessionId ?? null;
}

/** The steps' shape and mode rules, for a start that bypassed the client (which checks the full schema). */
function validatePipeline(input: PipelineInput): void {
  const bad = (field: string, problem: string) =>
    ApplicationFailure.create({ type: 'InvalidInput', message: `Invalid ${field}: ${problem}`, nonRetryable: true });
  if (!Array.isArray(input.steps) || input.steps.length === 0) throw bad('steps', 'at least one step is required');
  const issue = pipelineStepsIssue(input.steps);
  if (issue) throw bad(issue.field, issue.problem);
  if (input.budgetUsd !== undefined && !(Number.isFinite(input.budgetUsd) && input.budgetUsd > 0)) {
    throw bad('budgetUsd', 'must be a positive number');
  }
}
