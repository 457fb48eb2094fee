import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, createWriteStream, fstatSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { createInterface } from 'node:readline';

/** A server process of the local stack. */
export interface Service {
  name: string;
  pid: number;
  /** Stop with SIGTERM, then SIGKILL the process group after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  readonly exited: boolean;
}

export interface SpawnServiceOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** File that receives the service's stdout and stderr; default: discarded. */
  logFile?: string;
  /** Give up waiting for readiness after this long; default 90 s. */
  readyTimeoutMs?: number;
  /** Hint printed when the binary is missing. */
  installHint: string;
  /**
   * Resolves when the service is ready. Gets each stdout line; return a value
   * (not undefined) to signal readiness from the output, or use `probe`.
   */
  readyLine?: (line: string) => string | undefined;
  /** Polled until it resolves true, when readiness is not printed. */
  probe?: () => Promise<boolean>;
  /**
   * Leave running when this process exits (`stack up`). The server then writes straight to `logFile`
   * (required): a pipe to this process would break when it exits, and a server writing to it would die.
   */
  detached?: boolean;
}

export function assertExecutable(file: string, what: string, installHint: string): void {
  try {
    accessSync(file, constants.X_OK);
  } catch {
    throw new Error(`${what} not found or not executable at ${file}: ${installHint}`);
  }
}

/** Start a server and wait until it is ready; a real readiness signal, never a sleep. */
export async function spawnService(options: SpawnServiceOptions): Promise<{ service: Service; readyValue: string | undefined }> {
  assertExecutable(options.command, options.name, options.installHint);
  if (options.detached && !options.logFile) throw new Error(`${options.name}: a detached service needs a log file`);
  const logFd = options.detached ? openSync(options.logFile!, 'a') : undefined;
  const logStart = logFd !== undefined ? fstatSync(logFd).size : 0;
  // A process group of its own, so stop() also reaches anything the server forks.
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: logFd !== undefined ? ['ignore', logFd, logFd] : ['ignore', 'pipe', 'pipe'],
  });
  if (logFd !== undefined) closeSync(logFd);
  if (!options.detached && child.pid !== undefined) {
    // No orphans: if this process dies without stopping the stack, its servers die with it.
    const pid = child.pid;
    const onExit = () => signalGroup(pid, 'SIGKILL');
    process.once('exit', onExit);
    child.once('exit', () => process.removeListener('exit', onExit));
  }
  const log = options.logFile && logFd === undefined ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  const stderrTail: string[] = [];
  child.stderr?.on('data', (d: Buffer) => {
    log?.write(d);
    stderrTail.push(d.toString());
    if (stderrTail.length > 20) stderrTail.shift();
  });

  let exited = false;
  const exitPromise = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const service: Service = {
    name: options.name,
    pid: child.pid ?? -1,
    get exited() {
      return exited;
    },
    stop: (graceMs = 10_000) => stopChild(child, exitPromise, () => exited, graceMs),
  };

  const timeoutMs = options.readyTimeoutMs ?? 90_000;
  try {
    const lines = logFd !== undefined ? followFile(options.logFile!, logStart) : pipeLines(child, log);
    let readyValue: string | undefined;
    try {
      readyValue = await waitReady(child, options, exitPromise, timeoutMs, lines, async () => (logFd !== undefined ? await logTail(options.logFile!, logStart) : stderrTail.join('')));
    } finally {
      lines.stop();
    }
    if (options.detached) child.unref();
    return { service, readyValue };
  } catch (err) {
    await service.stop(2_000);
    throw err;
  }
}

/** Lines a service prints, one listener at a time. */
interface LineSource {
  onLine(listener: (line: string) => void): void;
  stop(): void;
}

/** The stdout lines of a piped child, also copied to its log. */
function pipeLines(child: ChildProcess, log: NodeJS.WritableStream | undefined): LineSource {
  const lines = createInterface({ input: child.stdout! });
  let listener: ((line: string) => void) | undefined;
  lines.on('line', (line) => {
    log?.write(line + '\n');
    listener?.(line);
  });
  return { onLine: (l) => void (listener = l), stop: () => (listener = undefined) };
}

/** The lines appended to `file` after `offset`, read every 100 ms (a detached server writes there itself). */
function followFile(file: string, offset: number): LineSource {
  let listener: ((line: string) => void) | undefined;
  let done = 0;
  let stopped = false;
  const poll = async () => {
    while (!stopped) {
      const text = (await readFile(file).catch(() => Buffer.alloc(0))).subarray(offset).toString('utf8');
      const complete = text.slice(0, text.lastIndexOf('\n') + 1).split('\n').slice(0, -1);
      for (const line of complete.slice(done)) listener?.(line);
      done = Math.max(done, complete.length);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  void poll();
  return { onLine: (l) => void (listener = l), stop: () => void (stopped = true) };
}

async function logTail(file: string, offset: number): Promise<string> {
  return (await readFile(file).catch(() => Buffer.alloc(0))).subarray(offset).toString('utf8').slice(-2000);
}

async function waitReady(
  child: ChildProcess,
  options: SpawnServiceOptions,
  exitPromise: Promise<void>,
  timeoutMs: number,
  lines: LineSource,
  output: () => Promise<string>,
): Promise<string | undefined> {
  let fromLine: ((v: string) => void) | undefined;
  const linePromise = new Promise<string>((resolve) => (fromLine = resolve));
  lines.onLine((line) => {
    const v = options.readyLine?.(line);
    if (v !== undefined) fromLine?.(v);
  });

  const deadline = Date.now() + timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const failed = new Promise<never>((_, reject) => {
    void exitPromise.then(async () =>
      reject(new Error(`${options.name} exited before it was ready (exit code ${child.exitCode}): ${(await output()).trim().slice(-2000)}`)),
    );
    timer = setTimeout(() => reject(new Error(`${options.name} was not ready within ${timeoutMs} ms`)), timeoutMs);
  });

  const probed = options.probe
    ? (async () => {
        while (Date.now() < deadline && child.exitCode === null) {
          if (await options.probe!().catch(() => false)) return undefined;
          await new Promise((r) => setTimeout(r, 200));
        }
        return new Promise<undefined>(() => {});
      })()
    : linePromise;

  try {
    return await Promise.race([probed, failed]);
  } finally {
    clearTimeout(timer);
  }
}

async function stopChild(child: ChildProcess, exitPromise: Promise<void>, exited: () => boolean, graceMs: number): Promise<void> {
  if (exited() || child.pid === undefined) return;
  signalGroup(child.pid, 'SIGTERM');
  const timedOut = await Promise.race([exitPromise.then(() => false), sleep(graceMs).then(() => true)]);
  if (timedOut) {
    signalGroup(child.pid, 'SIGKILL');
    await exitPromise;
  }
  // Whatever the server forked dies with its group.
  signalGroup(child.pid, 'SIGKILL');
}

export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
