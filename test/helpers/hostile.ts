/**
 * fast-check generators of hostile values, per kind of field: each value is
 * one the field must refuse. Shared by the library and the CLI property tests.
 */
import fc from 'fast-check';
import { MAX_DESCRIPTION_LENGTH, MAX_PIPELINE_STEPS, MAX_PROMPT_BYTES, MAX_TAG_LENGTH, MAX_TAGS } from '../../src/model/defaults.js';

const pad = (s: string) => fc.constantFrom(` ${s}`, `${s} `, `\t${s}`);
const notText = fc.constantFrom<unknown>(null, 42, true, [], {}, ['a']);
const controlChar = fc.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c));

export const hostile = {
  /** Blank, NUL inside, a lone surrogate, past the limit, or not text. */
  prompt: fc.oneof(
    fc.constantFrom('', ' ', '\n\t  '),
    fc.tuple(fc.string(), fc.string()).map(([a, b]) => `${a}\u0000${b}`),
    fc.string().map((s) => `${s}\uD800`),
    fc.integer({ min: 1, max: 1000 }).map((n) => 'p'.repeat(MAX_PROMPT_BYTES + n)),
    notText,
  ),
  /** Model names with characters no model id has. */
  model: fc.oneof(
    fc.constant(''),
    fc.tuple(fc.constantFrom('$', ' ', '"', '{', '\n', ';', '*'), fc.string({ maxLength: 10 })).map(([c, s]) => `${c}${s}`),
    fc.string({ maxLength: 5 }).map((s) => `sonnet ${s}`),
    notText,
  ),
  /** Text for a positive integer that is not one. */
  positiveIntText: fc.oneof(fc.integer({ max: 0 }).map(String), fc.constantFrom('1.5', '0x10', '1e3', 'NaN', '', ' ', 'two', '99999999999999999999')),
  /** Text for a decimal that is not a plain non-negative one. */
  decimalText: fc.oneof(fc.constantFrom('0x10', '1e3', 'NaN', 'Infinity', '', '--', '0b11', '1,5'), fc.integer({ max: -1 }).map(String), fc.double({ noNaN: true, max: -0.001 }).map(String)),
  /** Numbers a positive integer field refuses. */
  positiveInt: fc.oneof(fc.integer({ max: 0 }), fc.double({ noInteger: true }), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY), fc.constantFrom<unknown>('3', null, [])),
  /** Numbers a positive amount refuses. */
  positiveAmount: fc.oneof(fc.double({ max: 0 }), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0), fc.constantFrom<unknown>('1', null, {})),
  tag: fc.oneof(
    fc.constant(''),
    fc.tuple(fc.string({ maxLength: 5 }), fc.constantFrom(' ', '#', '?', '%', '\u0000', 'é', ','), fc.string({ maxLength: 5 })).map(([a, c, b]) => `${a}${c}${b}`),
    fc.constant('t'.repeat(MAX_TAG_LENGTH + 1)),
  ),
  description: fc.oneof(fc.integer({ min: 1, max: 100 }).map((n) => 'd'.repeat(MAX_DESCRIPTION_LENGTH + n)), fc.string().map((s) => `${s}\uDC00`)),
  /** Dates that are not dates, impossible days, or not in an accepted form. */
  dateText: fc.oneof(
    fc.constantFrom('2026-02-30', '2026-13-01', '2025-02-29', '2026-04-31', '2026-01-01T25:00:00Z', 'yesterday', 'now', '01/02/2026', '2026-01-02T03:04:05', '1767225600', ''),
    fc.string({ maxLength: 12 }).filter((s) => !/^\d{4}-\d{2}-\d{2}/.test(s)),
  ),
  /** Workflow and schedule ids: blank, padded, with control characters or too long. */
  id: fc.oneof(fc.constantFrom('', ' ', '\t'), pad('id'), controlChar.map((c) => `a${c}b`), fc.constant('i'.repeat(256))),
  cron: fc.oneof(
    fc.constantFrom('61 * * * *', '0 24 * * *', '0 3 0 * *', '0 3 * 13 *', '0 3 * * 8', '0 3 31 2 *', '0 3 30 2 *', '* * * *', '* * * * * *', '', '@sometimes', 'a b c d e', '5-1 * * * *', '*/0 * * * *'),
    fc.integer({ min: 60, max: 999 }).map((m) => `${m} * * * *`),
  ),
  sessionId: fc.oneof(fc.constantFrom('', 'abc', '../etc/passwd', '11111111-1111-4111-8111-11111111111g'), fc.uuid().map((u) => `${u}x`), fc.uuid().map((u) => ` ${u}`)),
  notText,
};

/** A valid one-step pipeline to spoil one field of. */
export const basePipeline = () => ({
  name: 'hostile',
  steps: [{ name: 'first', mode: 'query', prompt: 'hello', options: { maxTurns: 2 } }],
  tags: ['ok'],
});

/** One spoiled field of a pipeline: where it is, as its user would name it, and the bad value. */
export interface Spoiled {
  field: string;
  apply(p: Record<string, unknown>): void;
}

const at = (field: string, set: (p: Record<string, unknown>, v: unknown) => void, values: fc.Arbitrary<unknown>): fc.Arbitrary<Spoiled> =>
  values.map((v) => ({ field, apply: (p: Record<string, unknown>) => set(p, v), toString: () => `${field} = ${JSON.stringify(v)?.slice(0, 60)}` }));
const step = (p: Record<string, unknown>) => (p.steps as Record<string, unknown>[])[0]!;
const options = (p: Record<string, unknown>) => step(p).options as Record<string, unknown>;

/** A pipeline field and a value it must refuse, for every field of pipeline files. */
export const spoiledPipelineField: fc.Arbitrary<Spoiled> = fc.oneof(
  at('name', (p, v) => (p.name = v), fc.oneof(fc.constant(''), fc.constant('n'.repeat(201)), notText)),
  at('steps', (p, v) => (p.steps = v), fc.oneof(fc.constant([]), fc.constant(Array.from({ length: MAX_PIPELINE_STEPS + 1 }, () => ({ mode: 'query', prompt: 'x' }))), notText.filter((v) => !Array.isArray(v)))),
  at('steps[0].mode', (p, v) => (step(p).mode = v), fc.oneof(fc.constantFrom('', 'Query', 'delete', 'fork '), notText)),
  at('steps[0].prompt', (p, v) => (step(p).prompt = v), hostile.prompt),
  at('steps[0].name', (p, v) => (step(p).name = v), fc.oneof(fc.constant(''), fc.constant('s'.repeat(201)), notText)),
  at('steps[0].onLimit', (p, v) => (step(p).onLimit = v), fc.oneof(fc.constantFrom('', 'retry', 'STOP'), notText)),
  at('steps[0].options.model', (p, v) => (options(p).model = v), hostile.model),
  at('steps[0].options.fallbackModel', (p, v) => (options(p).fallbackModel = v), hostile.model),
  at('steps[0].options.maxTurns', (p, v) => (options(p).maxTurns = v), hostile.positiveInt),
  at('steps[0].options.maxBudgetUsd', (p, v) => (options(p).maxBudgetUsd = v), hostile.positiveAmount),
  at('steps[0].options.timeoutMs', (p, v) => (options(p).timeoutMs = v), hostile.positiveInt),
  at('steps[0].options.permissionMode', (p, v) => (options(p).permissionMode = v), fc.oneof(fc.constantFrom('', 'yolo', 'BYPASS'), notText)),
  at('steps[0].options.allowedTools', (p, v) => (options(p).allowedTools = v), fc.oneof(fc.constant(['']), fc.constant('Read'), fc.constant([1]))),
  at('steps[0].options.cwd', (p, v) => (options(p).cwd = v), fc.oneof(fc.constant(''), notText)),
  at('tags', (p, v) => (p.tags = v), fc.oneof(fc.constant(Array.from({ length: MAX_TAGS + 1 }, (_, i) => `t${i}`)), fc.constantFrom<unknown>('tag', {}, 7))),
  at('tags[0]', (p, v) => (p.tags = [v]), fc.oneof(hostile.tag, notText)),
  at('description', (p, v) => (p.description = v), fc.oneof(fc.integer({ min: 1, max: 100 }).map((n) => 'd'.repeat(MAX_DESCRIPTION_LENGTH + n)), notText)),
  at('budgetUsd', (p, v) => (p.budgetUsd = v), hostile.positiveAmount),
  at('scope', (p, v) => (p.scope = v), fc.oneof(fc.constant(''), notText)),
  at('tuning.maximumAttempts', (p, v) => (p.tuning = { maximumAttempts: v }), hostile.positiveInt),
  at('bogus', (p, v) => (p.bogus = v), fc.anything().filter((v) => v !== undefined)),
  at('steps[0].bogus', (p, v) => (step(p).bogus = v), fc.anything().filter((v) => v !== undefined)),
);
