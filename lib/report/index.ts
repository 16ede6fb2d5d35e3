// vkalloc/report: turning statistics and traces into something to read — text
// tables for terminals, the self-contained HTML report.
export { htmlReport, writeHtmlReport } from './html-report';
export type { HtmlReportOptions } from './html-report';
export type { ReportOptions } from './report-tables';
export { commandTable, formatBytes, scopeTable, summaryLine } from './stats-table';
export { terminalReport } from './terminal-report';
