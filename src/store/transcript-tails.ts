/**
 * A session's transcript grows by appends, and gzip members concatenate into one valid gzip stream
 * (`gunzip` reads them all). So a save compresses only what was appended since the transcript this
 * process compressed last for the session, when the new one starts with exactly that transcript (its
 * SHA-256 says so); otherwise, say after another machine's turns were restored over a rewrite, it
 * compresses the whole. What is kept is a pure function of the bytes, right whatever the store holds.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';

const gzip = promisify(gzipCb);

/** Members one file collects before it is compressed whole again: each member restarts gzip's window. */
const MAX_MEMBERS = 16;
/** Compressed bytes kept for all sessions together; the least recently saved go first. */
const MAX_BYTES = 32 * 1024 * 1024;

interface Tail {
  plainLength: number;
  sha256: string;
  gz: Buffer;
  members: number;
}

/** A transcript compressed, and the SHA-256 (hex) of the plain bytes: `transcriptDigestOf`'s digest, in the same pass. */
export interface Compressed {
  gz: Buffer;
  sha256: string;
}

export class TranscriptTails {
  private readonly tails = new Map<string, Tail>();
  private bytes = 0;

  async compress(sessionId: string, plain: Buffer): Promise<Compressed> {
    const tail = this.tails.get(sessionId);
    const known = tail && tail.members < MAX_MEMBERS && plain.length >= tail.plainLength ? tail : undefined;
    // One pass of the hash: the remembered length first, to compare, then the rest.
    const hash = createHash('sha256').update(plain.subarray(0, known?.plainLength ?? 0));
    const base = known && hash.copy().digest('hex') === known.sha256 ? known : undefined;
    const sha256 = hash.update(plain.subarray(known?.plainLength ?? 0)).digest('hex');
    const appended = plain.subarray(base?.plainLength ?? 0);
    let gz: Buffer;
    let members: number;
    if (!base) [gz, members] = [await gzip(plain, { level: 1 }), 1];
    else if (appended.length === 0) [gz, members] = [base.gz, base.members];
    else [gz, members] = [Buffer.concat([base.gz, await gzip(appended, { level: 1 })]), base.members + 1];
    this.keep(sessionId, { plainLength: plain.length, sha256, gz, members });
    return { gz, sha256 };
  }

  private keep(sessionId: string, tail: Tail): void {
    this.forget(sessionId);
    this.tails.set(sessionId, tail);
    this.bytes += tail.gz.length;
    for (const [id] of this.tails) {
      if (this.bytes <= MAX_BYTES) break;
      this.forget(id);
    }
  }

  private forget(sessionId: string): void {
    const old = this.tails.get(sessionId);
    if (!old) return;
    this.bytes -= old.gz.length;
    this.tails.delete(sessionId);
  }
}
