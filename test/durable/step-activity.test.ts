import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { createClaudeRuntime } from '../../src/activities/claude-runtime.js';
import { type StepInput, type StepResult } from '../../src/model/workflow.js';
import { promptCounts, setupDurable, type Durable } from '../helpers/durable.js';

let d: Durable;
beforeAll(async () => {
  d = await setupDurable();
});
afterAll(async () => {
  await d?.close();
});

async function activities() {
  const config = await d.workerConfig();
  await mkdir(config.workDir, { recursive: true });
  const claude = createClaudeRuntime({ configDir: config.configDir, workDir: config.workDir, baseEnv: config.claudeEnv, maxRetries: 0 });
  return createActivities({ store: d.store, claude });
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
