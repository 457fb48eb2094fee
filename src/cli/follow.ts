/** Following a run from a command: the client's live operations on this command's connections. */
import type { CancelOutcome, LiveDeps } from '../client/index.js';
import { type Context } from './context.js';
import { type FollowOptions } from './progress.js';

/** The live operations' dependencies; without `needStore`, a store that does not answer is left out (spend goes without). */
export async function liveDeps(c: Context, options: { needStore?: boolean } = {}): Promise<LiveDeps> {
  const client = await c.temporal();
  const store = options.needStore ? await c.store() : await c.store().catch(() => undefined);
  return { temporal: client.temporal, taskQueue: client.taskQueue, store };
}

/** Ctrl-C detaches (twice: cancels and waits), messages on request. */
export async function followOptions(c: Context, flags: { cancelOnInterrupt?: boolean; messages?: boolean }): Promise<FollowOptions> {
  return {
    uiUrl: c.config.stack?.temporalUiUrl,
    cancelOnInterrupt: Boolean(flags.cancelOnInterrupt),
    messages: flags.messages ? { store: await c.store() } : null,
    cancel: async (workflowId): Promise<CancelOutcome> => {
      const { cancelRun } = await import('../client/index.js');
      return await cancelRun(await liveDeps(c), workflowId);
    },
  };
}
