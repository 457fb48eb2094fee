/**
 * No orphans: a `claude` child never outlives the process that started it,
 * SIGKILL included.
 *
 * A parent-death signal (`PR_SET_PDEATHSIG`, `setpriv --pdeathsig`) is not
 * reliable: it fires when the spawning *thread* exits, and on some kernels and
 * sandboxes not at all (it did not fire on our CI machine). So the child gets a
 * lifeline instead: an extra pipe (fd 3) whose other end only this process
 * holds. A small watcher in the child's process group blocks reading it; when
 * this process dies, however it dies, the kernel closes its end, the watcher
 * reads EOF and SIGKILLs the whole group (`kill -9 0`). Every process but the
 * watcher has fd 3 closed, or EOF would never come. After a normal exit the
 * runner closes its end itself, which sweeps any straggler of the group.
 *
 * Platforms: any POSIX system with `/bin/sh` (Linux, macOS, the BSDs) works
 * this way. On Windows there is no process group to kill this way; there a
 * Job Object with `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE` does the same, and the
 * runner starts the binary directly (no lifeline).
 */

/** The watcher: reads fd 3 until EOF, then kills its own process group; claude runs with fd 3 closed. */
const WRAPPER = '( while read -r _; do :; done; kill -9 0 ) <&3 >/dev/null 2>&1 & exec 3<&-; exec "$@"';

export interface LifelineSpawn {
  file: string;
  args: string[];
  /** Whether the spawn needs the extra pipe at fd 3. */
  lifeline: boolean;
}

/** The command that runs `binary args` under a lifeline (directly where there is none). */
export function withLifeline(binary: string, args: readonly string[], platform: NodeJS.Platform = process.platform): LifelineSpawn {
  if (platform === 'win32') return { file: binary, args: [...args], lifeline: false };
  return { file: '/bin/sh', args: ['-c', WRAPPER, 'claude-lifeline', binary, ...args], lifeline: true };
}
