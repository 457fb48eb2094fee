/** The Temporal runtime's logging for workers started from the command line (`worker`, `demo`). */
import { DefaultLogger, Runtime } from '@temporalio/worker';

/** The SDK logs the workflow bundle build at INFO; keep WARN and above unless LOG_LEVEL says otherwise. */
export function quietRuntime(env: NodeJS.ProcessEnv): void {
  const level = (env.LOG_LEVEL?.toUpperCase() ?? 'WARN') as 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  try {
    Runtime.install({ logger: new DefaultLogger(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'].includes(level) ? level : 'WARN') });
  } catch {
    // Already installed (a second worker in this process): keep it.
  }
}
