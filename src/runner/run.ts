/**
 * One real `claude -p` run, read as its steps: plan (validate, resolve binary, cwd and environment),
 * spawn (execa, no shell, its own process group, killed as a tree on cancel, timeout or a failing
 * callback), read stdout through the NDJSON parser into awaited callbacks, wait for the exit, and
 * judge the outcome.
 */
import { type Duplex } from 'node:stream';
import { execa, type ResultPromise } from 'execa';
import { ClaudeTemporalError, invalidInput } from '../model/failures.js';
import { runCost } from '../model/cost.js';
import { buildArgs, effectivePrompt } from './argv.js';
import { withLifeline } from './lifeline.js';
import { binaryMissing, childEnv, defaultClaudePath, resolveClaudeBinary } from './child.js';
import { preflightRun } from './preflight.js';
import { classifyRun, type RunFacts } from './classify.js';
import { validateRunRequest } from '../model/validation/run-request.js';
import { OutputReader, TailBuffer, type OutputFacts } from './output.js';
import { type ParsedLine } from './parser.js';
import { ProcessTree, treeKillOptions } from './process-tree.js';
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
  /** Ask the CLI for partial-message events (`stream_event` lines: per-request token counts); default false. */
  partialMessages?: boolean;
}

export interface RunOptions extends RunnerConfig {
  /** Aborting it cancels the run (the whole process tree is killed). */
  signal?: AbortSignal;
  /** Called for every stdout line, in order, awaited. */
  onMessage?: (message: ParsedLine) => void | Promise<void>;
  /** Called with batches of lines (by size and time, at a result line, then a final flush), awaited: back-pressure on the child. */
  onBatch?: (batch: ParsedLine[]) => void | Promise<void>;
  /** Called once the child is spawned, with its pid (also the process group id). */
  onSpawn?: (pid: number) => void;
  /**
   * The CLI's stdin is closed once this fulfils: the CLI starts up meanwhile, but it reads its prompt
   * to EOF before it sends anything to the API. If it rejects, the run is stopped and the rejection
   * rethrown. Default: the prompt and EOF go at once.
   */
  promptAfter?: Promise<unknown>;
}

/**
 * Runs `claude` once. Throws before spawn (`InvalidInput`, `ClaudeBinaryMissing`);
 * after spawn, returns a {@link RunOutcome} with `failure` set on failures.
 * An error thrown by a callback kills the run and is rethrown.
 */
export async function runClaude(input: RunRequest, options: RunOptions): Promise<RunOutcome> {
  // Settled into a value at once: a gate that rejects while the run is planned is not an unhandled rejection.
  const gate = options.promptAfter?.then(
    () => null,
    (error: unknown) => ({ error: error ?? new Error('The prompt gate failed') }),
  );
  const plan = await planRun(input, options);
  const child = spawnChild(plan, options, gate);
  const output = new OutputReader(options, () => child.stop('callback'));
  await output.read(child.subprocess.stdout);
  const exit = await waitForExit(child, output);
  if (child.promptError() !== undefined) throw child.promptError();
  if (output.callbackError !== undefined) throw output.callbackError;
  if (exit.spawnFailed) throw binaryMissing(plan.binary);
  return toOutcome(exit, output.facts);
}

/** Everything decided before spawning: the validated request, what to run, where and with what. */
interface RunPlan {
  request: RunRequest;
  cwd: string;
  env: Record<string, string>;
  binary: string;
  killDelayMs: number;
  timeoutMs: number | undefined;
}

async function planRun(input: RunRequest, options: RunOptions): Promise<RunPlan> {
  const request = validateRunRequest(input, options.envAllowlist ? { envAllowlist: options.envAllowlist } : {});
  if (typeof options.configDir !== 'string' || options.configDir.length === 0) throw invalidInput('configDir', 'is required');
  const cwd = request.cwd ?? options.workDir ?? process.cwd();
  await preflightRun(request, cwd);
  const env = childEnv(request, options);
  const binary = await resolveClaudeBinary(options.claudePath ?? defaultClaudePath(), env.PATH);
  return { request, cwd, env, binary, killDelayMs: options.killDelayMs ?? 2000, timeoutMs: request.timeoutMs ?? options.timeoutMs };
}

type StopReason = 'cancel' | 'timeout' | 'callback' | 'prompt';

/** A spawned child and how it ends: the caller's signal, the timeout and a failing callback all stop it. */
interface Child {
  subprocess: ResultPromise;
  pid: number | undefined;
  startedAt: number;
  stderrTail: TailBuffer;
  /** Why it was stopped, if it was. */
  stopReason(): StopReason | undefined;
  /** Why its prompt was never written (`promptAfter` rejected), if so. */
  promptError(): unknown;
  /** Kills its process tree (once, and not after it exited). */
  stop(reason: StopReason): void;
  /** After the exit: drops the timeout and the listener, and kills what is left of its tree (a stopped run's: until it is gone). */
  exited(): Promise<void>;
}

function spawnChild(plan: RunPlan, options: RunOptions, gate: Promise<{ error: unknown } | null> | undefined): Child {
  if (options.signal?.aborted) throw new ClaudeTemporalError('Cancelled', 'Run was cancelled before it started');
  const controller = new AbortController();
  let reason: StopReason | undefined;
  let hasExited = false;
  let tree: ProcessTree | undefined;
  const stop = (why: StopReason): void => {
    if (reason || hasExited) return;
    reason = why;
    tree?.terminate();
    controller.abort(new Error(`Run ${why}`));
  };
  const onCallerAbort = (): void => stop('cancel');
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  const timeoutTimer = plan.timeoutMs !== undefined ? setTimeout(() => stop('timeout'), plan.timeoutMs) : undefined;

  const startedAt = Date.now();
  // The child dies with this process, SIGKILL included (see lifeline.ts).
  const spawn = withLifeline(plan.binary, buildArgs(plan.request, { partialMessages: options.partialMessages === true }));
  const subprocess = execa(spawn.file, spawn.args, {
    cwd: plan.cwd,
    env: plan.env,
    extendEnv: false,
    stdio: spawn.lifeline ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
    buffer: false,
    cancelSignal: controller.signal,
    ...treeKillOptions(plan.killDelayMs),
    reject: false,
    windowsHide: true,
  });
  const pid = subprocess.pid;
  if (pid !== undefined) {
    tree = new ProcessTree(pid, plan.killDelayMs);
    options.onSpawn?.(pid);
  }
  // Closing our end of the lifeline once the child is gone makes its watcher sweep the group.
  const lifeline = spawn.lifeline ? ((subprocess.stdio as unknown[])[3] as Duplex | undefined) : undefined;
  lifeline?.on('error', () => undefined);
  subprocess.once('exit', () => lifeline?.destroy());
  // The prompt goes on stdin, then EOF: no argument-length limit, and the CLI does not wait for more input.
  // The text goes at once (the CLI gives up on a stdin empty for 3 s); it reads to EOF before it starts.
  let promptError: unknown;
  subprocess.stdin?.on('error', () => undefined);
  subprocess.stdin?.write(effectivePrompt(plan.request));
  void (gate ?? Promise.resolve(null)).then((failed) => {
    if (!failed) subprocess.stdin?.end();
    else {
      promptError = failed.error;
      stop('prompt');
    }
  });
  const stderrTail = new TailBuffer(options.stderrTailBytes ?? 8192);
  subprocess.stderr?.on('data', (chunk: Buffer) => stderrTail.push(chunk));
  const exited = async (): Promise<void> => {
    hasExited = true;
    if (timeoutTimer) clearTimeout(timeoutTimer);
    options.signal?.removeEventListener('abort', onCallerAbort);
    // Sweep now rather than wait for the kill delay: the leader is gone, anything left in its tree is a straggler.
    await tree?.sweep();
  };
  return { subprocess, pid, startedAt, stderrTail, stopReason: () => reason, promptError: () => promptError, stop, exited };
}

interface Exit {
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  stderrTail: string;
  stopReason: StopReason | undefined;
  /** The binary could not be started at all. */
  spawnFailed: boolean;
}

/** Waits for the exit, delivers the last batch, and leaves nothing of the tree running. */
async function waitForExit(child: Child, output: OutputReader): Promise<Exit> {
  const result = await child.subprocess;
  const durationMs = Date.now() - child.startedAt;
  await child.exited();
  await output.close();
  return {
    exitCode: result.exitCode ?? null,
    signal: result.signal ?? null,
    durationMs,
    stderrTail: child.stderrTail.toString(),
    stopReason: child.stopReason(),
    spawnFailed: result.failed && (result as { code?: string }).code === 'ENOENT' && child.pid === undefined,
  };
}

/** Classifies the end and prices the run. */
function toOutcome(exit: Exit, out: OutputFacts): RunOutcome {
  const last = out.results.at(-1);
  const resultSessionId = typeof last?.session_id === 'string' ? last.session_id : null;
  const facts: RunFacts = {
    exitCode: exit.exitCode,
    signal: exit.signal,
    stderrTail: exit.stderrTail,
    timedOut: exit.stopReason === 'timeout',
    cancelled: exit.stopReason === 'cancel',
    ...(last ? { result: last } : {}),
    ...(out.malformed ? { malformed: out.malformed } : {}),
    ...(out.truncatedTail ? { truncatedTail: true } : {}),
    ...(out.lastRetryStatus !== undefined ? { lastRetryStatus: out.lastRetryStatus } : {}),
    ...(out.initSessionId && resultSessionId && out.initSessionId !== resultSessionId
      ? { sessionMismatch: { init: out.initSessionId, result: resultSessionId } }
      : {}),
  };
  const { status, failure } = classifyRun(facts);
  const cost = runCost(out.results);
  return {
    status,
    sessionId: out.initSessionId ?? resultSessionId,
    subtype: last?.subtype ?? null,
    isError: last ? last.is_error === true : true,
    numTurns: typeof last?.num_turns === 'number' ? last.num_turns : out.assistantCount,
    resultText: typeof last?.result === 'string' ? last.result : null,
    models: out.models,
    runCostUsd: cost.runCostUsd,
    cumulativeCostUsd: cost.cumulativeCostUsd,
    usageByModel: cost.usageByModel,
    durationMs: exit.durationMs,
    exitCode: facts.exitCode,
    signal: facts.signal,
    stderrTail: facts.stderrTail,
    messageCount: out.messageCount,
    ...(failure ? { failure } : {}),
  };
}
