/**
 * Ctrl-C while the CLI follows a run. The run is a workflow: it goes on without this process. So the first
 * Ctrl-C detaches and says how to come back (`watch`) or stop it (`cancel`); a second one within a short
 * window, or the first under `--cancel-on-interrupt`, cancels the run and waits until it has stopped.
 */
export type Interruption = 'detach' | 'cancel';

/** How long after the first Ctrl-C a second one cancels instead of detaching. */
export const SECOND_INTERRUPT_WINDOW_MS = 2_000;

export interface InterruptOptions {
  /** The first Ctrl-C cancels; default false (it detaches). */
  cancelOnInterrupt?: boolean;
  /** Print a note for the user (above any progress line). */
  note(line: string): void;
}

export interface InterruptWatch {
  /** Settles on the user's decision; never settles when there is no Ctrl-C. */
  decided: Promise<Interruption>;
  dispose(): void;
}

/** The commands that re-attach to and cancel a run, exactly as a user types them. */
export function followCommands(workflowId: string): { watch: string; cancel: string } {
  const id = /^[A-Za-z0-9_.:@/-]+$/.test(workflowId) ? workflowId : `'${workflowId.replace(/'/g, `'\\''`)}'`;
  return { watch: `claude-temporal watch ${id}`, cancel: `claude-temporal cancel ${id}` };
}

export function watchInterrupts(workflowId: string, options: InterruptOptions): InterruptWatch {
  let resolve!: (i: Interruption) => void;
  const decided = new Promise<Interruption>((r) => (resolve = r));
  let count = 0;
  let timer: NodeJS.Timeout | undefined;
  const onSigint = () => {
    count += 1;
    if (count >= 2 || options.cancelOnInterrupt) {
      if (timer) clearTimeout(timer);
      options.note(`Cancelling ${workflowId} and waiting for it to stop…`);
      resolve('cancel');
      return;
    }
    const cmds = followCommands(workflowId);
    options.note(
      [
        `Detached: ${workflowId} goes on in the background.`,
        `  follow it: ${cmds.watch}`,
        `  cancel it: ${cmds.cancel}`,
        `Press Ctrl-C again within ${SECOND_INTERRUPT_WINDOW_MS / 1000} s to cancel it now.`,
      ].join('\n'),
    );
    timer = setTimeout(() => resolve('detach'), SECOND_INTERRUPT_WINDOW_MS);
  };
  process.on('SIGINT', onSigint);
  return {
    decided,
    dispose() {
      if (timer) clearTimeout(timer);
      process.off('SIGINT', onSigint);
    },
  };
}
