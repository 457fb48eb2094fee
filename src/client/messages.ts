/** Stored CLI messages as the one-line entries a person follows: what the assistant says and which tools it calls. */

export interface MessageLine {
  /** `text`: assistant text; `tool`: a tool call (name and its main argument). */
  kind: 'text' | 'tool';
  text: string;
}

/** What a line of `tool` shows of a call's input: the argument that says what it does. */
const MAIN_ARGUMENT = ['command', 'file_path', 'path', 'pattern', 'url', 'query', 'description', 'prompt'];

const oneLine = (s: string, max: number) => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
};

/** The lines of one stored message (its exact JSON line); none for anything but assistant text and tool calls. */
export function messageLines(raw: string, max = 200): MessageLine[] {
  let data: { type?: unknown; message?: { content?: unknown } };
  try {
    data = JSON.parse(raw) as typeof data;
  } catch {
    return [];
  }
  if (data.type !== 'assistant' || !Array.isArray(data.message?.content)) return [];
  const lines: MessageLine[] = [];
  for (const block of data.message.content as { type?: unknown; text?: unknown; name?: unknown; input?: unknown }[]) {
    if (block?.type === 'text' && typeof block.text === 'string' && block.text.trim()) {
      lines.push({ kind: 'text', text: oneLine(block.text, max) });
    } else if (block?.type === 'tool_use' && typeof block.name === 'string') {
      const input = (typeof block.input === 'object' && block.input !== null ? block.input : {}) as Record<string, unknown>;
      const key = MAIN_ARGUMENT.find((k) => typeof input[k] === 'string');
      const arg = key ? String(input[key]) : Object.keys(input).length ? JSON.stringify(input) : '';
      lines.push({ kind: 'tool', text: oneLine(`${block.name}${arg ? ` ${arg}` : ''}`, max) });
    }
  }
  return lines;
}
