/**
 * The `claude` argv for a run. Pure. Values go as `--flag=value` so that a
 * value starting with `-` is never read as a flag, and list options repeat
 * their flag (the CLI's list options are variadic). The prompt is not in argv:
 * the runner writes {@link effectivePrompt} to the CLI's stdin (`-p` with no
 * prompt argument reads stdin to EOF), so the kernel's 128 KiB limit on one
 * argument does not apply. No shell is involved anywhere.
 */
import { DEFAULT_CONTINUE_PROMPT, type RunRequest } from '../model/run.js';

/** The prompt a request sends: its own, or {@link DEFAULT_CONTINUE_PROMPT} for a prompt-less continue or resume. */
export function effectivePrompt(request: RunRequest): string {
  return request.prompt ?? DEFAULT_CONTINUE_PROMPT;
}

export function buildArgs(request: RunRequest, options: { partialMessages?: boolean } = {}): string[] {
  const args = ['-p', '--output-format=stream-json', '--verbose'];
  if (options.partialMessages) args.push('--include-partial-messages');
  const value = (flag: string, v: string | number | undefined): void => {
    if (v !== undefined) args.push(`${flag}=${String(v)}`);
  };
  const list = (flag: string, values: readonly string[] | undefined): void => {
    for (const v of values ?? []) args.push(`${flag}=${v}`);
  };

  switch (request.mode) {
    case 'query':
      break;
    case 'continue':
      args.push('--continue');
      break;
    case 'resume':
      value('--resume', request.sessionId);
      break;
    case 'fork':
      value('--resume', request.sessionId);
      args.push('--fork-session');
      break;
  }
  value('--session-id', request.newSessionId);
  value('--model', request.model);
  value('--fallback-model', request.fallbackModel);
  value('--max-turns', request.maxTurns);
  value('--max-budget-usd', request.maxBudgetUsd);
  list('--allowedTools', request.allowedTools);
  list('--disallowedTools', request.disallowedTools);
  value('--permission-mode', request.permissionMode);
  value('--system-prompt', request.systemPrompt);
  value('--append-system-prompt', request.appendSystemPrompt);
  value('--mcp-config', request.mcpConfig);
  list('--add-dir', request.addDirs);
  return args;
}
