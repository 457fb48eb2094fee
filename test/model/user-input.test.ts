/**
 * The model's checks of typed values, property-tested: what they accept
 * round-trips, hostile values are refused naming the field, and the message
 * says what is accepted.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MAX_PROMPT_BYTES } from '../../src/model/defaults.js';
import { cronExpression } from '../../src/model/validation/cron.js';
import {
  dateRange,
  dateValue,
  decimalText,
  idText,
  integerText,
  modelName,
  mongoUri,
  promptText,
  temporalAddress,
  utf8Bytes,
} from '../../src/model/validation/user-input.js';

/** The field an `InvalidInput` names, or undefined when `fn` passes. */
function refused(fn: () => unknown): { field: string; message: string } | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    const e = err as { type?: string; message: string; evidence?: { field?: string } };
    expect(e.type).toBe('InvalidInput');
    return { field: e.evidence?.field ?? '', message: e.message };
  }
}

describe('prompts', () => {
  test('any text with something in it, without NUL and within the limit, is accepted as is', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }).filter((s) => s.trim() !== '' && !s.includes('\u0000')), (s) => {
        expect(promptText(s)).toBe(s);
      }),
    );
  });

  test('a NUL byte anywhere is refused', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(refused(() => promptText(`x${a}\u0000${b}`, 'prompt'))).toMatchObject({ field: 'prompt', message: expect.stringMatching(/NUL/) });
      }),
    );
  });

  test('blank, non-text and lone surrogates are refused', () => {
    for (const v of ['', '   ', '\n\t', 42, null, ['a'], 'a\uD800b']) expect(refused(() => promptText(v, 'steps[0].prompt'))?.field).toBe('steps[0].prompt');
  });

  test('the limit is in UTF-8 bytes, exactly', () => {
    expect(promptText('a'.repeat(MAX_PROMPT_BYTES))).toHaveLength(MAX_PROMPT_BYTES);
    expect(refused(() => promptText('a'.repeat(MAX_PROMPT_BYTES + 1)))?.message).toMatch(/more than the maximum of 256 KiB/);
    expect(refused(() => promptText('é'.repeat(MAX_PROMPT_BYTES / 2 + 1)))).toBeDefined();
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(utf8Bytes(s)).toBe(Buffer.byteLength(s, 'utf8'));
      }),
    );
  });
});

describe('dates', () => {
  const day = fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2199-12-31T23:59:59Z'), noInvalidDate: true });

  test('every real day and date-time with a zone is read exactly', () => {
    fc.assert(
      fc.property(day, (d) => {
        const iso = d.toISOString();
        expect(dateValue(iso, 'since').getTime()).toBe(d.getTime());
        expect(dateValue(iso.slice(0, 10), 'since').toISOString()).toBe(`${iso.slice(0, 10)}T00:00:00.000Z`);
        expect(dateValue(iso.replace('Z', '+00:00'), 'since').getTime()).toBe(d.getTime());
      }),
    );
  });

  test('impossible days are refused, not rolled over', () => {
    for (const s of ['2026-02-29', '2026-02-30', '2026-04-31', '2026-13-01', '2026-00-10', '2026-01-00', '2026-01-01T24:00:00Z', '2026-01-01T10:60Z', '2026-01-01T10:00:00+25:00']) {
      expect(refused(() => dateValue(s, '--since')), s).toMatchObject({ field: '--since' });
    }
    expect(dateValue('2024-02-29', 'x').toISOString()).toBe('2024-02-29T00:00:00.000Z');
  });

  test('other text is refused with the accepted forms', () => {
    fc.assert(
      fc.property(fc.string().filter((s) => !/^\d{4}-\d{2}-\d{2}/.test(s)), (s) => {
        expect(refused(() => dateValue(s, '--after'))?.message).toMatch(/YYYY-MM-DD .* ISO date-time with a zone/);
      }),
    );
  });

  test('a range that ends before it starts is refused, naming both ends', () => {
    fc.assert(
      fc.property(day, day, (a, b) => {
        const r = refused(() => dateRange(a, b, '--since', '--until'));
        if (a.getTime() > b.getTime()) expect(r?.message).toMatch(/Invalid --since: .* is later than --until/);
        else expect(r).toBeUndefined();
      }),
    );
  });
});

describe('numbers typed by users', () => {
  test('plain decimals are read; hexadecimal, exponents, signs, NaN and Infinity are not', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), (a, b) => {
        expect(decimalText(`${a}.${b}`, '--budget-usd')).toBe(Number(`${a}.${b}`));
      }),
    );
    const cases: [string, RegExp][] = [
      ['0x10', /not a plain decimal number: "0x10"/],
      ['1e3', /not a plain decimal number/],
      ['NaN', /is not a number: "NaN"/],
      ['Infinity', /not a plain decimal number/],
      ['-1', /must not be negative/],
      ['', /is empty/],
      ['0b11', /not a plain decimal/],
    ];
    for (const [text, message] of cases) expect(refused(() => decimalText(text, '--budget-usd')), text).toMatchObject({ field: '--budget-usd', message });
  });

  test('integers: the message says which range, whatever the text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ max: 0 }).map(String), fc.string().filter((s) => !/^\s*\d+\s*$/.test(s))), (text) => {
        expect(refused(() => integerText(text, '--limit', 1, 1000))?.message).toMatch(/Invalid --limit: must be an integer from 1 to 1000, got /);
      }),
    );
    expect(refused(() => integerText('-1', '--max-turns'))?.message).toBe('Invalid --max-turns: must be a positive integer, got "-1"');
  });
});

describe('names and ids', () => {
  test('model names: aliases and ids pass; $, spaces and control characters do not', () => {
    for (const m of ['sonnet', 'opus[1m]', 'claude-sonnet-4-5-20250929', 'claude-3-5-sonnet@20240620', 'arn:aws:bedrock:us-east-1:123:inference-profile/us.anthropic.claude']) expect(modelName(m)).toBe(m);
    fc.assert(
      fc.property(fc.string(), fc.constantFrom('$', ' ', '\n', '\u0000', '{', '"'), (s, bad) => {
        expect(refused(() => modelName(`${bad}${s}`, '--model'))?.field).toBe('--model');
      }),
    );
  });

  test('workflow and schedule ids: blank, padded, over-long or with control characters are refused', () => {
    for (const v of ['', ' ', ' x', 'x\n', 'a\u0000', 'x'.repeat(256)]) expect(refused(() => idText(v, '--workflow-id'))?.field, JSON.stringify(v)).toBe('--workflow-id');
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,50}$/), (id) => {
        expect(idText(id, 'x')).toBe(id);
      }),
    );
  });
});

describe('cron', () => {
  const field = (min: number, max: number) =>
    fc.oneof(
      fc.constant('*'),
      fc.integer({ min, max }).map(String),
      fc.tuple(fc.integer({ min, max }), fc.integer({ min, max })).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
      fc.integer({ min: 1, max }).map((s) => `*/${s}`),
    );

  test('every well-formed expression is accepted (day of month up to 28, so it always fires)', () => {
    fc.assert(
      fc.property(field(0, 59), field(0, 23), field(1, 28), field(1, 12), field(0, 7), (...parts) => {
        expect(cronExpression(parts.join(' '), '--cron')).toBe(parts.join(' '));
      }),
    );
  });

  test('a value outside its field is refused naming the field of the cron', () => {
    const cases: [string, RegExp][] = [
      ['61 * * * *', /minute 61 is outside 0-59/],
      ['0 24 * * *', /hour 24 is outside 0-23/],
      ['0 3 0 * *', /day of month 0 is outside 1-31/],
      ['0 3 * 13 *', /month 13 is outside 1-12/],
      ['0 3 * * 8', /day of week 8 is outside 0-7/],
      ['0 3 * *', /has 4 fields, not 5/],
      ['', /has 0 fields/],
      ['0 3 * * * *', /has 6 fields/],
      ['x 3 * * *', /minute "x" is not a number/],
      ['5-1 * * * *', /runs backwards/],
      ['*/0 * * * *', /step 0/],
      ['@sometimes', /not a known shorthand/],
    ];
    for (const [cron, message] of cases) expect(refused(() => cronExpression(cron, '--cron')), cron).toMatchObject({ field: '--cron', message });
  });

  test('one that never fires is refused; the 29th of February and a day of week are fine', () => {
    expect(refused(() => cronExpression('0 3 31 2 *', '--cron'))?.message).toMatch(/never fires/);
    expect(refused(() => cronExpression('0 3 31 4,6,9,11 *'))?.message).toMatch(/never fires/);
    expect(cronExpression('0 3 29 2 *')).toBe('0 3 29 2 *');
    expect(cronExpression('0 3 31 2 MON')).toBe('0 3 31 2 MON');
    expect(cronExpression('@daily')).toBe('@daily');
  });
});

describe('connection settings', () => {
  test('MongoDB URIs: no host, a bad port or another scheme are refused naming the setting', () => {
    for (const uri of ['mongodb://', 'mongodb://h:99999', 'mongodb://h:0/db', 'mongodb://h:x', 'http://h:27017', 'mongodb://a,,b', 'mongodb+srv://h:27017']) {
      expect(refused(() => mongoUri(uri, 'MONGODB_URI')), uri).toMatchObject({ field: 'MONGODB_URI' });
    }
    for (const uri of ['mongodb://127.0.0.1:27017', 'mongodb://u:p@a:1,b:2/db?replicaSet=rs', 'mongodb+srv://cluster.example.net/db', 'mongodb://[::1]:27017']) expect(mongoUri(uri)).toBe(uri);
  });

  test('a password never appears in the message', () => {
    expect(refused(() => mongoUri('mongodb://user:secret@h:99999'))?.message).not.toContain('secret');
  });

  test('Temporal addresses are host:port with a port from 1 to 65535', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65535 }), (p) => {
        expect(temporalAddress(`localhost:${p}`)).toBe(`localhost:${p}`);
      }),
    );
    for (const a of ['localhost', 'localhost:0', 'h:65536', 'h:', ':7233', 'http://h:7233']) expect(refused(() => temporalAddress(a, 'TEMPORAL_ADDRESS'))?.field, a).toBe('TEMPORAL_ADDRESS');
  });
});

describe('docs/cli.md lists every limit as the code has it', () => {
  test('prompt size, steps, file size, continue-as-new, tags, description, pages, fork prompts, ids, models', async () => {
    const { readFile } = await import('node:fs/promises');
    const d = await import('../../src/model/defaults.js');
    const doc = await readFile(new URL('../../docs/cli.md', import.meta.url), 'utf8');
    const limits = doc.slice(doc.indexOf('## Limits and accepted values'), doc.indexOf('## Configuration'));
    const n = (x: number) => x.toLocaleString('en-US');
    for (const fact of [
      `at most 256 KiB (${n(d.MAX_PROMPT_BYTES)} bytes)`,
      `at most ${d.MAX_PIPELINE_STEPS} steps`,
      `at most 1 MiB (${n(d.MAX_PIPELINE_BYTES)} bytes)`,
      `every ${d.PIPELINE_STEPS_PER_RUN} steps`,
      `at most ${d.MAX_TAGS} per session, each at most ${d.MAX_TAG_LENGTH} characters`,
      `at most ${n(d.MAX_DESCRIPTION_LENGTH)} characters`,
      `1 to ${d.MAX_LIMIT}, default ${d.DEFAULT_LIMIT}`,
      `at most ${d.MAX_FORK_PROMPTS} prompts`,
      `1 to ${d.MAX_ID_LENGTH} characters`,
      `at most ${d.MAX_MODEL_LENGTH} characters`,
    ]) {
      expect(limits).toContain(fact);
    }
  });
});
