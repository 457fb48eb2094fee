/**
 * A save compresses only what was appended to the transcript this process compressed last for the
 * session: whatever the sequence of appends, rewrites and sessions, the stored file decompresses
 * to exactly the transcript saved, with its digest, and a growing transcript is compressed once.
 */
import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TranscriptTails } from '../../src/store/transcript-tails.js';
import { transcriptDigestOf } from '../../src/store/transcripts.js';
import { storeForTests } from './helpers.js';

/** One save: of session 0 or 1, appending to its last transcript, or a new one (a rewrite). */
const save = fc.record({
  session: fc.integer({ min: 0, max: 1 }),
  append: fc.boolean(),
  bytes: fc.uint8Array({ maxLength: 300 }),
});

describe('transcript tails', () => {
  it('decompress to exactly the transcript saved, after any sequence of appends and rewrites', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(save, { minLength: 1, maxLength: 40 }), async (saves) => {
        const tails = new TranscriptTails();
        const last = [Buffer.alloc(0), Buffer.alloc(0)];
        for (const s of saves) {
          const plain = s.append ? Buffer.concat([last[s.session]!, s.bytes]) : Buffer.from(s.bytes);
          last[s.session] = plain;
          const { gz, sha256 } = await tails.compress(`s${s.session}`, plain);
          expect(gunzipSync(gz)).toEqual(plain);
          expect(sha256).toBe(transcriptDigestOf(plain));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('compress a growing transcript once: each save adds only its appended part', async () => {
    const tails = new TranscriptTails();
    const line = (i: number) => Buffer.from(`${JSON.stringify({ type: 'assistant', n: i, text: 'x'.repeat(200) })}\n`);
    let plain: Buffer = Buffer.alloc(0);
    let before: Buffer = Buffer.alloc(0);
    for (let i = 0; i < 10; i++) {
      plain = Buffer.concat([plain, line(i)]);
      const { gz } = await tails.compress('s', plain);
      // The file so far is kept as it was, and the new part follows it.
      expect(gz.subarray(0, before.length)).toEqual(before);
      expect(gunzipSync(gz)).toEqual(plain);
      before = gz;
    }
  });
});

describe('stored transcripts', () => {
  const t = storeForTests('transcript-tails');

  it('load back exactly as saved when a session grows, is rewritten, and grows again', async () => {
    const sid = randomUUID();
    const versions = ['{"a":1}\n', '{"a":1}\n{"b":2}\n', '{"c":3}\n', '{"c":3}\n{"d":4}\n{"e":5}\n'].map((s) => Buffer.from(s));
    for (const [i, v] of versions.entries()) {
      await t.store.saveTranscript(sid, `run-${i}`, v);
      expect(Buffer.from((await t.store.loadTranscript(sid))!)).toEqual(v);
      expect(await t.store.transcriptDigest(sid)).toBe(transcriptDigestOf(v));
    }
  });
});
