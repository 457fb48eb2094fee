/**
 * One real `claude -p` run: spawn (execa, no shell, own process group),
 * stream stdout through the NDJSON parser into awaited callbacks, kill the
 * whole process tree on cancel or timeout, classify the end.
 */
import { constants as fsConstants, readdirSync, readFileSync } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { execa } from 'execa';
import { ClaudeTemporalError, invalidInput } from '../model/failures.js';
import { buildArgs } from './argv.js';
import { classifyRun, type RunFacts } from './classify.js';
import { runCost } from '../model/cost.js';
import { validateRunRequest } from '../model/validation/run-request.js';
import { NdjsonParser, type MalformedLine, type ParsedLine, type ResultData } from './parser.js';
import { type RunOutcome, type RunRequest } from '../model/run.js';

export interface RunnerConfig {
  /** Path of the `claude` binary (a bare name is looked up on PATH); default: the installed `@anthropic-ai/claude-code`. */
  claudePath?: string;
  /** CLAUDE_CONFIG_DIR of the child (transcripts live there); required. */
  configDir: string;
  /** Working directory when the request has no `cwd`; default: `process.cwd()`. */
  workDir?: string;
  /** Variables every run gets (ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY, ...); default: none. */
  baseEnv?: Record<string, string>;
  /** Keys a request's `env` may set; default: any key but the reserved ones. */
  envAllowlist?: readonly string[];
  /** CLAUDE_CODE_MAX_RETRIES of the child; default 2 (the CLI's own default retries 10 times with long sleeps). */
  maxRetries?: number;
  /** Longest accepted stdout line in bytes; default 64 MiB. */
  maxLineBytes?: number;
  /** Flush a batch at this many messages; default 50. */
  batchSize?: number;
  /** Flush a non-empty batch after this many milliseconds; default 1000. */
  batchIntervalMs?: number;
  /** Time between SIGTERM and SIGKILL on cancel or timeout; default 2000 ms. */
  killDelayMs?: number;
  /** Default run timeout when the request has none; default: no limit. */
  timeoutMs?: number;
  /** How much of stderr is kept as evidence; default 8 KiB. */
  stderrTailBytes?: number;
}

export interface RunOptions extends RunnerConfig {
  /** Aborting it cancels the run (the whole process tree is killed). */
  signal?: AbortSignal;
  /** Called for every stdout line, in order, awaited. */
  onMessage?: (message: ParsedLine) => void | Promise<void>;
  /** Called with batches of lines (by size and time, then a final flush), awaited: back-pressure on the child. */
  onBatch?: (batch: ParsedLine[]) => void | Promise<void>;
  /** Called once the child is spawned, with its pid (also the process group id). */
  onSpawn?: (pid: number) => void;
}

const MINIMAL_ENV_KEYS = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TMPDIR', 'TZ', 'TERM'];
const SYNTHETIC_MODEL = '<synthetic>';

/** The binary of the installed `@anthropic-ai/claude-code` package. */
export function defaultClaudePath(): string {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('@anthropic-ai/claude-code/package.json');
  const pkg = require(pkgPath) as { bin?: string | Record<string, string> };
  const bin = typeof pkg.bin === 'string' ? pkg.bin : (pkg.bin?.claude ?? 'bin/claude.exe');
  return join(dirname(pkgPath), bin);
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Resolves the binary or throws `ClaudeBinaryMissing` naming the path tried. */
export async function resolveClaudeBinary(path: string, envPath: string | undefined): Promise<string> {
  if (path.includes('/')) {
    const full = isAbsolute(path) ? path : resolve(path);
    if (await isExecutable(full)) return full;
    throw new ClaudeTemporalError('ClaudeBinaryMissing', `Claude binary is missing or not executable: ${full}`);
  }
  for (const dir of (envPath ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, path);
    if (await isExecutable(candidate)) return candidate;
  }
  throw new ClaudeTemporalError('ClaudeBinaryMissing', `Claude binary is missing or not executable: ${path} (searched PATH)`);
}

/** The child's environment: a minimal base, the runner's, the request's, then what the runner enforces. */
export function childEnv(request: RunRequest, config: RunnerConfig): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of MINIMAL_ENV_KEYS) {
    const v = process.env[key];
    if (v !== undefined) env[key] = v;
  }
  Object.assign(env, config.baseEnv ?? {}, request.env ?? {});
  env.CLAUDE_CONFIG_DIR = config.configDir;
  env.CLAUDE_CODE_MAX_RETRIES = String(config.maxRetries ?? 2);
  env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = '1';
  env.DISABLE_AUTOUPDATER = '1';
  return env;
}

/** Pids of every descendant of `pid` (Linux /proc; empty elsewhere). Synchronous: taken before any signal, while the tree is intact. */
function descendants(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const text = readFileSync(`/proc/${e}/stat`, 'utf8');
      // Fields after the `(comm)`, which may itself hold spaces or parentheses.
      const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(e));
      children.set(ppid, list);
    } catch {
      // The process ended while we looked.
    }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift() as number;
    for (const c of children.get(p) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

function signalAll(pgid: number, pids: readonly number[], signal: NodeJS.Signals): void {
  const tryKill = (target: number): void => {
    try {
      process.kill(target, signal);
    } catch {
      // Already gone.
    }
  };
  tryKill(-pgid);
  for (const p of pids) tryKill(p);
}

class TailBuffer {
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

type AbortKind = 'cancel' | 'timeout' | 'callback';

/**
 * Runs `claude` once. Throws before spawn (`InvalidInput`, `ClaudeBinaryMissing`);
 * after spawn, returns a {@link RunOutcome} with `failure` set on failures.
 * An error thrown by a callback kills the run and is rethrown.
 */
export async function runClaude(input: RunRequest, options: RunOptions): Promise<RunOutcome> {
  const request = validateRunRequest(input, options.envAllowlist ? { envAllowlist: options.envAllowlist } : {});
  if (typeof options.configDir !== 'string' || options.configDir.length === 0) throw invalidInput('configDir', 'is required');
  const cwd = request.cwd ?? options.workDir ?? process.cwd();
  const cwdStat = await stat(cwd).catch(() => undefined);
  if (!cwdStat?.isDirectory()) throw invalidInput('cwd', `is not a directory: ${cwd}`);
  const env = childEnv(request, options);
  const binary = await resolveClaudeBinary(options.claudePath ?? defaultClaudePath(), env.PATH);
  const killDelayMs = options.killDelayMs ?? 2000;
  const batchSize = Math.max(1, options.batchSize ?? 50);
  const timeoutMs = request.timeoutMs ?? options.timeoutMs;

  const controller = new AbortController();
  let abortKind: AbortKind | undefined;
  let exited = false;
  let treePids: number[] = [];
  let forceTimer: NodeJS.Timeout | undefined;
  const child: { pid?: number } = {};

  const abort = (kind: AbortKind): void => {
    if (abortKind || exited) return;
    abortKind = kind;
    const leader = child.pid;
    if (leader !== undefined) {
      treePids = descendants(leader);
      signalAll(leader, treePids, 'SIGTERM');
    }
    controller.abort(new Error(`Run ${kind}`));
    if (leader === undefined) return;
    forceTimer = setTimeout(() => signalAll(leader, treePids, 'SIGKILL'), killDelayMs);
    forceTimer.unref();
  };
  const onCallerAbort = (): void => abort('cancel');
  if (options.signal?.aborted) throw new ClaudeTemporalError('Cancelled', 'Run was cancelled before it started');
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  const timeoutTimer = timeoutMs !== undefined ? setTimeout(() => abort('timeout'), timeoutMs) : undefined;

  const started = Date.now();
  const subprocess = execa(binary, buildArgs(request), {
    cwd,
    env,
    extendEnv: false,
    stdin: 'ignore',
    buffer: false,
    detached: true,
    cancelSignal: controller.signal,
    forceKillAfterDelay: killDelayMs,
    killSignal: 'SIGTERM',
    reject: false,
    windowsHide: true,
  });
  const pid = subprocess.pid;
  if (pid !== undefined) child.pid = pid;
  if (pid !== undefined) options.onSpawn?.(pid);

  const stderrTail = new TailBuffer(options.stderrTailBytes ?? 8192);
  subprocess.stderr?.on('data', (chunk: Buffer) => stderrTail.push(chunk));

  // Facts gathered while reading.
  let messageCount = 0;
  let initSessionId: string | null = null;
  let malformed: MalformedLine | undefined;
  let lastRetryStatus: number | null | undefined;
  let assistantCount = 0;
  let truncatedTail = false;
  const results: ResultData[] = [];
  const models: string[] = [];

  let callbackError: unknown;
  let batch: ParsedLine[] = [];
  let chain: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    if (batch.length === 0 || !options.onBatch) return chain;
    const b = batch;
    batch = [];
    const onBatch = options.onBatch;
    chain = chain.then(async () => {
      if (callbackError !== undefined) return;
      try {
        await onBatch(b);
      } catch (err) {
        callbackError ??= err;
        abort('callback');
      }
    });
    return chain;
  };
  const flushTimer = setInterval(() => void flush(), Math.max(1, options.batchIntervalMs ?? 1000));
  flushTimer.unref();

  const handle = async (line: ParsedLine, atEnd = false): Promise<void> => {
    messageCount++;
    switch (line.type) {
      case 'system':
        if (line.data.subtype === 'init' && typeof line.data.session_id === 'string') initSessionId = line.data.session_id;
        if (line.data.subtype === 'api_retry') lastRetryStatus = typeof line.data.error_status === 'number' ? line.data.error_status : null;
        break;
      case 'assistant': {
        assistantCount++;
        const model = line.data.message?.model;
        if (typeof model === 'string' && model !== SYNTHETIC_MODEL) {
          const i = models.indexOf(model);
          if (i >= 0) models.splice(i, 1);
          models.push(model);
        }
        break;
      }
      case 'result':
        results.push(line.data);
        break;
      case 'malformed':
        if (!atEnd) malformed ??= line;
        break;
    }
    if (callbackError !== undefined) return;
    if (options.onMessage) {
      try {
        await options.onMessage(line);
      } catch (err) {
        callbackError ??= err;
        abort('callback');
        return;
      }
    }
    if (options.onBatch) {
      batch.push(line);
      if (batch.length >= batchSize) await flush();
    }
  };

  const parser = new NdjsonParser(options.maxLineBytes !== undefined ? { maxLineBytes: options.maxLineBytes } : {});
  try {
    if (subprocess.stdout) {
      for await (const chunk of subprocess.stdout) {
        for (const line of parser.push(chunk as Buffer)) await handle(line);
      }
    }
    for (const line of parser.end()) {
      // A last line without its newline: the child died mid-write, which is a crash, not bad output.
      if (line.type === 'malformed') truncatedTail = true;
      await handle(line, true);
    }
  } catch {
    // The stream errors when the child is killed mid-write; what was read is kept.
  }
  const result = await subprocess;
  exited = true;
  const durationMs = Date.now() - started;
  clearInterval(flushTimer);
  if (timeoutTimer) clearTimeout(timeoutTimer);
  options.signal?.removeEventListener('abort', onCallerAbort);
  await flush();
  if (forceTimer) {
    // Sweep now rather than wait: the leader is gone, anything left in its tree is a straggler.
    clearTimeout(forceTimer);
  }
  if (pid !== undefined) signalAll(pid, treePids, 'SIGKILL');

  if (callbackError !== undefined) throw callbackError;
  if (result.failed && (result as { code?: string }).code === 'ENOENT' && pid === undefined) {
    throw new ClaudeTemporalError('ClaudeBinaryMissing', `Claude binary is missing or not executable: ${binary}`);
  }

  const last = results[results.length - 1];
  const resultSessionId = typeof last?.session_id === 'string' ? last.session_id : null;
  const facts: RunFacts = {
    exitCode: result.exitCode ?? null,
    signal: result.signal ?? null,
    stderrTail: stderrTail.toString(),
    timedOut: abortKind === 'timeout',
    cancelled: abortKind === 'cancel',
    ...(last ? { result: last } : {}),
    ...(malformed ? { malformed } : {}),
    ...(truncatedTail ? { truncatedTail } : {}),
    ...(lastRetryStatus !== undefined ? { lastRetryStatus } : {}),
    ...(initSessionId && resultSessionId && initSessionId !== resultSessionId ? { sessionMismatch: { init: initSessionId, result: resultSessionId } } : {}),
  };
  const { status, failure } = classifyRun(facts);
  const cost = runCost(results);
  return {
    status,
    sessionId: initSessionId ?? resultSessionId,
    subtype: last?.subtype ?? null,
    isError: last ? last.is_error === true : true,
    numTurns: typeof last?.num_turns === 'number' ? last.num_turns : assistantCount,
    resultText: typeof last?.result === 'string' ? last.result : null,
    models,
    runCostUsd: cost.runCostUsd,
    cumulativeCostUsd: cost.cumulativeCostUsd,
    usageByModel: cost.usageByModel,
    durationMs,
    exitCode: facts.exitCode,
    signal: facts.signal,
    stderrTail: facts.stderrTail,
    messageCount,
    ...(failure ? { failure } : {}),
  };
}
