/**
 * Data for the console tests, made on the real stack: a two-step pipeline
 * with a tool call, a fork of it, a saved session whose tool result and text
 * hold markup (the XSS case), and a ledger entry of a lost attempt
 * (estimated spend). The console runs in this process on a free port.
 */
import { randomUUID } from 'node:crypto';
import { startConsole, type RunningConsole } from '../../src/console/server.js';
import { setupDurable, type Durable, type TestWorker } from '../helpers/durable.js';

export const XSS_TEXT = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">';

export interface ConsoleFixture {
  d: Durable;
  worker: TestWorker;
  console: RunningConsole;
  tag: string;
  pipelineWorkflowId: string;
  rootSessionId: string;
  forkSessionId: string;
  xssSessionId: string;
  close(): Promise<void>;
}

export async function setupConsoleFixture(options: { token?: string } = {}): Promise<ConsoleFixture> {
  const d = await setupDurable();
  const worker = await d.startWorker();
  const tag = `console-${randomUUID().slice(0, 8)}`;
  const pipelineWorkflowId = `console-pipeline-${randomUUID()}`;
  const result = await worker.client.runPipeline(
    {
      name: 'console-docs',
      tags: [tag, 'docs'],
      description: 'Docs for the console test',
      defaults: { maxTurns: 4, allowedTools: ['Bash'] },
      steps: [
        { name: 'analyze', mode: 'query', prompt: 'Analyze the code [[tool Bash {"command":"echo analysed"}]]' },
        { name: 'document', mode: 'resume', prompt: 'Now write **the docs** for it' },
      ],
    },
    { workflowId: pipelineWorkflowId },
  );
  if (result.status !== 'completed') throw new Error(`fixture pipeline ended ${result.status}: ${result.stoppedReason}`);
  const rootSessionId = result.steps[0]!.sessionId!;
  const fork = await worker.client.fork(rootSessionId, 'Try another approach', { tags: [tag, 'alternative'] });

  const xssSessionId = randomUUID();
  await d.store.saveSession(
    xssSessionId,
    [
      { type: 'user', message: { role: 'user', content: `Show me ${XSS_TEXT}` } },
      { type: 'assistant', message: { role: 'assistant', model: 'claude-test', content: [{ type: 'text', text: `Here: ${XSS_TEXT} and [a link](javascript:window.__xss=3)` }, { type: 'tool_use', id: 'toolu_x', name: 'Bash', input: { command: XSS_TEXT } }] } },
      { type: 'user', message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_x', content: XSS_TEXT }] } },
      { type: 'result', subtype: 'success', is_error: false, num_turns: 1, total_cost_usd: 0.001, result: 'done' },
    ],
    { tags: [tag, 'xss'], description: `XSS ${XSS_TEXT}` },
  );

  // A lost attempt's ledger entry: its spend was estimated from heartbeats (`estimated: true`, written as the worker writes it).
  const lost = await d.store.getRun(`${pipelineWorkflowId}/0#1`);
  if (lost) {
    const { runId: _r, usageByModel: _u, ...rest } = lost;
    await d.mongo
      .db(d.dbName)
      .collection<Record<string, unknown> & { _id: string }>('runs')
      .insertOne({ _id: `lost-${randomUUID()}`, ...rest, stepKey: null, attempt: 0, status: 'failed', failureType: 'Crashed', costUsd: 0.25, usageByModel: [], estimated: true });
  }

  const running = await startConsole(
    { store: d.store, client: worker.client, temporalUiUrl: 'http://127.0.0.1:8233', namespace: 'default', liveTaskQueue: worker.config.taskQueue },
    { port: 0, token: options.token ?? null, liveIntervalMs: 300 },
  );
  return {
    d,
    worker,
    console: running,
    tag,
    pipelineWorkflowId,
    rootSessionId,
    forkSessionId: fork.sessionId,
    xssSessionId,
    close: async () => {
      await running.close();
      await d.close();
    },
  };
}
