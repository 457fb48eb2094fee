/**
 * Reading a run's stdout: NDJSON lines through the parser into the caller's awaited callbacks
 * (each line, and batches by size and time), noting what the run's end is judged by.
 */
import { NdjsonParser, type MalformedLine, type ParsedLine, type ResultData } from './parser.js';

const SYNTHETIC_MODEL = '<synthetic>';

export interface OutputHooks {
  onMessage?: (message: ParsedLine) => void | Promise<void>;
  onBatch?: (batch: ParsedLine[]) => void | Promise<void>;
  batchSize?: number;
  batchIntervalMs?: number;
  maxLineBytes?: number;
}

/** What was learned from stdout. */
export interface OutputFacts {
  messageCount: number;
  assistantCount: number;
  initSessionId: string | null;
  /** The first malformed line before the end. */
  malformed?: MalformedLine;
  /** A last line without its newline: the child died mid-write, which is a crash, not bad output. */
  truncatedTail: boolean;
  /** `error_status` of the last `api_retry` line (null when it had none); undefined without retries. */
  lastRetryStatus?: number | null;
  results: ResultData[];
  /** Models of the assistant messages, latest last. */
  models: string[];
}

/** Delivers stdout to the hooks. A hook that throws stops delivery, and `onCallbackError` is called once. */
export class OutputReader {
  readonly facts: OutputFacts = { messageCount: 0, assistantCount: 0, initSessionId: null, truncatedTail: false, results: [], models: [] };
  /** The first error a hook threw. */
  callbackError: unknown;
  private batch: ParsedLine[] = [];
  private chain: Promise<void> = Promise.resolve();
  private readonly batchSize: number;
  private readonly flushTimer: NodeJS.Timeout;

  constructor(
    private readonly hooks: OutputHooks,
    private readonly onCallbackError: () => void,
  ) {
    this.batchSize = Math.max(1, hooks.batchSize ?? 50);
    this.flushTimer = setInterval(() => void this.flush(), Math.max(1, hooks.batchIntervalMs ?? 1000));
    this.flushTimer.unref();
  }

  /** Reads until the stream ends; a stream that errors (the child killed mid-write) ends it too, keeping what was read. */
  async read(stdout: AsyncIterable<unknown> | null | undefined): Promise<void> {
    const parser = new NdjsonParser(this.hooks.maxLineBytes !== undefined ? { maxLineBytes: this.hooks.maxLineBytes } : {});
    try {
      if (stdout) {
        for await (const chunk of stdout) {
          for (const line of parser.push(chunk as Buffer)) await this.handle(line, false);
        }
      }
      for (const line of parser.end()) {
        if (line.type === 'malformed') this.facts.truncatedTail = true;
        await this.handle(line, true);
      }
    } catch {
      // What was read is kept.
    }
  }

  /** Stops the batch timer and delivers the last batch. */
  async close(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.flush();
  }

  private async handle(line: ParsedLine, atEnd: boolean): Promise<void> {
    this.note(line, atEnd);
    if (this.callbackError !== undefined) return;
    if (this.hooks.onMessage) {
      try {
        await this.hooks.onMessage(line);
      } catch (err) {
        this.fail(err);
        return;
      }
    }
    if (this.hooks.onBatch) {
      this.batch.push(line);
      // A result is a run's last line, printed tens of milliseconds before the CLI exits: its batch goes at once.
      if (this.batch.length >= this.batchSize || line.type === 'result') await this.flush();
    }
  }

  private note(line: ParsedLine, atEnd: boolean): void {
    const f = this.facts;
    f.messageCount++;
    switch (line.type) {
      case 'system':
        if (line.data.subtype === 'init' && typeof line.data.session_id === 'string') f.initSessionId = line.data.session_id;
        if (line.data.subtype === 'api_retry') f.lastRetryStatus = typeof line.data.error_status === 'number' ? line.data.error_status : null;
        break;
      case 'assistant': {
        f.assistantCount++;
        const model = line.data.message?.model;
        if (typeof model === 'string' && model !== SYNTHETIC_MODEL) {
          const i = f.models.indexOf(model);
          if (i >= 0) f.models.splice(i, 1);
          f.models.push(model);
        }
        break;
      }
      case 'result':
        f.results.push(line.data);
        break;
      case 'malformed':
        if (!atEnd) f.malformed ??= line;
        break;
    }
  }

  private flush(): Promise<void> {
    const onBatch = this.hooks.onBatch;
    if (this.batch.length === 0 || !onBatch) return this.chain;
    const b = this.batch;
    this.batch = [];
    this.chain = this.chain.then(async () => {
      if (this.callbackError !== undefined) return;
      try {
        await onBatch(b);
      } catch (err) {
        this.fail(err);
      }
    });
    return this.chain;
  }

  private fail(err: unknown): void {
    this.callbackError ??= err;
    this.onCallbackError();
  }
}

/** The last `maxBytes` of a stream (stderr kept as evidence). */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly max: number) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.max && this.chunks.length > 1) {
      this.size -= (this.chunks.shift() as Buffer).length;
    }
  }
  toString(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.max)).toString('utf8');
  }
}
