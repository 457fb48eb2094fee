/**
 * Escaping by default: `html` tagged templates escape every interpolated value
 * unless it is itself `Html` (built by this module or by `trusted`). Model
 * output and tool results only ever reach a page through here.
 */
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Markup known to be safe: the output of `html`, or a string this code produced (`trusted`). */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** A value an `html` template accepts: text (escaped), markup, lists of either, or nothing. */
export type Part = Html | string | number | boolean | null | undefined | readonly Part[];

function partToString(p: Part): string {
  if (p === null || p === undefined || p === false || p === true) return '';
  if (p instanceof Html) return p.value;
  if (Array.isArray(p)) return (p as readonly Part[]).map(partToString).join('');
  return escapeHtml(String(p));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += partToString(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Wrap markup produced by trusted code (the markdown renderer, the SVG charts); never model output. */
export function trusted(markup: string): Html {
  return new Html(markup);
}

/** Join parts with a separator, escaping as `html` does. */
export function join(parts: readonly Part[], separator: Part = ''): Html {
  return new Html(parts.map(partToString).join(partToString(separator)));
}
