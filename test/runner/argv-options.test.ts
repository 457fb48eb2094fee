import { describe, expect, it } from 'vitest';
import { ClaudeTemporalError } from '../../src/model/failures.js';
import { DEFAULT_CONTINUE_PROMPT, buildArgs, effectivePrompt, validateRunRequest } from '../../src/runner/index.js';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const HEAD = ['-p', '--output-format=stream-json', '--verbose'];

describe('buildArgs', () => {
  it('the prompt is not in argv: it goes on stdin', () => {
    expect(buildArgs({ mode: 'query', prompt: 'hello; rm -rf / "$(x)"' })).toEqual(HEAD);
    expect(buildArgs({ mode: 'query', prompt: '--help' })).toEqual(HEAD);
    expect(effectivePrompt({ mode: 'query', prompt: '--help' })).toBe('--help');
  });

  it('modes', () => {
    expect(buildArgs({ mode: 'query', prompt: 'p', newSessionId: A })).toEqual([...HEAD, `--session-id=${A}`]);
    expect(buildArgs({ mode: 'resume', sessionId: A, prompt: 'p' })).toEqual([...HEAD, `--resume=${A}`]);
    expect(buildArgs({ mode: 'fork', sessionId: A, newSessionId: B, prompt: 'p' })).toEqual([...HEAD, `--resume=${A}`, '--fork-session', `--session-id=${B}`]);
    expect(buildArgs({ mode: 'continue', prompt: 'p' })).toEqual([...HEAD, '--continue']);
  });

  it('prompt-less continue and resume send the default prompt', () => {
    expect(effectivePrompt({ mode: 'continue' })).toBe(DEFAULT_CONTINUE_PROMPT);
    expect(effectivePrompt({ mode: 'resume', sessionId: A })).toBe(DEFAULT_CONTINUE_PROMPT);
  });

  it('every option, values as --flag=value, lists repeated', () => {
    const args = buildArgs({
      mode: 'query',
      prompt: 'p',
      model: 'sonnet',
      fallbackModel: 'haiku',
      maxTurns: 3,
      maxBudgetUsd: 0.5,
      allowedTools: ['Bash(git *)', 'Read'],
      disallowedTools: ['Write'],
      permissionMode: 'acceptEdits',
      systemPrompt: '-starts with a dash',
      appendSystemPrompt: 'more',
      mcpConfig: '{"mcpServers":{}}',
      addDirs: ['/tmp/a', '/tmp/b'],
      cwd: '/tmp',
      env: { X: '1' },
      timeoutMs: 1000,
    });
    expect(args).toEqual([
      ...HEAD,
      '--model=sonnet',
      '--fallback-model=haiku',
      '--max-turns=3',
      '--max-budget-usd=0.5',
      '--allowedTools=Bash(git *)',
      '--allowedTools=Read',
      '--disallowedTools=Write',
      '--permission-mode=acceptEdits',
      '--system-prompt=-starts with a dash',
      '--append-system-prompt=more',
      '--mcp-config={"mcpServers":{}}',
      '--add-dir=/tmp/a',
      '--add-dir=/tmp/b',
    ]);
  });
});

function fieldOf(input: unknown): string | undefined {
  try {
    validateRunRequest(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ClaudeTemporalError);
    const e = err as ClaudeTemporalError;
    expect(e.type).toBe('InvalidInput');
    expect(e.message).toContain(e.evidence.field ?? '');
    return e.evidence.field;
  }
  return undefined;
}

describe('validateRunRequest', () => {
  it('accepts good requests', () => {
    expect(validateRunRequest({ mode: 'query', prompt: 'hi' })).toEqual({ mode: 'query', prompt: 'hi' });
    expect(fieldOf({ mode: 'continue' })).toBeUndefined();
    expect(fieldOf({ mode: 'resume', sessionId: A })).toBeUndefined();
    expect(fieldOf({ mode: 'fork', sessionId: A, newSessionId: B, prompt: 'x', maxTurns: 2, maxBudgetUsd: 0.1, permissionMode: 'plan', env: { FOO: 'bar' } })).toBeUndefined();
  });

  it.each([
    ['mode', {}],
    ['mode', { mode: 'chat', prompt: 'x' }],
    ['prompt', { mode: 'query' }],
    ['prompt', { mode: 'fork', sessionId: A }],
    ['prompt', { mode: 'query', prompt: '' }],
    ['prompt', { mode: 'continue', prompt: '   ' }],
    ['prompt', { mode: 'query', prompt: 3 }],
    ['sessionId', { mode: 'resume' }],
    ['sessionId', { mode: 'fork', prompt: 'x' }],
    ['sessionId', { mode: 'resume', sessionId: 'not-a-uuid' }],
    ['sessionId', { mode: 'query', prompt: 'x', sessionId: A }],
    ['newSessionId', { mode: 'query', prompt: 'x', newSessionId: 'nope' }],
    ['newSessionId', { mode: 'resume', sessionId: A, newSessionId: B }],
    ['newSessionId', { mode: 'fork', prompt: 'x', sessionId: A, newSessionId: A }],
    ['maxTurns', { mode: 'query', prompt: 'x', maxTurns: 0 }],
    ['maxTurns', { mode: 'query', prompt: 'x', maxTurns: 1.5 }],
    ['maxTurns', { mode: 'query', prompt: 'x', maxTurns: '3' }],
    ['maxBudgetUsd', { mode: 'query', prompt: 'x', maxBudgetUsd: 0 }],
    ['maxBudgetUsd', { mode: 'query', prompt: 'x', maxBudgetUsd: Number.POSITIVE_INFINITY }],
    ['maxBudgetUsd', { mode: 'query', prompt: 'x', maxBudgetUsd: Number.NaN }],
    ['permissionMode', { mode: 'query', prompt: 'x', permissionMode: 'yolo' }],
    ['allowedTools', { mode: 'query', prompt: 'x', allowedTools: 'Bash' }],
    ['allowedTools.0', { mode: 'query', prompt: 'x', allowedTools: [''] }],
    ['disallowedTools.1', { mode: 'query', prompt: 'x', disallowedTools: ['a', 2] }],
    ['addDirs', { mode: 'query', prompt: 'x', addDirs: '/tmp' }],
    ['env.X', { mode: 'query', prompt: 'x', env: { X: 1 } }],
    ['env.BAD-NAME', { mode: 'query', prompt: 'x', env: { 'BAD-NAME': '1' } }],
    ['env.CLAUDE_CONFIG_DIR', { mode: 'query', prompt: 'x', env: { CLAUDE_CONFIG_DIR: '/x' } }],
    ['timeoutMs', { mode: 'query', prompt: 'x', timeoutMs: -1 }],
    ['timeoutMs', { mode: 'query', prompt: 'x', timeoutMs: 1.2 }],
    ['cwd', { mode: 'query', prompt: 'x', cwd: '' }],
    ['model', { mode: 'query', prompt: 'x', model: '' }],
    ['systemPrompt', { mode: 'query', prompt: 'x', systemPrompt: 5 }],
    ['bogus', { mode: 'query', prompt: 'x', bogus: true }],
    ['request', null],
    ['request', 'query'],
  ])('names %s', (field, input) => {
    expect(fieldOf(input)).toBe(field);
  });

  it('applies an env allowlist', () => {
    expect(() => validateRunRequest({ mode: 'query', prompt: 'x', env: { A: '1' } }, { envAllowlist: ['B'] })).toThrow(/env\.A/);
    expect(validateRunRequest({ mode: 'query', prompt: 'x', env: { B: '1' } }, { envAllowlist: ['B'] }).env).toEqual({ B: '1' });
  });
});
