/** The one money format: four decimals, two significant digits under a tenth of a cent, never a nonzero `$0.0000`. */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { formatUsd } from '../../src/model/formats.js';
import { messageLines } from '../../src/client/messages.js';

test('money reads the same everywhere', () => {
  expect([0, 0.008, 0.014, 0.024, 1.25, 12.3456789, 0.00012, 0.0009, 0.001, -0.0044].map(formatUsd)).toEqual([
    '$0.0000',
    '$0.0080',
    '$0.0140',
    '$0.0240',
    '$1.2500',
    '$12.3457',
    '$0.00012',
    '$0.00090',
    '$0.0010',
    '-$0.0044',
  ]);
});

test('a nonzero amount never prints as zero and reads back within its rounding', () => {
  fc.assert(
    fc.property(fc.double({ min: 1e-9, max: 1e6, noNaN: true }), (usd) => {
      const text = formatUsd(usd);
      expect(text).toMatch(/^\$\d+\.\d{4,}$/);
      expect(text).not.toBe('$0.0000');
      const back = Number(text.slice(1));
      const decimals = text.split('.')[1]!.length;
      expect(Math.abs(back - usd)).toBeLessThanOrEqual(0.5 * 10 ** -decimals + 1e-12);
    }),
  );
});

test('stored messages as lines: assistant text and tool calls, one line each', () => {
  const raw = JSON.stringify({
    type: 'assistant',
    message: { content: [{ type: 'text', text: 'Let me look\nat this' }, { type: 'tool_use', name: 'Bash', input: { command: 'ls -la', description: 'list' } }] },
  });
  expect(messageLines(raw)).toEqual([
    { kind: 'text', text: 'Let me look at this' },
    { kind: 'tool', text: 'Bash ls -la' },
  ]);
  expect(messageLines(JSON.stringify({ type: 'user', message: { content: [] } }))).toEqual([]);
  expect(messageLines('not json')).toEqual([]);
});
