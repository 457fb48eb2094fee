/**
 * Parser throughput and memory: a generated NDJSON stream (the real sample
 * lines, repeated) pushed through the real parser in 64 KiB chunks.
 * Run: npx tsx bench/parser.ts [sizeMB ...]   (default: 200 and 800)
 */
import { readFileSync, readdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { NdjsonParser, parseStream } from '../src/runner/parser.js';

const SAMPLES = fileURLToPath(new URL('../test/fixtures/claude-cli-samples/', import.meta.url));
const CHUNK = 64 * 1024;

function sampleBlock(): Buffer {
  const text = readdirSync(SAMPLES)
    .filter((f) => f.endsWith('.ndjson'))
    .sort()
    .map((f) => readFileSync(`${SAMPLES}${f}`, 'utf8'))
    .join('');
  return Buffer.from(text, 'utf8');
}

/** Yields `totalBytes` of NDJSON as 64 KiB chunks that cut lines (and UTF-8 sequences) anywhere. */
function* generate(block: Buffer, totalBytes: number): Generator<Buffer> {
  const big = Buffer.concat(Array.from({ length: Math.ceil((4 * CHUNK) / block.length) + 1 }, () => block));
  const period = block.length;
  let produced = 0;
  let offset = 0;
  while (produced < totalBytes) {
    const size = Math.min(CHUNK, totalBytes - produced);
    // Copy: a real stream hands out fresh buffers.
    yield Buffer.from(big.subarray(offset, offset + size));
    produced += size;
    offset = (offset + size) % period;
  }
}

type Mode = 'push' | 'parseStream';

/** Lines of a Readable through the parser: `push` as runClaude drives it, or the per-line async generator. */
async function* lines(mode: Mode, source: Readable): AsyncGenerator<{ type: string }[] | { type: string }> {
  if (mode === 'parseStream') {
    yield* parseStream(source);
    return;
  }
  const parser = new NdjsonParser();
  for await (const chunk of source) yield parser.push(chunk as Buffer);
  yield parser.end();
}

async function bench(mode: Mode, sizeMb: number, block: Buffer): Promise<void> {
  const total = sizeMb * 1024 * 1024;
  globalThis.gc?.();
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  let count = 0;
  let malformed = 0;
  const started = process.hrtime.bigint();
  for await (const item of lines(mode, Readable.from(generate(block, total)))) {
    for (const line of Array.isArray(item) ? item : [item]) {
      count++;
      if (line.type === 'malformed') malformed++;
    }
    if ((count & 1023) === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  console.log(
    `${mode.padEnd(11)} ${String(sizeMb).padStart(5)} MB  ${count} lines (${malformed} malformed, the cut last line)  ${(sizeMb / seconds).toFixed(1)} MB/s  ${seconds.toFixed(2)} s  peak RSS ${(peakRss / 1024 / 1024).toFixed(0)} MB`,
  );
}

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const block = sampleBlock();
console.log(`sample block ${block.length} bytes, ${block.toString('utf8').trim().split('\n').length} lines; chunk ${CHUNK} bytes; node ${process.version}`);
// Baseline for the machine: bare JSON.parse of the same lines, no I/O.
{
  const raw = block.toString('utf8').trim().split('\n');
  const rounds = Math.ceil((100 * 1024 * 1024) / block.length);
  const t = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) for (const l of raw) JSON.parse(l);
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  console.log(`baseline: bare JSON.parse of the sample lines ${((rounds * block.length) / 1024 / 1024 / s).toFixed(1)} MB/s`);
}
for (const mode of ['push', 'parseStream'] as const) {
  for (const size of sizes.length > 0 ? sizes : [200, 800]) await bench(mode, size, block);
}
