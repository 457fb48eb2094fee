import { preflightRun } from '../runner/preflight.js';
import { runClaude, type RunnerConfig } from '../runner/run.js';
import { type ClaudeRuntime } from './index.js';

/** The step activity's view of the runner: `runClaude` with this worker's configuration. */
export function createClaudeRuntime(config: RunnerConfig & { workDir: string }): ClaudeRuntime {
  return {
    configDir: config.configDir,
    workDir: config.workDir,
    check: (request, cwd) => preflightRun(request, cwd),
    run: (request, hooks) =>
      runClaude(request, {
        // The step estimates a lost attempt's spend from the per-request token counts.
        partialMessages: true,
        ...config,
        configDir: hooks.configDir,
        signal: hooks.signal,
        ...(hooks.promptAfter ? { promptAfter: hooks.promptAfter } : {}),
        ...(hooks.onSpawn ? { onSpawn: hooks.onSpawn } : {}),
        onBatch: (batch) =>
          hooks.onBatch(
            batch.map((line) => ({
              seq: line.lineNumber,
              type: line.type,
              raw: line.raw,
              data: 'data' in line ? (line.data as Record<string, unknown>) : {},
            })),
          ),
      }),
  };
}
