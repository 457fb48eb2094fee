import { bundleWorkflowCode } from '@temporalio/worker';
import { expect, test } from 'vitest';
import { WORKFLOWS_PATH } from '../../src/worker/worker.js';
import * as workflows from '../../src/workflows/index.js';

test('the workflows bundle for the Temporal sandbox without Node built-ins', async () => {
  const warnings: string[] = [];
  const logger = { log() {}, trace() {}, debug() {}, info() {}, warn: (m: string) => warnings.push(m), error: (m: string) => warnings.push(m) };
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger });
  expect(bundle.code.length).toBeGreaterThan(1000);
  expect(warnings).toEqual([]);
  expect(Object.keys(workflows).sort()).toEqual(['cleanupSessions', 'conversation', 'exploreAlternatives', 'sessionPipeline']);
});
