/** Markdown renderings of a session for `sessions export --format md`: its metadata, then what was said. */
import { type SessionMetadata } from '../model/session.js';
import { usd } from './format.js';

export function markdownHeader(s: SessionMetadata): string {
  const lines = [
    `# Session ${s.sessionId}`,
    '',
    `- created: ${s.createdAt.toISOString()}`,
    `- updated: ${s.updatedAt.toISOString()}`,
    `- model: ${s.models.join(', ') || '-'}`,
    `- cost: ${usd(s.totalCostUsd)} over ${s.runCount} runs`,
    `- tags: ${s.tags.join(', ') || '-'}`,
  ];
  if (s.description) lines.push(`- description: ${s.description}`);
  if (s.lineage.parentSessionId) lines.push(`- forked from: ${s.lineage.parentSessionId} at message ${s.lineage.forkedAtMessage}`);
  return lines.join('\n') + '\n\n';
}

type Block = { type?: string; text?: string; name?: string; input?: unknown; content?: unknown; thinking?: string };

function fence(text: string, lang = ''): string {
  // A fence longer than any backtick run inside, so the block cannot be closed early.
  const longest = Math.max(2, ...Array.from(text.matchAll(/`+/g), (m) => m[0].length));
  const f = '`'.repeat(longest + 1);
  return `${f}${lang}\n${text}\n${f}\n`;
}

function blockText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return (content as Block[]).map((b) => (b.type === 'text' ? (b.text ?? '') : '')).join('\n');
}

/** One transcript or stream-json line as Markdown: what was said, tool calls and their results; the rest is left out. */
export function markdownOf(raw: string, runId?: string): string {
  let msg: { type?: string; subtype?: string; isMeta?: boolean; message?: { role?: string; content?: unknown }; result?: unknown; total_cost_usd?: number; model?: string };
  try {
    msg = JSON.parse(raw) as typeof msg;
  } catch {
    return '';
  }
  if (msg.isMeta) return '';
  if (msg.type === 'system' && msg.subtype === 'init') return `_run ${runId ?? ''}${msg.model ? ` on ${msg.model}` : ''}_\n\n`;
  if (msg.type === 'result') {
    const cost = typeof msg.total_cost_usd === 'number' ? ` · ${usd(msg.total_cost_usd)}` : '';
    return `---\n\n**Result** (${msg.subtype ?? 'done'}${cost})${typeof msg.result === 'string' && msg.result ? `\n\n${msg.result}` : ''}\n\n`;
  }
  const content = msg.message?.content;
  if (msg.type === 'user') {
    if (typeof content === 'string') return `## User\n\n${content}\n\n`;
    const parts: string[] = [];
    for (const b of (Array.isArray(content) ? content : []) as Block[]) {
      if (b.type === 'text' && b.text) parts.push(`## User\n\n${b.text}\n`);
      if (b.type === 'tool_result') parts.push(`### Tool result\n\n${fence(blockText(b.content) || JSON.stringify(b.content ?? ''))}`);
    }
    return parts.length ? parts.join('\n') + '\n' : '';
  }
  if (msg.type === 'assistant') {
    const parts: string[] = [];
    for (const b of (Array.isArray(content) ? content : typeof content === 'string' ? [{ type: 'text', text: content }] : []) as Block[]) {
      if (b.type === 'text' && b.text) parts.push(b.text);
      if (b.type === 'tool_use') parts.push(`**Tool call** \`${b.name ?? '?'}\`\n\n${fence(JSON.stringify(b.input ?? {}, null, 2), 'json')}`);
    }
    return parts.length ? `## Assistant\n\n${parts.join('\n\n')}\n\n` : '';
  }
  return '';
}
