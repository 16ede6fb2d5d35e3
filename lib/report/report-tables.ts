// What a trace report shows, independent of where it is shown: headline lines and
// tables of strings. The terminal report (terminal-report.ts) and the HTML report
// (html-report.ts) render the same content.
import { ALLOCATION_SCOPES } from '../allocator/policy';
import { formatBytes } from './stats-table';
import type { Trace, TraceLeak } from '../trace/trace';

export interface ReportTable {
  /** Stable id (HTML anchors, tests). */
  id: 'commands' | 'scopes' | 'objects' | 'leaks' | 'still-live';
  title: string;
  header: string[];
  rows: string[][];
  /** Shown when there are no rows. */
  empty: string;
  /** e.g. "12 more not shown". */
  note?: string;
}

export interface ReportContent {
  headline: string[];
  /** Problems first: dropped events, leaks. */
  warnings: string[];
  tables: ReportTable[];
}

export interface ReportOptions {
  /** Object rows to show, biggest peak first (default 20). */
  topObjects?: number;
  /** Leak and still-live rows to show (default 100). */
  maxBlocks?: number;
}

export const formatMs = (ns: number): string => `${(ns / 1e6).toFixed(3)} ms`;
const hex = (address: number) => `0x${address.toString(16)}`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function reportContent(trace: Trace, options: ReportOptions = {}): ReportContent {
  const topObjects = options.topObjects ?? 20;
  const maxBlocks = options.maxBlocks ?? 100;
  const s = trace.summary();
  const leaks = trace.leaks();
  const stillLive = trace.stillLive();
  const objectName = (id: number) => {
    const o = trace.object(id);
    return o ? `${o.type} #${id}` : '-';
  };

  const offThread = Object.values(s.offThreadCalls).reduce((a, b) => a + b, 0);
  const headline = [
    `${plural(s.events, 'event')} over ${formatMs(s.duration)}: ${plural(s.calls.allocate, 'allocation')}, ` +
      `${plural(s.calls.reallocate, 'reallocation')}, ${plural(s.calls.free, 'free')}, ` +
      `${plural(s.calls.internalAllocate + s.calls.internalFree, 'internal notification')}, ${plural(s.failures, 'failure')}`,
    `allocated ${formatBytes(s.bytesAllocated)} - freed ${formatBytes(s.bytesFreed)} = live ${formatBytes(s.liveBytes)} ` +
      `in ${s.liveCount} blocks; peak live ${formatBytes(s.peakLiveBytes)}`,
    `off-thread: ${plural(offThread, 'callback')} from ${plural(s.offThreads, 'driver thread')}, outside any command`,
  ];
  if (s.untrackedFrees > 0) headline.push(`${plural(s.untrackedFrees, 'free')} of blocks allocated before the trace started (not counted in bytes)`);

  const warnings: string[] = [];
  if (s.dropped > 0) warnings.push(`${plural(s.dropped, 'event')} dropped by the recorder (buffer full): figures are incomplete`);
  if (leaks.length > 0) warnings.push(`${plural(leaks.length, 'leaked block')} (${formatBytes(leaks.reduce((a, l) => a + l.size, 0))})`);

  const commands: ReportTable = {
    id: 'commands', title: 'Host allocations per Vulkan command',
    header: ['command', 'runs', 'allocs', 'reallocs', 'frees', 'failures', 'allocated', 'freed', 'peak live', 'time'],
    rows: s.commands.map((c) => [c.command, c.invocations, c.allocations, c.reallocations, c.frees, c.failures,
      formatBytes(c.bytesAllocated), formatBytes(c.bytesFreed), formatBytes(c.peakLiveBytes), formatMs(c.duration)].map(String)),
    empty: 'No commands were traced.',
  };

  const scopes: ReportTable = {
    id: 'scopes', title: 'Host allocations per scope',
    header: ['scope', 'allocs', 'reallocs', 'frees', 'allocated', 'freed', 'live', 'peak live'],
    rows: ALLOCATION_SCOPES.map((name) => {
      const x = s.scopes[name];
      return [name, x.allocations, x.reallocations, x.frees, formatBytes(x.bytesAllocated), formatBytes(x.bytesFreed),
        `${x.liveCount} / ${formatBytes(x.liveBytes)}`, formatBytes(x.peakLiveBytes)].map(String);
    }),
    empty: '',
  };

  const byPeak = [...s.objects].sort((a, b) => b.peakLiveBytes - a.peakLiveBytes || a.id - b.id);
  const objects: ReportTable = {
    id: 'objects', title: `Vulkan objects by peak bytes held (top ${topObjects})`,
    header: ['object', 'created by', 'state', 'allocated', 'live now', 'peak'],
    rows: byPeak.slice(0, topObjects).map((o) => [objectName(o.id), o.createdBy, o.destroyed ? 'destroyed' : 'alive',
      formatBytes(o.bytesAllocated), `${o.liveCount} / ${formatBytes(o.liveBytes)}`, formatBytes(o.peakLiveBytes)]),
    empty: 'No objects were traced.',
    note: byPeak.length > topObjects ? `${byPeak.length - topObjects} more objects not shown` : undefined,
  };

  const leakRows: ReportTable = {
    id: 'leaks', title: 'Leaks',
    header: ['why', 'allocated in', 'object', 'scope', 'size', 'address', 'at', 'freed later', 'call site'],
    rows: leaks.slice(0, maxBlocks).map((l) => [leakWhy(l), l.command, objectName(l.object), l.scope, formatBytes(l.size),
      hex(l.address), formatMs(l.time), l.freedAt === null ? 'never' : `at seq ${l.freedAt}`, l.callSite ?? '-']),
    empty: 'No leaks.',
    note: leaks.length > maxBlocks ? `${leaks.length - maxBlocks} more leaks not shown` : undefined,
  };

  const stillRows: ReportTable = {
    id: 'still-live', title: 'Still live at the end of the trace, not leaks (the owner still exists, or there is none)',
    header: ['reason', 'owner', 'allocated in', 'scope', 'size', 'address', 'at', 'call site'],
    rows: stillLive.slice(0, maxBlocks).map((b) => [b.reason, b.owner ? `${b.owner.type} #${b.owner.id}` : '-', b.command,
      b.scope, formatBytes(b.size), hex(b.address), formatMs(b.time), b.callSite ?? '-']),
    empty: 'No blocks are live at the end of the trace.',
    note: stillLive.length > maxBlocks ? `${stillLive.length - maxBlocks} more blocks not shown` : undefined,
  };

  return { headline, warnings, tables: [commands, scopes, objects, leakRows, stillRows] };
}

function leakWhy(leak: TraceLeak): string {
  if (leak.rule === 'command-returned') return 'outlived its command';
  return `outlived ${leak.owner!.type} #${leak.owner!.id}`;
}
