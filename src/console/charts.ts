/**
 * Server-rendered SVG charts: no chart library and no script. Labels go
 * through `html` (escaped) like every other value.
 */
import { formatUsd as usd } from '../model/formats.js';
import { html, type Html } from './html.js';
import { type CostSeries } from './costs.js';

const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#9c755f'];
const MICRO = 1_000_000;

export function colorOf(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

/** A stacked bar chart of exact spend per key, with each period's estimated spend hatched on top. */
export function stackedBars(series: CostSeries, title: string): Html {
  if (series.rows.length === 0) return html`<p class="empty">No runs in this range</p>`;
  const width = 760;
  const height = 220;
  const left = 64;
  const bottom = 36;
  const plotW = width - left - 8;
  const plotH = height - bottom - 10;
  const totals = series.rows.map((r) => r.exact.reduce((a, b) => a + b, 0) + r.estimated);
  const max = Math.max(...totals, 1);
  const slot = plotW / series.rows.length;
  const barW = Math.max(2, Math.min(48, slot * 0.7));
  const y = (micro: number) => (micro / max) * plotH;
  const labelEvery = Math.ceil(series.rows.length / 12);
  const bars = series.rows.map((r, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    let top = 10 + plotH;
    const segs = r.exact.map((v, k) => {
      if (v <= 0) return '';
      const h = y(v);
      top -= h;
      return html`<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${colorOf(k)}"><title>${r.period} ${series.keys[k]}: ${usd(v / MICRO)}</title></rect>`;
    });
    let est: Html | string = '';
    if (r.estimated > 0) {
      const h = y(r.estimated);
      top -= h;
      est = html`<rect class="estimated" x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="url(#hatch)"><title>${r.period} estimated: ${usd(r.estimated / MICRO)}</title></rect>`;
    }
    const label = i % labelEvery === 0 ? html`<text x="${(x + barW / 2).toFixed(1)}" y="${height - bottom + 16}" text-anchor="middle">${r.period}</text>` : '';
    return html`<g class="bar" data-period="${r.period}">${segs}${est}${label}</g>`;
  });
  const ticks = [0, 0.5, 1].map((f) => html`<text x="${left - 6}" y="${(10 + plotH - f * plotH + 4).toFixed(1)}" text-anchor="end">${usd((max * f) / MICRO)}</text><line x1="${left}" x2="${width - 8}" y1="${(10 + plotH - f * plotH).toFixed(1)}" y2="${(10 + plotH - f * plotH).toFixed(1)}" class="grid"/>`);
  const legend = [
    ...series.keys.map((k, i) => html`<span class="key">${swatch(colorOf(i))}${k}</span>`),
    series.rows.some((r) => r.estimated > 0) ? html`<span class="key">${swatch('url(#hatch)')}estimated</span>` : '',
  ];
  return html`<figure class="chart">
<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${title}">
<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ddd"/><line x1="0" y1="0" x2="0" y2="6" stroke="#888" stroke-width="3"/></pattern></defs>
${ticks}${bars}
</svg>
<figcaption>${title}</figcaption>
<div class="legend">${legend}</div>
</figure>`;
}

/** A legend square (an SVG fill, since the page's CSP allows no inline styles). */
function swatch(fill: string): Html {
  return html`<svg class="swatch" width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="${fill}"/></svg>`;
}
