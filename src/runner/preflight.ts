/**
 * What only the machine that runs `claude` can check, checked before anything
 * is spawned or written: the working directory exists here, the permission
 * mode is allowed for this user, and the binary is a `claude`.
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { invalidInput } from '../model/failures.js';
import { type RunRequest } from '../model/run.js';

/** Throws `InvalidInput` naming the field when this machine cannot run the request in `cwd`. */
export async function preflightRun(request: { permissionMode?: RunRequest['permissionMode'] }, cwd: string, field = 'cwd'): Promise<void> {
  const s = await stat(cwd).catch(() => undefined);
  if (!s?.isDirectory()) throw invalidInput(field, `is not a directory on the worker's machine: ${cwd}`);
  // The CLI refuses this mode as root only once it runs; refuse it first.
  if (request.permissionMode === 'bypassPermissions' && process.getuid?.() === 0) {
    throw invalidInput('permissionMode', 'bypassPermissions is refused when the worker runs as root');
  }
}

/**
 * Checks that `binary` runs and says it is Claude Code (`--version`); throws `InvalidInput`
 * naming `field` and the path otherwise. For a worker's start, so it never reports ready with a
 * binary that cannot run.
 */
export async function checkClaudeBinary(binary: string, field = 'CLAUDE_PATH'): Promise<string> {
  const output = await new Promise<string>((resolve) => {
    execFile(binary, ['--version'], { timeout: 30_000, env: { PATH: process.env.PATH ?? '' } }, (err, stdout) => {
      resolve(err ? `failed: ${(err as NodeJS.ErrnoException).code ?? err.message}` : stdout);
    });
  });
  if (!/Claude Code/.test(output)) {
    throw invalidInput(field, `${binary} is not a claude binary (\`--version\` ${output.startsWith('failed') ? output : `printed ${JSON.stringify(output.trim().slice(0, 80))}`})`);
  }
  return output.trim();
}
