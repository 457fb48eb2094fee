/**
 * Temporal alone, for the pipeline bench: a worker with the real workflows whose step activity runs
 * the CLI as the real step does (the same request, partial messages, a heartbeat per batch of
 * lines) and does nothing else: no lease, no ledger, no messages, no transcript. A pipeline through
 * it costs what Temporal costs; the real worker's pipeline costs that plus the store's and the
 * step's own work.
 */
import { Context } from '@temporalio/activity';
import { type NativeConnection, Worker } from '@temporalio/worker';
import { HEARTBEAT_FLUSH_MS } from '../src/model/defaults.js';
import { stepRunRequest } from '../src/model/step-modes.js';
import { type StepInput, type StepResult } from '../src/model/workflow.js';
import { runClaude } from '../src/runner/run.js';
import { WORKFLOWS_PATH } from '../src/worker/worker.js';

export interface BareWorkerOptions {
  connection: NativeConnection;
  taskQueue: string;
  configDir: string;
  workDir: string;
  claudeEnv: Record<string, string>;
  /** Steps at once, as the real worker's `maxConcurrentSteps`. */
  maxConcurrentSteps: number;
}

/** A running bare worker; `claudeMs` collects each step's process time (spawn to exit), in order. */
export async function startBareWorker(options: BareWorkerOptions) {
  const claudeMs: number[] = [];
  async function runStep(input: StepInput): Promise<StepResult> {
    const ctx = Context.current();
    const outcome = await runClaude(stepRunRequest(input, options.workDir), {
      configDir: options.configDir,
      workDir: options.workDir,
      baseEnv: options.claudeEnv,
      partialMessages: true,
      signal: ctx.cancellationSignal,
      onBatch: (batch) => ctx.heartbeat({ lines: batch.length }),
    });
    claudeMs.push(outcome.durationMs);
    return {
      stepKey: input.stepKey,
      sessionId: outcome.sessionId ?? '',
      status: 'success',
      failureType: null,
      costUsd: 0,
      totalCostUsd: 0,
      numTurns: 0,
      messageCount: 0,
      summary: null,
      resultText: null,
      attempt: ctx.info.attempt,
      fromRecord: false,
    };
  }
  const worker = await Worker.create({
    connection: options.connection,
    taskQueue: options.taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: { runStep },
    maxConcurrentActivityTaskExecutions: options.maxConcurrentSteps,
    maxHeartbeatThrottleInterval: HEARTBEAT_FLUSH_MS,
  });
  const running = worker.run();
  return {
    taskQueue: options.taskQueue,
    claudeMs,
    stop: async () => {
      worker.shutdown();
      await running;
    },
  };
}
