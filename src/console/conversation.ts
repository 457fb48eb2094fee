/**
 * A session's stored messages as a conversation: prompts, assistant text,
 * tool calls paired with their results, each run's outcome at its place and
 * "forked here" markers. Pure: one pass over the messages (tool results find
 * their call through a map), so a long session costs linear time.
 */
import { type RunLedgerEntry, type StoredMessage } from '../model/session.js';

export interface ToolCall {
  kind: 'tool';
  id: string;
  name: string;
  input: unknown;
  result: { text: string; isError: boolean } | null;
}

export interface RunOutcome {
  subtype: string | null;
  isError: boolean;
  numTurns: number | null;
  costUsd: number | null;
  inputTokens: number;
  outputTokens: number;
  text: string | null;
}

export type ConversationItem =
  | { kind: 'run'; runId: string; index: number; run: RunLedgerEntry | null }
  | { kind: 'prompt'; text: string }
  | { kind: 'text'; text: string }
  | { kind: 'thinking'; text: string }
  | ToolCall
  | { kind: 'system'; text: string }
  | { kind: 'outcome'; runId: string; run: RunLedgerEntry | null; outcome: RunOutcome }
  | { kind: 'forked'; at: number; sessionIds: string[] };

export interface ForkPoint {
  sessionId: string;
  /** How many of this session's messages existed when the fork left. */
  forkedAtMessage: number | null;
}

interface Block {
  type?: string;
  text?: string;
  thinking?: string;
  id?: string;
  name?: string;
  input?: unknown;
  tool_use_id?: string;
  content?: unknown;
  is_error?: boolean;
}

interface Line {
  type?: string;
  subtype?: string;
  model?: string;
  cwd?: string;
  message?: { content?: unknown };
  result?: unknown;
  is_error?: boolean;
  num_turns?: number;
  total_cost_usd?: number;
  usage?: { input_tokens?: number; output_tokens?: number };
}

/** Text of a tool result's content: a string or a list of text blocks. */
function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return (content as Block[]).map((b) => (b?.type === 'text' ? (b.text ?? '') : b?.type ? `[${b.type}]` : '')).join('\n');
  return content === undefined || content === null ? '' : JSON.stringify(content);
}

function parse(raw: string): Line {
  try {
    const v = JSON.parse(raw) as unknown;
    return typeof v === 'object' && v !== null ? (v as Line) : {};
  } catch {
    return {};
  }
}

/** The user prompts of a CLI transcript (JSONL), oldest first: user lines whose content is text, not tool results. */
export function transcriptPrompts(jsonl: string): string[] {
  const prompts: string[] = [];
  for (const line of jsonl.split('\n')) {
    if (!line.includes('"user"')) continue;
    const entry = parse(line) as Line & { isMeta?: boolean; isSidechain?: boolean };
    if (entry.type !== 'user' || entry.isMeta || entry.isSidechain) continue;
    const content = entry.message?.content;
    if (typeof content === 'string') prompts.push(content);
    else if (Array.isArray(content) && !(content as Block[]).some((b) => b?.type === 'tool_result')) {
      const text = (content as Block[]).filter((b) => b?.type === 'text').map((b) => b.text ?? '').join('\n');
      if (text) prompts.push(text);
    }
  }
  return prompts;
}

export interface ConversationInput {
  messages: Iterable<StoredMessage>;
  runs: ReadonlyMap<string, RunLedgerEntry>;
  /** Prompts from the transcript; the last ones belong to this session's finished runs. */
  prompts?: readonly string[];
  forks?: readonly ForkPoint[];
}

/** Build the conversation; `promptFor` is settled once the runs are known, so prompts are placed in a second, cheap pass. */
export function buildConversation({ messages, runs, prompts = [], forks = [] }: ConversationInput): ConversationItem[] {
  const items: ConversationItem[] = [];
  const tools = new Map<string, ToolCall>();
  const forksAt = new Map<number, string[]>();
  for (const f of forks) if (f.forkedAtMessage !== null) forksAt.set(f.forkedAtMessage, [...(forksAt.get(f.forkedAtMessage) ?? []), f.sessionId]);
  const runHeaders: Extract<ConversationItem, { kind: 'run' }>[] = [];
  const promptSlots: number[] = [];
  let currentRun: string | null = null;
  let position = 0;
  const markFork = () => {
    const at = forksAt.get(position);
    if (at) items.push({ kind: 'forked', at: position, sessionIds: at });
  };
  markFork();
  for (const m of messages) {
    if (m.runId !== currentRun) {
      currentRun = m.runId;
      const header = { kind: 'run' as const, runId: m.runId, index: runHeaders.length + 1, run: runs.get(m.runId) ?? null };
      runHeaders.push(header);
      items.push(header);
      promptSlots.push(items.length);
      items.push({ kind: 'prompt', text: '' });
    }
    addMessage(items, tools, m, parse(m.raw), runs.get(m.runId) ?? null);
    position += 1;
    markFork();
  }
  placePrompts(items, runHeaders, promptSlots, prompts);
  return items.filter((i) => i.kind !== 'prompt' || i.text !== '');
}

/** The last prompts of the transcript belong to the finished runs, in order; a running run has none yet. */
function placePrompts(items: ConversationItem[], headers: readonly { run: RunLedgerEntry | null }[], slots: readonly number[], prompts: readonly string[]) {
  const finished = headers.map((h, i) => [h, i] as const).filter(([h]) => h.run?.status !== 'running');
  const offset = prompts.length - finished.length;
  finished.forEach(([, i], k) => {
    const text = prompts[offset + k];
    if (text !== undefined) items[slots[i]!] = { kind: 'prompt', text };
  });
}

function addMessage(items: ConversationItem[], tools: Map<string, ToolCall>, m: StoredMessage, line: Line, run: RunLedgerEntry | null) {
  const content = line.message?.content;
  if (m.type === 'assistant' && Array.isArray(content)) {
    for (const b of content as Block[]) {
      if (b?.type === 'text' && b.text) items.push({ kind: 'text', text: b.text });
      else if (b?.type === 'thinking' && b.thinking) items.push({ kind: 'thinking', text: b.thinking });
      else if (b?.type === 'tool_use') {
        const call: ToolCall = { kind: 'tool', id: String(b.id ?? ''), name: String(b.name ?? 'tool'), input: b.input, result: null };
        tools.set(call.id, call);
        items.push(call);
      }
    }
  } else if (m.type === 'assistant' && typeof content === 'string') {
    items.push({ kind: 'text', text: content });
  } else if (m.type === 'user') {
    if (typeof content === 'string') items.push({ kind: 'prompt', text: content });
    else if (Array.isArray(content)) {
      for (const b of content as Block[]) {
        if (b?.type === 'tool_result') {
          const result = { text: resultText(b.content), isError: b.is_error === true };
          const call = tools.get(String(b.tool_use_id ?? ''));
          if (call) call.result = result;
          else items.push({ kind: 'tool', id: String(b.tool_use_id ?? ''), name: 'tool result', input: undefined, result });
        } else if (b?.type === 'text' && b.text) items.push({ kind: 'prompt', text: b.text });
      }
    }
  } else if (m.type === 'result') {
    items.push({
      kind: 'outcome',
      runId: m.runId,
      run,
      outcome: {
        subtype: line.subtype ?? null,
        isError: line.is_error === true,
        numTurns: typeof line.num_turns === 'number' ? line.num_turns : null,
        costUsd: typeof line.total_cost_usd === 'number' ? line.total_cost_usd : null,
        inputTokens: line.usage?.input_tokens ?? 0,
        outputTokens: line.usage?.output_tokens ?? 0,
        text: typeof line.result === 'string' ? line.result : null,
      },
    });
  } else if (m.type === 'system' && m.subtype === 'init') {
    items.push({ kind: 'system', text: `session started${line.model ? ` · ${line.model}` : ''}${line.cwd ? ` · ${line.cwd}` : ''}` });
  } else if (m.type === 'system' && m.subtype === 'api_retry') {
    items.push({ kind: 'system', text: 'API retry' });
  }
}
