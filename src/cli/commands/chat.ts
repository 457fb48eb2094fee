/**
 * `chat`: the conversation workflow of a key from the terminal. Interactive (line editing and history, the
 * reply printed as its messages are stored, `/cost`, `/fork <prompt>`, `/exit`), one prompt for scripts,
 * `--list` and `--close`. The key's session lives in the store: a closed conversation re-opened with the
 * same key resumes it (`--new` starts a new session).
 */
import { createInterface } from 'node:readline';
import { type Command } from 'commander';
import type { ConversationHandle, LedgerReader } from '../../client/index.js';
import { roundUsd } from '../../model/formats.js';
import { type ClaudeOptions } from '../../model/run.js';
import { type ConversationReply } from '../../model/workflow.js';
import { type Action, type Context } from '../context.js';
import { EXIT, usageError } from '../exit-codes.js';
import { addCwdFlag, collect, cwdFlag, positiveInt, tagsArg } from '../flags.js';
import { shortDate, table, usd } from '../format.js';
import { colorEnabled, palette, printJson } from '../output.js';

export interface ChatFlags {
  list?: boolean;
  close?: boolean;
  new?: boolean;
  model?: string;
  maxTurns?: string;
  tag?: string[];
  description?: string;
  cwd?: string;
  scope?: string;
}

export const registerChatCommand = (program: Command, action: Action): void => {
  const cmd = program
    .command('chat')
    .argument('[key]', 'the conversation\'s key, e.g. a user id')
    .argument('[prompt]', 'one prompt, its reply printed (for scripts); without it: an interactive loop')
    .description('talk in the conversation of a key (/cost, /fork <prompt>, /exit); a key resumes its session')
    .option('--list', 'the conversations the store knows')
    .option('--close', 'close the key\'s conversation (its session stays; `chat <key>` resumes it)')
    .option('--new', 'start a new session for the key instead of resuming its session')
    .option('--model <model>', 'model alias or id')
    .option('--max-turns <n>', 'stop each exchange after this many agentic turns')
    .option('--tag <tag>', 'tag the conversation\'s sessions (repeatable)', collect)
    .option('--description <text>', 'session description');
  addCwdFlag(cmd, 'working directory of the conversation (default: the worker\'s)').action(action(chat));
};

function conversationOptions(flags: ChatFlags): { options: ClaudeOptions; tags: string[]; description?: string; scope?: string } {
  const options: ClaudeOptions = {};
  if (flags.model !== undefined) {
    if (!flags.model.trim()) throw usageError('--model', 'must not be empty');
    options.model = flags.model;
  }
  if (flags.maxTurns !== undefined) options.maxTurns = positiveInt(flags.maxTurns, '--max-turns');
  const scope = cwdFlag(flags);
  return { options, tags: tagsArg(flags.tag), ...(flags.description !== undefined ? { description: flags.description } : {}), ...(scope ? { scope } : {}) };
}

/** The `--json` result of one exchange. */
export interface ChatExchangeResult {
  key: string;
  workflowId: string;
  sessionId: string;
  /** The exchange's number in the conversation (1-based). */
  exchange: number;
  status: ConversationReply['status'];
  costUsd: number;
  resultText: string | null;
  /** True when this exchange forked the conversation into `sessionId`. */
  forked: boolean;
}

/** Keys name a workflow (`conversation-<key>`) and a store record. */
const KEY_RE = /^[A-Za-z0-9:_\-.@]{1,200}$/;

function keyArg(key: string | undefined): string {
  if (key === undefined) throw usageError('key', 'a conversation key is required (or --list)');
  if (!KEY_RE.test(key)) throw usageError('key', 'may contain only letters, digits and : _ - . @ (at most 200)');
  return key;
}

async function chat(c: Context, key: string | undefined, prompt: string | undefined, flags: ChatFlags): Promise<number> {
  if (flags.list) {
    if (key !== undefined) throw usageError('--list', 'takes no key');
    return await list(c);
  }
  const k = keyArg(key);
  const { options, tags, description, scope } = conversationOptions(flags);
  if (prompt !== undefined && !prompt.trim()) throw usageError('prompt', 'must not be empty');
  if (flags.close) {
    if (prompt !== undefined) throw usageError('--close', 'takes no prompt');
    return await close(c, k);
  }
  const client = await c.temporal();
  const store = await c.store();
  if (flags.new) await client.closeConversation(k);
  const conversation = client.conversation(k, {
    options,
    ...(tags.length ? { tags } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(scope !== undefined ? { scope } : {}),
    ...(flags.new ? { newSession: true } : {}),
  });
  if (prompt !== undefined) return await once(c, k, conversation, prompt);
  return await loop(c, k, conversation, store);
}

async function once(c: Context, key: string, conversation: ConversationHandle, prompt: string): Promise<number> {
  const reply = await conversation.send(prompt);
  const result = exchangeResult(key, conversation.workflowId, reply, false);
  if (c.io.json) printJson(c.io, result);
  else c.io.stdout.write(`${reply.resultText ?? reply.summary ?? ''}\n`);
  if (reply.status !== 'success') c.io.stderr.write(`error: the exchange ended with ${reply.status}\n`);
  return reply.status === 'success' ? EXIT.ok : EXIT.failedRun;
}

function exchangeResult(key: string, workflowId: string, reply: ConversationReply, forked: boolean): ChatExchangeResult {
  return { key, workflowId, sessionId: reply.sessionId, exchange: reply.turn, status: reply.status, costUsd: reply.costUsd, resultText: reply.resultText, forked };
}

/** The conversation's spend as the ledger records it, over every time the key was opened. */
async function spent(store: LedgerReader, workflowId: string): Promise<{ usd: number; runs: number }> {
  const runs = await store.runsOfWorkflows([workflowId]);
  return { usd: roundUsd(runs.reduce((s, r) => s + r.costUsd, 0)), runs: runs.length };
}

async function loop(c: Context, key: string, conversation: ConversationHandle, store: LedgerReader): Promise<number> {
  const { tailCursor, tailMessages } = await import('../../client/index.js');
  const { io } = c;
  const p = palette(colorEnabled(io.stdout, io.env));
  const rl = createInterface({ input: process.stdin, output: io.stdout, terminal: Boolean(process.stdin.isTTY), historySize: 200, prompt: p.bold('you> ') });
  io.stdout.write(p.dim(`conversation ${key} (${conversation.workflowId}); /cost, /fork <prompt>, /exit\n`));
  let sessionId: string | null = null;
  const closed = new Promise<void>((resolve) => rl.once('close', resolve));
  rl.on('SIGINT', () => rl.close());

  const exchange = async (prompt: string, fork: boolean) => {
    const cursor = tailCursor();
    let printed = 0;
    const drain = async () => {
      for (const line of await tailMessages(store, conversation.workflowId, cursor).catch(() => [])) {
        printed += 1;
        io.stdout.write(line.kind === 'tool' ? p.cyan(`  ⚙ ${line.text}\n`) : `${line.text}\n`);
      }
    };
    let done = false;
    const sent = conversation.send(prompt, { fork }).finally(() => (done = true));
    sent.catch(() => undefined);
    while (!done) {
      await Promise.race([sent, new Promise((r) => setTimeout(r, 300))]);
      await drain();
    }
    const reply = await sent;
    await drain();
    if (printed === 0 && reply.resultText) io.stdout.write(`${reply.resultText}\n`);
    if (fork) io.stdout.write(p.dim(`forked ${sessionId ?? 'the conversation'} into session ${reply.sessionId}; continuing there\n`));
    sessionId = reply.sessionId;
    io.stdout.write(p.dim(`exchange ${reply.turn} · ${usd(reply.costUsd)} · ${reply.status}\n`));
  };

  const handle = async (line: string): Promise<boolean> => {
    const text = line.trim();
    if (!text) return true;
    if (text === '/exit' || text === '/quit') return false;
    if (text === '/cost') {
      const s = await spent(store, conversation.workflowId);
      const state = await conversation.state().catch(() => null);
      io.stdout.write(`${usd(s.usd)} over ${state?.turns ?? '?'} exchanges (${s.runs} runs)${state?.sessionId ? `, session ${state.sessionId}` : ''}\n`);
      return true;
    }
    if (text.startsWith('/fork')) {
      const forkPrompt = text.slice('/fork'.length).trim();
      if (!forkPrompt) io.stdout.write('usage: /fork <prompt>\n');
      else await exchange(forkPrompt, true);
      return true;
    }
    if (text.startsWith('/')) {
      io.stdout.write(`unknown command ${text.split(/\s/)[0]}; /cost, /fork <prompt>, /exit\n`);
      return true;
    }
    await exchange(text, false);
    return true;
  };

  rl.prompt();
  for await (const line of rl) {
    try {
      if (!(await handle(line))) break;
    } catch (err) {
      io.stderr.write(`error: ${(err as Error).message}\n`);
    }
    rl.prompt();
  }
  rl.close();
  await closed;
  io.stdout.write(p.dim(`\nleft ${key}; it stays open: \`claude-temporal chat ${key}\` comes back, \`--close\` ends it\n`));
  return EXIT.ok;
}

async function close(c: Context, key: string): Promise<number> {
  const client = await c.temporal();
  const closed = await client.closeConversation(key);
  if (c.io.json) printJson(c.io, { key, workflowId: client.conversation(key).workflowId, closed });
  else c.io.stdout.write(closed ? `closed ${key}; its session stays in the store and \`chat ${key}\` resumes it\n` : `${key} was not open\n`);
  return EXIT.ok;
}

/** One row of `chat --list`. */
export interface ChatListing {
  key: string;
  workflowId: string;
  sessionId: string;
  exchanges: number;
  open: boolean;
  spendUsd: number;
  updatedAt: string;
}

async function list(c: Context): Promise<number> {
  const store = await c.store();
  const client = await c.temporal();
  const records = await store.listConversations(100);
  const ledger = await store.runsOfWorkflows(records.map((r) => client.conversation(r.key).workflowId));
  const rows: ChatListing[] = await Promise.all(
    records.map(async (r) => {
      const workflowId = client.conversation(r.key).workflowId;
      const spend = ledger.filter((e) => e.workflowId === workflowId).reduce((s, e) => s + e.costUsd, 0);
      const open = await client.conversationOpen(r.key);
      return { key: r.key, workflowId, sessionId: r.sessionId, exchanges: r.exchanges, open, spendUsd: roundUsd(spend), updatedAt: r.updatedAt.toISOString() };
    }),
  );
  if (c.io.json) printJson(c.io, { conversations: rows });
  else if (rows.length === 0) c.io.stderr.write('no conversations\n');
  else
    c.io.stdout.write(
      table(rows, [
        { header: 'KEY', value: (r) => r.key },
        { header: 'STATE', value: (r) => (r.open ? 'open' : 'closed') },
        { header: 'EXCHANGES', value: (r) => String(r.exchanges), right: true },
        { header: 'SPEND', value: (r) => usd(r.spendUsd), right: true },
        { header: 'SESSION', value: (r) => r.sessionId },
        { header: 'UPDATED', value: (r) => shortDate(r.updatedAt) },
      ]),
    );
  return EXIT.ok;
}
