import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { createClaudeRuntime } from '../../src/activities/claude-runtime.js';
import { transcriptPath } from '../../src/activities/transcripts.js';
import { stepRunId, type StepHeartbeat, type StepInput, type StepResult } from '../../src/model/workflow.js';
import { promptCounts, setupDurable, type Durable } from '../helpers/durable.js';

let d: Durable;
beforeAll(async () => {
  d = await setupDurable();
});
afterAll(async () => {
  await d?.close();
});

async function activities(heartbeatIntervalMs?: number) {
  const config = await d.workerConfig();
  await mkdir(config.workDir, { recursive: true });
  const claude = createClaudeRuntime({ configDir: config.configDir, workDir: config.workDir, baseEnv: config.claudeEnv, maxRetries: 0 });
  return { ...createActivities({ store: d.store, claude, heartbeatIntervalMs }), config };
}

/** An activity environment of this attempt, and the heartbeats its activity sends. */
function environment(attempt: number) {
  const env = new MockActivityEnvironment({ attempt });
  const beats: unknown[] = [];
  // Copied as sent: the step heartbeats one progress object it keeps updating.
  env.on('heartbeat', (details: unknown) => beats.push(structuredClone(details)));
  return { env, beats };
}

test('a step already recorded complete returns its recorded outcome without running claude again', async () => {
  const { runStep } = await activities();
  const marker = `once-${randomUUID()}`;
  const input: StepInput = { stepKey: `wf-${randomUUID()}/0`, mode: 'query', prompt: `${marker} run me once`, newSessionId: randomUUID() };

  const first: StepResult = await new MockActivityEnvironment({ attempt: 1 }).run(runStep, input);
  // The worker died after recording but before Temporal heard of the completion: attempt 2 comes.
  const second: StepResult = await new MockActivityEnvironment({ attempt: 2 }).run(runStep, input);

  expect(first.fromRecord).toBe(false);
  expect(second).toEqual({ ...first, fromRecord: true });
  expect(promptCounts(d.stub, marker)).toEqual([1]);
  expect(await d.store.runsOfStep(input.stepKey)).toHaveLength(1);
});

test('an invalid step input is rejected before anything is written', async () => {
  const { runStep } = await activities();
  const stepKey = `wf-${randomUUID()}/0`;
  const newSessionId = randomUUID();
  const err = await new MockActivityEnvironment()
    .run(runStep, { stepKey, mode: 'query', prompt: 'x', newSessionId, options: { maxTurns: -2 } } satisfies StepInput)
    .catch((e: unknown) => e);
  expect(err).toMatchObject({ type: 'InvalidInput' });
  expect(String((err as Error).message)).toMatch(/maxTurns/);
  expect(await d.store.getSession(newSessionId)).toBeNull();
  expect(await d.store.runsOfStep(stepKey)).toEqual([]);
});

test("a new session's id left on this machine by an earlier attempt is free before the CLI starts, however long the step prepares", async () => {
  const { runStep, config } = await activities();
  const parent: StepResult = await new MockActivityEnvironment().run(runStep, { stepKey: `wf-${randomUUID()}/0`, mode: 'query', prompt: 'the parent', newSessionId: randomUUID() } satisfies StepInput);
  // What an earlier attempt of the fork left: the CLI refuses a --session-id whose transcript exists, at start-up.
  const forkId = randomUUID();
  const leftover = transcriptPath(config.configDir, config.workDir, forkId);
  await mkdir(path.dirname(leftover), { recursive: true });
  await writeFile(leftover, `${JSON.stringify({ type: 'user', sessionId: forkId, message: { role: 'user', content: 'earlier attempt' } })}\n`);
  // The fork reads its parent only while no run holds it: another run holds it for a second, longer than the CLI's start-up.
  const other = await d.store.tryAcquireLease({ sessionId: parent.sessionId!, holder: `other-${randomUUID()}`, stepKey: null, ttlMs: 60_000 });
  if (!other.acquired) throw new Error('the parent should be free');
  const released = new Promise((r) => setTimeout(r, 1_000)).then(() => d.store.releaseLease(other.lease));
  const fork: StepResult = await new MockActivityEnvironment().run(runStep, {
    stepKey: `wf-${randomUUID()}/1`,
    mode: 'fork',
    sessionId: parent.sessionId!,
    newSessionId: forkId,
    prompt: 'the fork',
  } satisfies StepInput);
  await released;
  expect(fork).toMatchObject({ sessionId: forkId, status: 'success' });
  expect((await d.store.getSession(forkId))?.lineage.parentSessionId).toBe(parent.sessionId);
});

test("a step's first heartbeat waits for the timer or its first output, unless it replaces an earlier attempt's figures", async () => {
  // No timer heartbeat within this test's steps: one with nothing streamed yet is the claim's.
  const { runStep } = await activities(600_000);
  const claimed = (beats: unknown[]) => (beats as StepHeartbeat[]).filter((b) => b.messages === 0 && b.requests === 0);
  const first = environment(1);
  await first.env.run(runStep, { stepKey: `wf-${randomUUID()}/0`, mode: 'query', prompt: 'a first attempt', newSessionId: randomUUID() } satisfies StepInput);
  expect(first.beats.length).toBeGreaterThan(0);
  expect(claimed(first.beats)).toEqual([]);

  const stepKey = `wf-${randomUUID()}/0`;
  const retry = environment(2);
  await retry.env.run(runStep, { stepKey, mode: 'query', prompt: 'a second attempt', newSessionId: randomUUID() } satisfies StepInput);
  expect(claimed(retry.beats)).toHaveLength(1);
  expect(retry.beats[0]).toMatchObject({ runId: stepRunId(stepKey, 2), messages: 0, spendUsd: 0, waitingFor: null, failure: null });
});
