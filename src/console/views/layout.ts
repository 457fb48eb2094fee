/** The page frame: navigation, stylesheet and the one script, both served by the console. */
import { html, type Html, type Part } from '../html.js';

export const NAV = [
  { href: '/sessions', label: 'Sessions' },
  { href: '/costs', label: 'Costs' },
  { href: '/live', label: 'Live' },
] as const;

export function page(title: string, active: string, body: Part): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · claude-temporal</title>
<link rel="stylesheet" href="/assets/console.css">
<script src="/assets/console.js" defer></script>
</head>
<body>
<header class="top"><a class="brand" href="/sessions">claude-temporal</a>
<nav>${NAV.map((n) => html`<a href="${n.href}"${n.href === active ? html` aria-current="page"` : ''}>${n.label}</a>`)}</nav></header>
<main>${body}</main>
</body>
</html>`;
}

export function errorPage(status: number, message: string): Html {
  return page(`Error ${status}`, '', html`<h1>${status === 404 ? 'Not found' : 'Error'}</h1><p class="error">${message}</p><p><a href="/sessions">Back to sessions</a></p>`);
}

/** A query string from a record, dropping empty values; arrays repeat the key. */
export function query(params: Record<string, string | readonly string[] | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) for (const x of v as readonly string[]) q.append(k, x);
    else q.set(k, v as string);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
