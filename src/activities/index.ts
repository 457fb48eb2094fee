import { ClaudeTemporalError } from '../model/failures.js';
import { type RunOutcome, type RunRequest } from '../model/run.js';
import { type SessionStore } from '../store/types.js';
import { createCleanupActivity } from './cleanup.js';
import { withTypedFailures } from './failures.js';
import { createSettleStepActivity } from './settle-step.js';
import { createStepActivities } from './step.js';

/** One parsed line of the CLI's output, as the runner hands it over. */
export interface StreamedMessage {
  /** Position in the run's output (1-based), the message's sequence number. */
  seq: number;
  type: string;
  /** The exact JSON line. */
  raw: string;
  /** Parsed object (for usage and text). */
  data: Record<string, unknown>;
}

/** What the step activity needs of the runner: one CLI process with this worker's configuration. */
export interface ClaudeRuntime {
  run(
    request: RunRequest,
    hooks: {
      configDir: string;
      signal: AbortSignal;
      onBatch: (batch: StreamedMessage[]) => Promise<void>;
      promptAfter?: Promise<unknown>;
      /** Called once the process is spawned. */
      onSpawn?: () => void;
    },
  ): Promise<RunOutcome>;
  /** This worker's `CLAUDE_CONFIG_DIR`: transcripts are restored here before a resume or fork. */
  configDir: string;
  /** Working directory of runs that name none. */
  workDir: string;
  /** What only this machine can check (the working directory, the permission mode for this user); throws `InvalidInput`. */
  check?(request: RunRequest, cwd: string): Promise<void>;
}

export interface ActivityLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export interface ActivityDeps {
  store: SessionStore;
  claude: ClaudeRuntime;
  logger?: ActivityLogger;
  /** How often a running step heartbeats while the CLI is quiet; default 2 s. */
  heartbeatIntervalMs?: number;
}

const silentLogger: ActivityLogger = { info() {}, warn() {}, error() {} };

export function createActivities({ store, claude, logger = silentLogger, heartbeatIntervalMs = 2_000 }: ActivityDeps) {
  /** Resolve `continue` to the most recent session of a scope, once, so retries reuse it. */
  async function resolveContinueSession({ scope }: { scope: string | null }): Promise<string> {
    return await withTypedFailures(async () => {
      const latest = await store.latestSessionInScope(scope ?? claude.workDir);
      if (!latest) throw new ClaudeTemporalError('SessionNotFound', `No session to continue in ${scope ?? claude.workDir}`);
      return latest.sessionId;
    });
  }

  /** The session a conversation's key holds in the store, read when the conversation (re)starts. */
  async function loadConversation({ key }: { key: string }): Promise<{ sessionId: string; exchanges: number } | null> {
    const record = await withTypedFailures(() => store.getConversation(key));
    return record ? { sessionId: record.sessionId, exchanges: record.exchanges } : null;
  }

  return {
    ...createStepActivities({ store, claude, logger, heartbeatIntervalMs }),
    settleStep: createSettleStepActivity(store),
    resolveContinueSession,
    loadConversation,
    cleanupSessions: createCleanupActivity(store),
  };
}

export type Activities = ReturnType<typeof createActivities>;
