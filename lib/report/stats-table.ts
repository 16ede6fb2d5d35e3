// Plain-text tables of an allocator's statistics, for terminals and logs.
import type { AllocatorStats } from '../allocator/host-allocator';
import { ALLOCATION_SCOPES } from '../allocator/policy';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

/** Columns right-aligned except the first; a rule under the header. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function commandTable(stats: AllocatorStats): string {
  return table(
    ['command', 'allocs', 'reallocs', 'frees', 'allocated', 'freed', 'peak live'],
    stats.commands.map((c) => [c.command, c.allocations, c.reallocations, c.frees,
      formatBytes(c.bytesAllocated), formatBytes(c.bytesFreed), formatBytes(c.peakLiveBytes)]),
  );
}

export function scopeTable(stats: AllocatorStats): string {
  return table(
    ['scope', 'allocs', 'reallocs', 'frees', 'allocated', 'live', 'peak live'],
    ALLOCATION_SCOPES.map((name) => {
      const s = stats.scopes[name];
      return [name, s.allocations, s.reallocations, s.frees, formatBytes(s.bytesAllocated),
        `${s.liveCount} / ${formatBytes(s.liveBytes)}`, formatBytes(s.peakBytes)];
    }),
  );
}

export function summaryLine(stats: AllocatorStats): string {
  const off = stats.offThreadCalls;
  const offTotal = off.allocate + off.reallocate + off.free + off.internalAllocate + off.internalFree;
  return `${stats.liveCount} blocks live (${formatBytes(stats.liveBytes)}), peak ${formatBytes(stats.peakBytes)} in ` +
    `${stats.peakCount} blocks; ${stats.calls.allocate} allocations, ${stats.calls.reallocate} reallocations, ` +
    `${stats.calls.free} frees; ${offTotal} off-thread calls; ${stats.failures} failures`;
}
