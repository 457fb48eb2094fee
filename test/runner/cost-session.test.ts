import { describe, expect, it } from 'vitest';
import {
  calculateCost,
  countTurns,
  extractModel,
  extractSessionId,
  getSummary,
  parseText,
  resultsOf,
  runCost,
  type ParsedLine,
} from '../../src/runner/index.js';
import { sample, sampleText } from './helpers.js';

/** The same output as an older CLI prints it: no since-last-result figures, per-process totals. */
function asOlderCli(text: string, processTotal: number): ParsedLine[] {
  return parseText(
    text
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const obj = JSON.parse(line) as Record<string, unknown>;
        if (obj.type !== 'result') return line;
        delete obj.model_usage_since_last_result;
        obj.total_cost_usd = processTotal;
        return JSON.stringify(obj);
      })
      .join('\n'),
  );
}

describe('runCost', () => {
  it.each([
    ['01-query-success.ndjson', 0.0022, 0.0022],
    ['02-resume-success.ndjson', 0.0022, 0.0044],
    ['03-fork-success.ndjson', 0.0022, 0.0066],
    ['04-tool-use-two-turns.ndjson', 0.0045, 0.0045],
    ['07-api-500-after-retries.ndjson', 0, 0],
  ])('%s: run %d, cumulative %d', (name, run, cumulative) => {
    const cost = runCost(resultsOf(sample(name)));
    expect(cost.runCostUsd).toBeCloseTo(run, 10);
    expect(cost.cumulativeCostUsd).toBeCloseTo(cumulative, 10);
  });

  it('reports this run usage per model, not the lineage', () => {
    const cost = runCost(resultsOf(sample('02-resume-success.ndjson')));
    expect(cost.usageByModel).toEqual({
      'claude-sonnet-5-5': { inputTokens: 1000, outputTokens: 20, cacheReadInputTokens: 0, cacheCreationInputTokens: 0, costUSD: 0.0022 },
    });
  });

  it('uses total_cost_usd as the run spend for older CLIs', () => {
    const cost = runCost(resultsOf(asOlderCli(sampleText('02-resume-success.ndjson'), 0.0022)));
    expect(cost.runCostUsd).toBeCloseTo(0.0022, 10);
    expect(cost.cumulativeCostUsd).toBeCloseTo(0.0022, 10);
  });

  it('is zero with no result', () => {
    expect(runCost([])).toEqual({ runCostUsd: 0, cumulativeCostUsd: 0, usageByModel: {} });
  });
});

describe('session helpers over concatenated runs', () => {
  const lineage = parseText(['01-query-success.ndjson', '02-resume-success.ndjson', '03-fork-success.ndjson'].map(sampleText).join(''));

  it('extractSessionId gives the latest run id (the fork)', () => {
    expect(extractSessionId(lineage)).toBe('f76197ad-d27d-4837-8e40-895520e99326');
    expect(extractSessionId(sample('01-query-success.ndjson'))).toBe('45165c2a-1c17-4c21-98e3-f543f55634af');
    expect(extractSessionId(sample('06-unknown-session.ndjson'))).toBe('00000000-0000-4000-8000-000000000000');
    expect(extractSessionId([])).toBeNull();
  });

  it('calculateCost sums each run once: never the first result only, never the parent twice', () => {
    expect(calculateCost(lineage)).toBeCloseTo(0.0066, 10);
    expect(calculateCost(sample('01-query-success.ndjson'))).toBeCloseTo(0.0022, 10);
    const tool = parseText(sampleText('01-query-success.ndjson') + sampleText('04-tool-use-two-turns.ndjson'));
    expect(calculateCost(tool)).toBeCloseTo(0.0067, 10);
  });

  it('calculateCost sums per-process totals of older CLIs', () => {
    const older = [...asOlderCli(sampleText('01-query-success.ndjson'), 0.0022), ...asOlderCli(sampleText('02-resume-success.ndjson'), 0.0022)];
    expect(calculateCost(older)).toBeCloseTo(0.0044, 10);
  });

  it('countTurns counts assistant messages', () => {
    expect(countTurns(lineage)).toBe(3);
    expect(countTurns(sample('04-tool-use-two-turns.ndjson'))).toBe(2);
  });

  it('extractModel gives the latest run model', () => {
    expect(extractModel(lineage)).toBe('claude-sonnet-5-5');
    const mixed = parseText(sampleText('01-query-success.ndjson') + sampleText('02-resume-success.ndjson').replace(/"model":"claude-sonnet-5-5"/g, '"model":"claude-opus-5-5"'));
    expect(extractModel(mixed)).toBe('claude-opus-5-5');
    expect(extractModel([])).toBeNull();
  });

  it('getSummary gives the first assistant text, 200 characters, skipping API error messages', () => {
    expect(getSummary(lineage)).toBe('reply 12 to 2 msgs');
    expect(getSummary(sample('08-api-401.ndjson'))).toBe('');
    const long = parseText(JSON.stringify({ type: 'assistant', message: { content: [{ type: 'text', text: 'x'.repeat(500) }] } }));
    expect(getSummary(long)).toHaveLength(200);
  });
});

describe('session helpers take what users have', () => {
  const records = parseText(['01-query-success.ndjson', '02-resume-success.ndjson', '03-fork-success.ndjson', '04-tool-use-two-turns.ndjson'].map(sampleText).join(''));
  /** The CLI's JSON lines, parsed with JSON.parse. */
  const plain = records.map((m) => JSON.parse(m.raw) as Record<string, unknown>);
  /** Stored messages as `sessions show --messages --json` prints them. */
  const shown = records.map((m, seq) => ({ runId: 'run-1', seq, type: m.type, subtype: null, message: JSON.parse(m.raw) as unknown }));

  it.each([
    ['records', records],
    ['plain parsed lines', plain],
    ['sessions show --json messages', shown],
  ] as const)('on %s', (_shape, messages) => {
    expect(calculateCost(messages)).toBeCloseTo(0.0111, 10);
    expect(countTurns(messages)).toBe(5);
    expect(extractModel(messages)).toBe('claude-sonnet-5-5');
    expect(extractSessionId(messages)).toBe(extractSessionId(records));
    expect(getSummary(messages)).toBe('reply 12 to 2 msgs');
    expect(resultsOf(messages)).toHaveLength(4);
  });

  it('skip API error messages and older CLIs alike on plain lines', () => {
    expect(getSummary(sample('08-api-401.ndjson').map((m) => JSON.parse(m.raw) as unknown as Record<string, unknown>))).toBe('');
    const older = asOlderCli(sampleText('02-resume-success.ndjson'), 0.0022).map((m) => JSON.parse(m.raw) as Record<string, unknown>);
    expect(calculateCost(older)).toBeCloseTo(0.0022, 10);
  });
});
