// A trace report as plain text: headline, then aligned tables (lib/report/stats-table.ts).
// Everything from the trace file is made printable (its meta here, cells in table()).
import { printable, table } from './stats-table';
import type { Trace } from '../trace/trace';
import { reportContent, ReportOptions } from './report-tables';

export function terminalReport(trace: Trace, options?: ReportOptions): string {
  const { headline, warnings, tables } = reportContent(trace, options);
  const meta = Object.entries(trace.meta).map(([k, v]) => printable(`${k}: ${v}`));
  const parts = [[...meta, ...headline].join('\n')];
  if (warnings.length > 0) parts.push(warnings.map((w) => `warning: ${w}`).join('\n'));
  for (const t of tables) {
    const body = t.rows.length > 0 ? table(t.header, t.rows) : t.empty;
    parts.push([t.title, '', body, ...(t.note ? [`(${t.note})`] : [])].join('\n'));
  }
  return parts.join('\n\n') + '\n';
}
