/**
 * Reading what a command takes from files and stdin: prompts (`--prompt-file`,
 * `-`) and pipeline files, never more than their limit (one byte past it is
 * enough to refuse), so `/dev/zero` or a huge file fails at once.
 */
import { open } from 'node:fs/promises';
import { invalidInput } from '../model/failures.js';
import { MAX_PROMPT_BYTES } from '../model/defaults.js';
import { promptText, sizeText } from '../model/validation/user-input.js';

/** Reads at most `max + 1` bytes of a file (`-`: stdin); throws `InvalidInput` naming `field` when there is more. */
export async function readBounded(file: string, max: number, field: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  const tooBig = () => invalidInput(field, `${file === '-' ? 'stdin' : file} is larger than the maximum of ${sizeText(max)}`);
  if (file === '-') {
    for await (const chunk of stdin) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      chunks.push(b);
      size += b.length;
      if (size > max) {
        (stdin as NodeJS.ReadStream).destroy?.();
        throw tooBig();
      }
    }
  } else {
    let handle;
    try {
      handle = await open(file, 'r');
    } catch (err) {
      throw invalidInput(field, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    try {
      if ((await handle.stat()).isDirectory()) throw invalidInput(field, `${file} is a directory`);
      const buf = Buffer.alloc(Math.min(max + 1, 1024 * 1024));
      for (;;) {
        const { bytesRead } = await handle.read(buf, 0, buf.length, null).catch((err: NodeJS.ErrnoException) => {
          throw invalidInput(field, `cannot read ${file}: ${err.code ?? err.message}`);
        });
        if (bytesRead === 0) break;
        chunks.push(Buffer.from(buf.subarray(0, bytesRead)));
        size += bytesRead;
        if (size > max) throw tooBig();
      }
    } finally {
      await handle.close();
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw invalidInput(field, `${file === '-' ? 'stdin' : file} is not UTF-8 text`);
  }
}

/**
 * The prompt of a command: its argument, `-` for stdin, or `--prompt-file <path>` (`-`: stdin).
 * Returns undefined when none was given (continue and resume have a default).
 */
export async function promptOf(arg: string | undefined, promptFile: string | undefined): Promise<string | undefined> {
  if (promptFile !== undefined && arg !== undefined) throw invalidInput('--prompt-file', 'and a prompt argument were both given; give one');
  if (promptFile !== undefined) {
    if (promptFile === '') throw invalidInput('--prompt-file', 'must name a file, or - for stdin');
    return promptText(await readBounded(promptFile, MAX_PROMPT_BYTES, '--prompt-file'), '--prompt-file');
  }
  if (arg === '-') return promptText(await readBounded('-', MAX_PROMPT_BYTES, 'prompt'), 'prompt');
  return arg === undefined ? undefined : promptText(arg, 'prompt');
}
