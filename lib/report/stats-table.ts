// Plain-text tables of an allocator's statistics, for terminals and logs. Text that
// comes from outside (a trace file's command names and call sites, a script's error)
// goes through printable(): a hostile trace must not drive the user's terminal.
import type { AllocatorStats } from '../allocator/host-allocator';
import { ALLOCATION_SCOPES } from '../allocator/policy';

// C0 controls (ESC starts ANSI/OSC sequences), DEL, C1 controls (0x9b is a one-byte
// CSI), and the bidirectional overrides and isolates that reorder what is shown.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_KEEP_LINES = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const escapeChar = (c: string): string => {
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/** `text` with control characters shown as \xNN / \uNNNN escapes; newlines kept when `lines` (multi-line messages). */
export function printable(text: string, lines = false): string {
  return text.replace(lines ? CONTROL_KEEP_LINES : CONTROL, escapeChar);
}

/** JSON text with what JSON.stringify leaves raw (DEL, C1, bidi controls) escaped too: still the same JSON. */
export function terminalJson(json: string): string {
  return json.replace(/[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const UNITS = [['KiB', 1], ['MiB', 2], ['GiB', 2], ['TiB', 2]] as const;

/**
 * Bytes with a binary unit: 1023 B, 1.0 KiB, 1.00 MiB, 5.00 GiB. The unit is chosen
 * after rounding, so a value just under a boundary never shows as "1024.0 KiB".
 */
export function formatBytes(n: number): string {
  if (Math.abs(n) < 1024) return `${n} B`;
  let value = n;
  for (let i = 0; i < UNITS.length; i++) {
    value /= 1024;
    const [unit, digits] = UNITS[i];
    const shown = value.toFixed(digits);
    if (Math.abs(Number(shown)) < 1024 || i === UNITS.length - 1) return `${shown} ${unit}`;
  }
  return `${n} B`;  // not reached
}

/** Columns right-aligned except the first; a rule under the header; cells made printable. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((cell) => printable(String(cell))))];
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
