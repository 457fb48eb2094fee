/** Whether a process runs: a zombie (exited, never reaped) does not, whoever its parent is. */
import { spawn } from 'node:child_process';
import { expect, test } from 'vitest';
import { processRunning } from '../src/processes.js';
import { descendants } from '../src/runner/process-tree.js';
import { commOf } from './helpers/processes.js';
import { waitFor } from './helpers/durable.js';

test('a running process runs; a zombie and a pid that is gone do not', async () => {
  // `sleep 5` takes over the shell's pid and never waits for the short sleep it inherits: that one stays a zombie.
  const parent = spawn('sh', ['-c', 'sleep 0.1 & exec sleep 5'], { stdio: 'ignore' });
  try {
    const zombie = await waitFor('the short sleep to exit unreaped', () => descendants(parent.pid!).find((pid) => commOf(pid) === 'sleep' && !processRunning(pid)));
    expect(processRunning(parent.pid!)).toBe(true);
    expect(() => process.kill(zombie, 0)).not.toThrow();
    expect(processRunning(zombie)).toBe(false);
  } finally {
    parent.kill('SIGKILL');
  }
  await waitFor('the parent to be gone', () => !processRunning(parent.pid!));
  expect(processRunning(2 ** 22 + 1)).toBe(false);
});
