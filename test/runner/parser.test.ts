import { Readable } from 'node:stream';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NdjsonParser, parseLine, parseStream, parseText, type ParsedLine } from '../../src/runner/index.js';
import { SAMPLES_DIR, sampleText } from './helpers.js';

const NDJSON = readdirSync(SAMPLES_DIR).filter((f) => f.endsWith('.ndjson')).sort();

function rawJoin(lines: ParsedLine[]): string {
  return lines.map((l) => `${l.raw}\n`).join('');
}

describe('parser on the real samples', () => {
  it.each(NDJSON)('%s parses every line, byte-identical', (name) => {
    const text = sampleText(name);
    const lines = parseText(text);
    expect(lines.length).toBe(text.trim().split('\n').length);
    expect(lines.every((l) => l.type !== 'malformed' && l.type !== 'unknown')).toBe(true);
    expect(rawJoin(lines)).toBe(text.endsWith('\n') ? text : `${text}\n`);
    expect(lines.map((l) => l.lineNumber)).toEqual(lines.map((_, i) => i + 1));
    expect(lines.filter((l) => l.type === 'result')).toHaveLength(1);
  });

  it('types system subtypes, assistant, user, result and stream_event', () => {
    const tool = parseText(sampleText('04-tool-use-two-turns.ndjson'));
    expect(tool.map((l) => l.type)).toEqual(['system', 'assistant', 'user', 'assistant', 'result']);
    const first = tool[0];
    expect(first?.type === 'system' && first.data.subtype).toBe('init');
    const retry = parseText(sampleText('07-api-500-after-retries.ndjson')).filter((l) => l.type === 'system' && l.data.subtype === 'api_retry');
    expect(retry).toHaveLength(2);
    const partial = parseText(sampleText('10-partial-messages.ndjson'));
    expect(partial.some((l) => l.type === 'system' && l.data.subtype === 'status')).toBe(true);
    expect(partial.filter((l) => l.type === 'stream_event').map((l) => (l.type === 'stream_event' ? l.data.event.type : ''))).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
  });

  it('parses a concatenation of all samples, numbering lines across them', () => {
    const text = NDJSON.map(sampleText).join('');
    const lines = parseText(text);
    expect(lines.length).toBe(text.trim().split('\n').length);
    expect(lines.filter((l) => l.type === 'result')).toHaveLength(NDJSON.length);
    expect(lines[lines.length - 1]?.lineNumber).toBe(lines.length);
    expect(rawJoin(lines)).toBe(text);
  });

  it('gives the same lines whatever the chunking, including splits inside UTF-8 sequences', async () => {
    const text = NDJSON.map(sampleText).join('');
    const bytes = Buffer.from(text, 'utf8');
    const expected = parseText(text).map((l) => l.raw);
    for (const size of [1, 7, 64, 4093]) {
      const parser = new NdjsonParser();
      const got: ParsedLine[] = [];
      for (let i = 0; i < bytes.length; i += size) got.push(...parser.push(bytes.subarray(i, i + size)));
      got.push(...parser.end());
      expect(got.map((l) => l.raw)).toEqual(expected);
      expect(got.some((l) => l.type === 'malformed')).toBe(false);
    }
    const viaStream: string[] = [];
    for await (const l of parseStream(Readable.from([bytes.subarray(0, 1001), bytes.subarray(1001)]))) viaStream.push(l.raw);
    expect(viaStream).toEqual(expected);
  });

  it('flushes a last line without newline on end()', () => {
    const parser = new NdjsonParser();
    expect(parser.push('{"type":"user","message":{}}\n{"type":"res')).toHaveLength(1);
    expect(parser.push('ult","subtype":"success","is_error":false}')).toHaveLength(0);
    const tail = parser.end();
    expect(tail).toHaveLength(1);
    expect(tail[0]?.type).toBe('result');
  });
});

describe('parser on bad input', () => {
  it('reports malformed lines with their text and keeps going', () => {
    const lines = parseText('{"type":"user","message":{}}\nnot json\n[1,2]\n\n   \n{"type":"result","subtype":"success","is_error":false}\n');
    expect(lines.map((l) => l.type)).toEqual(['user', 'malformed', 'malformed', 'result']);
    const bad = lines[1];
    expect(bad?.type === 'malformed' && bad.reason).toBe('invalid_json');
    expect(bad?.raw).toBe('not json');
    expect(bad?.lineNumber).toBe(2);
    const arr = lines[2];
    expect(arr?.type === 'malformed' && arr.reason).toBe('not_an_object');
  });

  it('keeps unknown types and unknown fields as they are', () => {
    const raw = '{"type":"brand_new","x":{"y":[1,2]},"z":null}';
    const line = parseLine(raw, 1);
    expect(line.type).toBe('unknown');
    expect(line.type === 'unknown' && line.data).toEqual({ type: 'brand_new', x: { y: [1, 2] }, z: null });
    expect(line.raw).toBe(raw);
    const known = parseLine('{"type":"assistant","message":{"content":[]},"future_field":42}', 1);
    expect(known.type === 'assistant' && known.data.future_field).toBe(42);
  });

  it('turns a line over the limit into a too_long error without holding it, then goes on', () => {
    const parser = new NdjsonParser({ maxLineBytes: 1000 });
    const out: ParsedLine[] = [];
    out.push(...parser.push('{"type":"user","message":{}}\n'));
    // 10 MB arriving in 64 KiB chunks: memory must stay at the limit, not grow with the line.
    const chunk = Buffer.alloc(65536, 0x61);
    for (let i = 0; i < 160; i++) out.push(...parser.push(chunk));
    out.push(...parser.push('tail\n{"type":"result","subtype":"success","is_error":false}\n'));
    out.push(...parser.end());
    expect(out.map((l) => l.type)).toEqual(['user', 'malformed', 'result']);
    const long = out[1];
    expect(long?.type === 'malformed' && long.reason).toBe('too_long');
    expect(long?.type === 'malformed' && long.bytes).toBe(160 * 65536 + 4);
    expect(long?.raw.length).toBeLessThanOrEqual(1024);
    expect(out[2]?.lineNumber).toBe(3);
  });

  it('accepts a line of exactly the limit and rejects one byte more', () => {
    const ok = `{"type":"x","p":"${'a'.repeat(80)}"}`;
    const limit = Buffer.byteLength(ok);
    expect(parseText(`${ok}\n`, { maxLineBytes: limit })[0]?.type).toBe('unknown');
    expect(parseText(`${ok} \n`, { maxLineBytes: limit })[0]?.type).toBe('malformed');
    expect(() => new NdjsonParser({ maxLineBytes: 0 })).toThrow(RangeError);
  });
});
