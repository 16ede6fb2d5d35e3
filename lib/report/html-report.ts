// A trace report as one self-contained HTML file: a chart of live bytes per scope over
// time with the Vulkan commands shaded behind it, then the report tables. uPlot's JS and
// CSS and the chart's data are inlined, and a Content-Security-Policy forbids every
// fetch, so the page works (and stays) offline.
import * as fs from 'fs';
import { ALLOCATION_SCOPES } from '../allocator/policy';
import type { Trace } from '../trace/trace';
import { chartLibrary } from './assets';
import { reportContent, ReportOptions, ReportTable } from './report-tables';

export interface HtmlReportOptions extends ReportOptions {
  title?: string;
  /** Most points the chart gets; longer series keep each bucket's highest total (default 5000). */
  maxPoints?: number;
}

/** What the page's script reads (times in ms since the trace started). */
export interface ChartData {
  scopes: string[];
  x: number[];
  y: Record<string, number[]>;
  total: number[];
  /** [start ms, end ms, command] per command run. */
  spans: [number, number, string][];
  downsampled: boolean;
}

export function htmlReport(trace: Trace, options: HtmlReportOptions = {}): string {
  const { js, css } = chartLibrary();
  const title = options.title ?? 'vkalloc trace report';
  const { headline, warnings, tables } = reportContent(trace, options);
  const chart = chartData(trace, options.maxPoints ?? 5000);
  const meta = Object.entries(trace.meta).map(([k, v]) => `<span><b>${esc(k)}</b> ${esc(String(v))}</span>`).join('');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${esc(title)}</title>
<style>${css}</style>
<style>${PAGE_CSS}</style>
</head>
<body>
<header>
<h1>${esc(title)}</h1>
<p class="meta">${meta}</p>
</header>
${warnings.length ? `<ul class="warnings">${warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : ''}
<ul class="headline">${headline.map((h) => `<li>${esc(h)}</li>`).join('')}</ul>
<section id="timeline">
<h2>Live bytes per scope over time</h2>
<p class="hint">Shaded bands are Vulkan commands (named when wide enough; point at one to see it). Drag to zoom, double-click to zoom out.${chart.downsampled ? ' The series is downsampled: each point is the highest total of its stretch.' : ''}</p>
<div id="chart"></div>
<p id="chart-cursor">&nbsp;</p>
</section>
${tables.map(renderTable).join('\n')}
<footer>vkalloc trace report. Chart: uPlot (MIT).</footer>
<script>${js}</script>
<script type="application/json" id="vkalloc-chart-data">${jsonForScript(chart)}</script>
<script>${CHART_SCRIPT}</script>
</body>
</html>
`;
}

export function writeHtmlReport(trace: Trace, path: string, options?: HtmlReportOptions): void {
  fs.writeFileSync(path, htmlReport(trace, options));
}

export function chartData(trace: Trace, maxPoints: number): ChartData {
  const series = trace.liveSeries();
  const n = series.time.length;
  // Keep, per bucket of points, the one with the highest total: peaks survive.
  const step = Math.max(1, Math.ceil(n / Math.max(2, maxPoints)));
  const keep: number[] = [];
  for (let start = 0; start < n; start += step) {
    let best = start;
    for (let j = start + 1; j < Math.min(n, start + step); j++) if (series.total[j] > series.total[best]) best = j;
    keep.push(best);
  }
  if (keep[keep.length - 1] !== n - 1) keep.push(n - 1);
  // uPlot needs x ascending; threads' clocks may disagree with seq order by a few ns.
  let last = 0;
  const x = keep.map((j) => (last = Math.max(last, series.time[j] / 1e6)));
  const y = Object.fromEntries(ALLOCATION_SCOPES.map((s) => [s, keep.map((j) => series.scopes[s][j])]));
  const end = trace.summary().duration;
  return {
    scopes: [...ALLOCATION_SCOPES], x, y, total: keep.map((j) => series.total[j]),
    spans: trace.commandSpans().map((s) => [s.start / 1e6, (s.end ?? end) / 1e6, s.command]),
    downsampled: step > 1,
  };
}

function renderTable(t: ReportTable): string {
  const body = t.rows.length === 0 ? `<p class="empty">${esc(t.empty)}</p>`
    : `<table><thead><tr>${t.header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>\n` +
      t.rows.map((r) => `<tr>${r.map((c, i) => `<td${i > 0 && NUMERIC.test(c) ? ' class="num"' : ''}>${esc(c)}</td>`).join('')}</tr>`).join('\n') +
      '\n</tbody></table>';
  return `<section id="${t.id}"${t.id === 'leaks' && t.rows.length ? ' class="bad"' : ''}>\n<h2>${esc(t.title)}</h2>\n${body}` +
    `${t.note ? `<p class="note">${esc(t.note)}</p>` : ''}\n</section>`;
}

const NUMERIC = /^(-?[\d.]+( (B|KiB|MiB|GiB|ms))?|\d+ \/ [\d.]+ (B|KiB|MiB|GiB)|0x[0-9a-f]+)$/;

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that cannot end its <script> element early. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

const PAGE_CSS = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1200px; padding: 0 16px; color: #1d2330; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 8px; }
.meta span { margin-right: 16px; color: #555; }
.headline { padding-left: 18px; }
.warnings { padding: 8px 8px 8px 26px; background: #fdecea; color: #8a1c10; border-radius: 4px; }
.hint, .note, .empty, footer { color: #666; font-size: 13px; }
#chart { width: 100%; min-height: 380px; }
#chart-cursor { font-family: ui-monospace, monospace; font-size: 12px; color: #333; min-height: 1.4em; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #e3e6ec; text-align: left; white-space: nowrap; }
th { background: #f3f5f9; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
section.bad h2 { color: #b3261e; }
footer { margin-top: 32px; }
`;

// Runs in the page: draws the chart from #vkalloc-chart-data with uPlot, then marks
// <html data-chart="drawn"> (what the headless-browser test waits for).
const CHART_SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('vkalloc-chart-data').textContent);
  var el = document.getElementById('chart');
  var info = document.getElementById('chart-cursor');
  var COLORS = { command: '#e45756', object: '#4c78a8', cache: '#b279a2', device: '#f58518', instance: '#54a24b', total: '#222' };
  function bytes(n) {
    if (n < 1024) return n + ' B';
    if (n < 1048576) return (n / 1024).toFixed(1) + ' KiB';
    return (n / 1048576).toFixed(2) + ' MiB';
  }
  function showBytes(u, v) { return v == null ? '-' : bytes(v); }
  var POWERS_OF_TWO = [];
  for (var p = 0; p < 50; p++) POWERS_OF_TWO.push(Math.pow(2, p));
  var stepped = uPlot.paths.stepped({ align: 1 });
  var series = [{ label: 'time', value: function (u, v) { return v == null ? '-' : v.toFixed(3) + ' ms'; } }];
  var columns = [data.x];
  data.scopes.forEach(function (s) {
    series.push({ label: s, stroke: COLORS[s], width: 1.5, paths: stepped, points: { show: false }, value: showBytes });
    columns.push(data.y[s]);
  });
  series.push({ label: 'total', stroke: COLORS.total, width: 1, dash: [4, 3], paths: stepped, points: { show: false }, value: showBytes });
  columns.push(data.total);

  function spanAt(ms) {
    var lo = 0, hi = data.spans.length - 1, found = null;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (data.spans[mid][0] <= ms) { found = data.spans[mid]; lo = mid + 1; } else hi = mid - 1;
    }
    return found && found[1] >= ms ? found : null;
  }
  function drawSpans(u) {
    var ctx = u.ctx, b = u.bbox, px = window.devicePixelRatio || 1;
    ctx.save();
    ctx.beginPath();
    ctx.rect(b.left, b.top, b.width, b.height);
    ctx.clip();
    ctx.font = (11 * px) + 'px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    data.spans.forEach(function (s, i) {
      var x0 = u.valToPos(s[0], 'x', true), x1 = u.valToPos(s[1], 'x', true);
      if (x1 < b.left || x0 > b.left + b.width) return;
      ctx.fillStyle = i % 2 ? 'rgba(80, 100, 200, 0.10)' : 'rgba(80, 100, 200, 0.20)';
      ctx.fillRect(x0, b.top, Math.max(x1 - x0, px), b.height);
      if (x1 - x0 > ctx.measureText(s[2]).width + 8 * px) {
        ctx.fillStyle = '#34406b';
        ctx.fillText(s[2], x0 + 4 * px, b.top + 4 * px);
      }
    });
    ctx.restore();
  }
  function onCursor(u) {
    var i = u.cursor.idx;
    var left = u.cursor.left;
    if (left == null || left < 0) { info.textContent = '\\u00a0'; return; }
    var ms = u.posToVal(left, 'x');
    var s = spanAt(ms);
    info.textContent = ms.toFixed(3) + ' ms: ' + (s ? s[2] + ' (' + (s[1] - s[0]).toFixed(3) + ' ms)' : 'between commands') +
      (i != null ? ', live ' + bytes(data.total[i]) : '');
  }
  var plot = new uPlot({
    width: el.clientWidth || 1000,
    height: 380,
    scales: { x: { time: false } },
    axes: [
      { label: 'ms since the trace started' },
      // Ticks at powers of two, so they read as round KiB/MiB.
      { label: 'live bytes', size: 80, incrs: POWERS_OF_TWO, values: function (u, vals) { return vals.map(bytes); } },
    ],
    series: series,
    cursor: { drag: { x: true, y: false } },
    hooks: {
      drawClear: [drawSpans],
      draw: [function () { document.documentElement.setAttribute('data-chart', 'drawn'); }],
      setCursor: [onCursor],
    },
  }, columns, el);
  window.addEventListener('resize', function () { plot.setSize({ width: el.clientWidth || 1000, height: 380 }); });
})();
`;
