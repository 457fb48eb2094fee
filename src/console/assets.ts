/**
 * The console's stylesheet and its one script, served from the package at
 * /assets/ (no build step, no CDN). The script only enhances: every page works
 * without it, except that the live page then needs a reload to update.
 */

export const CONSOLE_CSS = `
:root { --fg:#1d2430; --muted:#667085; --line:#e4e7ec; --bg:#fff; --soft:#f6f7f9; --accent:#3358d4; --ok:#1a7f37; --bad:#c62828; --warn:#9a6700; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
a { color:var(--accent); text-decoration:none; } a:hover { text-decoration:underline; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:12.5px; }
header.top { display:flex; gap:24px; align-items:center; padding:10px 20px; border-bottom:1px solid var(--line); background:var(--soft); }
header.top .brand { font-weight:700; color:var(--fg); }
header.top nav a { margin-right:16px; color:var(--muted); } header.top nav a[aria-current] { color:var(--fg); font-weight:600; }
main { padding:16px 20px 48px; max-width:1200px; }
h1 { font-size:20px; margin:4px 0 12px; } h2 { font-size:15px; margin:18px 0 8px; }
.muted { color:var(--muted); } .empty { color:var(--muted); font-style:italic; }
.error { color:var(--bad); background:#fdecea; padding:8px 10px; border-radius:6px; }
table { border-collapse:collapse; width:100%; } th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-weight:600; color:var(--muted); font-size:12px; } td.num, th.num { text-align:right; white-space:nowrap; }
.desc { color:var(--muted); font-size:12px; max-width:420px; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
.sid { font-family: ui-monospace, monospace; }
.tag { display:inline-block; background:#eef2ff; border-radius:10px; padding:0 8px; margin:1px 2px; font-size:12px; }
.badge { display:inline-block; background:var(--soft); border:1px solid var(--line); border-radius:4px; padding:0 5px; font-size:11px; color:var(--muted); }
.badge.est { color:var(--warn); border-color:#f0d58c; background:#fff8e1; }
.status { font-size:12px; font-weight:600; } .status.completed, .status.success { color:var(--ok); } .status.failed, .status.cancelled { color:var(--bad); } .status.active, .status.running { color:var(--accent); }
form.filters { display:flex; flex-wrap:wrap; gap:8px 12px; align-items:flex-end; background:var(--soft); padding:10px; border-radius:8px; margin-bottom:12px; }
form.filters label { display:flex; flex-direction:column; font-size:12px; color:var(--muted); gap:2px; }
form.filters label.check { flex-direction:row; align-items:center; gap:4px; }
input, select, button { font:inherit; padding:4px 6px; border:1px solid #c9ced6; border-radius:5px; background:#fff; }
form.filters input { width:120px; }
button { cursor:pointer; background:#fff; } button.danger { background:var(--bad); color:#fff; border-color:var(--bad); }
form.inline { display:inline; } button.x { border:none; background:none; color:var(--muted); padding:0 4px; }
.paging a { margin-right:16px; } .paging { margin-top:12px; }
.session-head { display:grid; grid-template-columns: minmax(300px, 1fr) minmax(300px, 1fr); gap:24px; }
dl.meta { display:grid; grid-template-columns:110px 1fr; gap:2px 8px; margin:0 0 8px; } dl.meta dt { color:var(--muted); } dl.meta dd { margin:0; }
.tags, form.description { margin:8px 0; } .label { color:var(--muted); font-size:12px; margin-right:6px; }
form.description input { width:60%; }
ul.tree, ul.tree ul { list-style:none; padding-left:16px; margin:0; } ul.tree li { margin:2px 0; } ul.tree a.current { font-weight:700; color:var(--fg); }
ul.tree ul li::before { content:"└ "; color:var(--muted); }
.conversation { margin-top:12px; }
/* Long sessions: the browser skips layout and paint of entries far off screen. */
.conversation > .msg, .conversation > details, .conversation > .outcome, .conversation > .run-mark { content-visibility:auto; contain-intrinsic-size:auto 48px; }
.run-mark { margin:18px 0 6px; padding:4px 8px; background:var(--soft); border-left:3px solid var(--accent); font-size:12px; color:var(--muted); }
.msg { margin:6px 0; padding:8px 10px; border-radius:8px; } .msg .who { font-size:11px; color:var(--muted); text-transform:uppercase; letter-spacing:.04em; }
.msg.user { background:#eef6ff; } .msg.assistant { background:#fff; border:1px solid var(--line); }
.msg .plain { white-space:pre-wrap; } .md p { margin:4px 0; } .md pre { background:var(--soft); padding:8px; overflow:auto; border-radius:6px; }
details.tool, details.thinking { margin:4px 0 4px 16px; border:1px solid var(--line); border-radius:6px; padding:4px 8px; background:#fcfcfd; }
details.tool summary, details.thinking summary { cursor:pointer; font-size:12.5px; }
.tool-name { font-weight:600; font-family: ui-monospace, monospace; } .preview { color:var(--muted); }
.ok { color:var(--ok); font-size:11px; } .err { color:var(--bad); font-size:11px; } .pending { color:var(--warn); font-size:11px; }
details pre { white-space:pre-wrap; word-break:break-word; background:var(--soft); padding:6px; border-radius:4px; max-height:420px; overflow:auto; }
pre.is-error { background:#fdecea; }
.system { font-size:12px; color:var(--muted); margin:4px 0; }
.outcome { margin:6px 0 10px; font-size:12.5px; padding:4px 8px; border-radius:6px; background:var(--soft); }
.forked-here { margin:8px 0; padding:4px 8px; border:1px dashed var(--accent); border-radius:6px; font-size:12.5px; color:var(--accent); }
figure.chart { margin:8px 0 20px; } figure.chart > svg { width:100%; max-width:760px; height:auto; font-size:10px; fill:var(--muted); }
figure.chart .grid { stroke:var(--line); } figcaption { font-size:12px; color:var(--muted); }
.legend { display:flex; flex-wrap:wrap; gap:4px 14px; font-size:12px; } .legend .key { display:inline-flex; align-items:center; gap:4px; white-space:nowrap; } svg.swatch { flex:none; }
.cost-tables { max-width:900px; } .cost-table td:first-child { word-break:break-all; }
.totals { font-size:15px; }
article.live-run { border:1px solid var(--line); border-radius:8px; padding:10px 12px; margin:10px 0; }
article.live-run header { display:flex; gap:10px; align-items:baseline; flex-wrap:wrap; } article.live-run .cancel { margin-left:auto; color:var(--bad); }
.progress { margin:6px 0; } progress { width:200px; vertical-align:middle; }
ol.steps { margin:4px 0; padding-left:20px; } li.step .state { font-size:11px; text-transform:uppercase; color:var(--muted); } li.step.running .state { color:var(--accent); } li.step.done .state { color:var(--ok); } li.step.failed .state { color:var(--bad); }
.running-step { border-top:1px dashed var(--line); margin-top:8px; padding-top:6px; } .step-head { font-size:12.5px; color:var(--muted); }
.tail { max-height:360px; overflow:auto; }
@media (max-width: 800px) { .session-head { grid-template-columns:1fr; } }
`;

export const CONSOLE_JS = `'use strict';
(function () {
  // Live page: the server re-renders the #live fragment (escaped like every page) and sends it when it changes.
  var live = document.getElementById('live');
  if (live && window.EventSource) {
    var source = new EventSource(live.getAttribute('data-events'));
    var state = document.querySelector('.live-state');
    source.addEventListener('live', function (e) {
      var open = {};
      live.querySelectorAll('details[open]').forEach(function (d, i) { open[i] = true; });
      live.innerHTML = e.data;
      live.querySelectorAll('details').forEach(function (d, i) { if (open[i]) d.open = true; });
      live.querySelectorAll('.tail').forEach(function (t) { t.scrollTop = t.scrollHeight; });
      live.setAttribute('data-updated', String(Date.now()));
    });
    source.addEventListener('open', function () { if (state) state.textContent = 'Connected: updates as the worker stores messages.'; });
    source.addEventListener('error', function () { if (state) state.textContent = 'Disconnected: retrying…'; });
  }
  // Session page: expand or collapse every tool call at once.
  var expand = document.querySelector('button.expand-all');
  if (expand) {
    expand.hidden = false;
    expand.addEventListener('click', function () {
      var tools = document.querySelectorAll('details.tool');
      var open = expand.textContent === 'expand all';
      tools.forEach(function (d) { d.open = open; });
      expand.textContent = open ? 'collapse all' : 'expand all';
    });
  }
})();
`;
