/**
 * One run per session at a time: two `continue`s in one scope and two `resume`s of one session,
 * started together, both run, one after the other, the second on top of the first's result.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { lastPromptsWith, setupDurable, waitFor, type Durable } from '../helpers/durable.js';

let d: Durable;
beforeAll(async () => {
  d = await setupDurable();
});
afterAll(async () => {
  await d?.close();
});

/** The user prompts of the session's stored conversation, in order. */
async function storedPrompts(sessionId: string): Promise<string[]> {
  const loaded = await d.store.loadSession(sessionId);
  if (!loaded.found) throw new Error(`session ${sessionId} not stored`);
  const prompts: string[] = [];
  for await (const m of loaded.session.messages()) {
    if (m.type !== 'assistant') continue;
    const text = (JSON.parse(m.raw) as { message?: { content?: { type: string; text?: string }[] } }).message?.content?.find((c) => c.type === 'text')?.text;
    if (text) prompts.push(text);
  }
  return prompts;
}

for (const mode of ['continue', 'resume'] as const) {
  test(`two concurrent ${mode}s of one session both run, in order, the second on top of the first`, async () => {
    const w = await d.startWorker();
    const scope = await mkdtemp(path.join(os.tmpdir(), 'ct-concurrent-'));
    const first = await w.client.runPipeline({ steps: [{ mode: 'query', prompt: 'start here' }], scope });
    const sessionId = first.steps[0]!.sessionId!;
    const tag = `${mode}-${Date.now()}`;
    // The first is slow (6 s of reply), so the second surely starts while it runs, on a loaded machine too.
    const a = await w.client.startPipeline({ steps: [{ mode, prompt: `[[slow 300x20]] ${tag} A`, ...(mode === 'resume' ? { sessionId } : {}) }], scope });
    await waitFor('the first run to hold the session', async () => (await d.store.liveLease(sessionId)) !== null);
    const b = await w.client.startPipeline({ steps: [{ mode, prompt: `${tag} B`, ...(mode === 'resume' ? { sessionId } : {}) }], scope });
    // The second says it is waiting for the first.
    await waitFor('the second run to report waiting', async () => {
      const live = await b.liveProgress();
      return live.running?.waiting === true;
    });
    const [ra, rb] = await Promise.all([a.result(), b.result()]);
    expect(ra.steps[0]!.sessionId).toBe(sessionId);
    expect(rb.steps[0]!.sessionId).toBe(sessionId);
    // Both turns in the conversation, in order: B ran on top of A's transcript.
    expect(lastPromptsWith(d.stub, `${tag} B`)).toEqual(['start here', `[[slow 300x20]] ${tag} A`, `${tag} B`]);
    const replies = await storedPrompts(sessionId);
    expect(replies).toHaveLength(3);
    expect(replies[2]).toContain(`${tag} B`);
    const meta = (await d.store.getSession(sessionId))!;
    expect(meta.runCount).toBe(3);
    expect((await d.store.verify()).problems).toEqual([]);
  });
}

test('with failFast a run on a busy session fails with SessionBusy at once, writing nothing', async () => {
  const w = await d.startWorker();
  const first = await w.client.runPipeline({ steps: [{ mode: 'query', prompt: 'busy base' }] });
  const sessionId = first.steps[0]!.sessionId!;
  const a = await w.client.startPipeline({ steps: [{ mode: 'resume', sessionId, prompt: '[[slow 300x20]] long one' }] });
  await waitFor('the first run to hold the session', async () => (await d.store.liveLease(sessionId)) !== null);
  const b = await w.client.startPipeline({ steps: [{ mode: 'resume', sessionId, prompt: 'impatient' }], failFast: true });
  const err = await b.result().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect(JSON.stringify((err as WorkflowFailedError).cause)).toContain('SessionBusy');
  expect(await d.store.runsOfStep(`${b.workflowId}/0`)).toEqual([]);
  await a.result();
  expect((await d.store.verify()).problems).toEqual([]);
});
