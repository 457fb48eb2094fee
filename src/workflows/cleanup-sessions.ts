import { cleanupActivities } from './definitions.js';
import { type CleanupInput, type CleanupWorkflowResult } from '../model/workflow.js';

/** Deletes old sessions in heartbeated batches; run by the cleanup Schedule. */
export async function cleanupSessions(input: CleanupInput = {}): Promise<CleanupWorkflowResult> {
  return await cleanupActivities.cleanupSessions(input);
}
