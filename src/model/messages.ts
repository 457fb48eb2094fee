/**
 * Reading the CLI's messages where every layer needs the same answer: the
 * one definition of "first assistant text" behind session, step and run
 * summaries. Pure module.
 */

/** Summaries are this many characters of the first assistant text. */
export const SUMMARY_CHARS = 200;

/**
 * The text of one assistant message (the parsed CLI line): its first non-blank text block (or
 * string content), trimmed; null when it has none or is the CLI's report of an API error.
 */
export function assistantText(line: unknown): string | null {
  if (typeof line !== 'object' || line === null) return null;
  const { message, is_api_error_message: apiError } = line as { message?: { content?: unknown }; is_api_error_message?: unknown };
  if (apiError === true) return null;
  const content = message?.content;
  if (typeof content === 'string') return content.trim() || null;
  if (!Array.isArray(content)) return null;
  for (const block of content as Array<{ type?: unknown; text?: unknown } | null>) {
    if (block?.type === 'text' && typeof block.text === 'string' && block.text.trim()) return block.text.trim();
  }
  return null;
}

/** `text` cut to `length` characters by code point, so a surrogate pair is never split. */
export function truncateText(text: string, length: number): string {
  const chars = Array.from(text);
  return chars.length <= length ? text : chars.slice(0, length).join('');
}

/** A summary of an assistant text: its first {@link SUMMARY_CHARS} characters. */
export function summaryOf(text: string): string {
  return truncateText(text, SUMMARY_CHARS);
}
