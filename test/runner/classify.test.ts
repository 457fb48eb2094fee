import { describe, expect, it } from 'vitest';
import { RETRYABLE } from '../../src/model/failures.js';
import { classifyRun, resultsOf, type RunFacts } from '../../src/runner/index.js';
import { sample, sampleText } from './helpers.js';

function facts(name: string, extra: Partial<RunFacts> = {}): RunFacts {
  const results = resultsOf(sample(name));
  const last = results[results.length - 1];
  return { exitCode: 1, signal: null, stderrTail: '', timedOut: false, cancelled: false, ...(last ? { result: last } : {}), ...extra };
}

describe('classifyRun', () => {
  it('success', () => {
    expect(classifyRun(facts('01-query-success.ndjson', { exitCode: 0 }))).toEqual({ status: 'success' });
  });

  it('error_max_turns is status max_turns with MaxTurnsReached', () => {
    const c = classifyRun(facts('05-error-max-turns.ndjson'));
    expect(c.status).toBe('max_turns');
    expect(c.failure?.type).toBe('MaxTurnsReached');
    expect(c.failure?.retryable).toBe(false);
    expect(c.failure?.evidence.errors).toEqual(['Reached maximum number of turns (1)']);
  });

  it('error_max_budget_usd is status budget_exceeded with BudgetExceeded', () => {
    const text = sampleText('01-query-success.ndjson').replace('"subtype":"success"', '"subtype":"error_max_budget_usd","errors":["Reached maximum budget ($0.01)"]').replace('"is_error":false', '"is_error":true');
    const result = resultsOf(sample('01-query-success.ndjson'))[0];
    expect(result).toBeDefined();
    const c = classifyRun({ exitCode: 1, signal: null, stderrTail: '', timedOut: false, cancelled: false, result: JSON.parse(text.trim().split('\n').at(-1) ?? '{}') });
    expect(c.status).toBe('budget_exceeded');
    expect(c.failure?.type).toBe('BudgetExceeded');
  });

  it('unknown session is SessionNotFound with the errors', () => {
    const c = classifyRun(facts('06-unknown-session.ndjson', { stderrTail: sampleText('06-unknown-session.stderr') }));
    expect(c.failure?.type).toBe('SessionNotFound');
    expect(c.failure?.evidence.errors?.[0]).toMatch(/No conversation found/);
    expect(c.failure?.evidence.exitCode).toBe(1);
  });

  it('API errors by status', () => {
    expect(classifyRun(facts('07-api-500-after-retries.ndjson')).failure).toMatchObject({ type: 'ServerError', retryable: true, evidence: { status: 500 } });
    expect(classifyRun(facts('08-api-401.ndjson')).failure).toMatchObject({ type: 'ClaudeAuthError', retryable: false, evidence: { status: 401 } });
    const with403 = facts('08-api-401.ndjson');
    expect(classifyRun({ ...with403, result: { ...with403.result!, api_error_status: 403 } }).failure?.type).toBe('ClaudeAuthError');
    for (const [status, type] of [[400, 'ClaudeBadRequest'], [429, 'RateLimited'], [529, 'Overloaded'], [503, 'ServerError']] as const) {
      const f = facts('07-api-500-after-retries.ndjson');
      const c = classifyRun({ ...f, result: { ...f.result!, api_error_status: status } });
      expect(c.failure?.type).toBe(type);
      expect(c.failure?.retryable).toBe(RETRYABLE[type]);
    }
  });

  it('no result: in-use id, signal, truncated tail, CLI usage error, plain exit', () => {
    const none = { exitCode: 1, signal: null, stderrTail: '', timedOut: false, cancelled: false };
    expect(classifyRun({ ...none, stderrTail: 'Error: Session ID 1111 is already in use.\n' }).failure?.type).toBe('SessionIdInUse');
    expect(classifyRun({ ...none, exitCode: null, signal: 'SIGKILL' }).failure?.type).toBe('Crashed');
    expect(classifyRun({ ...none, truncatedTail: true }).failure?.type).toBe('Crashed');
    expect(classifyRun({ ...none, stderrTail: '--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons' }).failure?.type).toBe('InvalidInput');
    expect(classifyRun({ ...none, lastRetryStatus: 529 }).failure).toMatchObject({ type: 'Overloaded', evidence: { status: 529 } });
    expect(classifyRun(none).failure).toMatchObject({ type: 'Crashed', retryable: true, evidence: { exitCode: 1 } });
  });

  it('cancel, timeout and malformed output win over what the CLI said', () => {
    expect(classifyRun(facts('01-query-success.ndjson', { cancelled: true })).failure?.type).toBe('Cancelled');
    expect(classifyRun(facts('01-query-success.ndjson', { timedOut: true })).failure?.type).toBe('TimedOut');
    const malformed = { type: 'malformed' as const, reason: 'too_long' as const, error: 'x', raw: '', lineNumber: 2, bytes: 9 };
    expect(classifyRun(facts('01-query-success.ndjson', { malformed })).failure?.type).toBe('MalformedOutput');
    expect(classifyRun(facts('01-query-success.ndjson', { sessionMismatch: { init: 'a', result: 'b' } })).failure?.type).toBe('MalformedOutput');
  });
});
