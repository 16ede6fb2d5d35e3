// A trace as Chrome trace-event JSON (the "JSON Array/Object Format" that Perfetto UI,
// ui.perfetto.dev, and chrome://tracing open). Times are µs (floats, so ns survive).
//
// One process (pid 1, named "vkalloc" plus the driver when known) with these tracks:
//
//   thread 1  "JS thread: Vulkan commands"
//             'X' complete event per Vulkan command run (cat "vulkan"), args: result (VkResult),
//             object ("Buffer #3"), callSite, allocations, reallocations, frees, bytesAllocated,
//             bytesFreed, seq;
//             'i' instant event per callback on the JS thread (cat "allocation"), named by kind
//             (allocate, reallocate, free, internal-allocate, internal-free), args: seq, command,
//             size, alignment, address (hex), scope, object ("Buffer #3" or null); reallocate adds
//             oldAddress and oldSize; free gives the freed block's size, scope and object;
//             failed: true when the callback returned NULL.
//   thread 1+N  "driver thread N (off-thread callbacks)", for each thread N > 0 that called
//             back: its 'i' events, as above (command 'none').
//   counter "live bytes"  'C' events, one arg per scope (command, object, cache, device,
//             instance): the allocator's live bytes after every change. chrome://tracing
//             stacks them in one track; Perfetto shows a track per scope ("live bytes device").
//
// 'M' metadata events name the process and threads and keep the JS thread first.
// `metadata` holds the trace's meta plus format, version, events and dropped.
import { SCOPE_NAMES as ALLOCATION_SCOPES } from '../native/boundary';
import type { Trace, TraceBlock, TraceEvent } from './trace';

export interface ChromeTraceEvent {
  name: string;
  ph: 'X' | 'i' | 'C' | 'M';
  pid: number;
  tid?: number;
  ts?: number;
  dur?: number;
  cat?: string;
  s?: 't' | 'p' | 'g';
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: 'ns';
  metadata: Record<string, string | number>;
}

const PID = 1;
const JS_TID = 1;
/** The counter's name: one series per scope. */
export const LIVE_BYTES_COUNTER = 'live bytes';

const us = (ns: number) => ns / 1000;
const hex = (address: number) => `0x${address.toString(16)}`;

export function toChromeTrace(trace: Trace): ChromeTrace {
  const events: ChromeTraceEvent[] = [];
  const objectName = (id: number) => {
    const o = trace.object(id);
    return o ? `${o.type} #${id}` : null;
  };

  const driver = trace.meta.driver;
  events.push({ name: 'process_name', ph: 'M', pid: PID, args: { name: driver ? `vkalloc (${driver})` : 'vkalloc' } });
  events.push({ name: 'thread_name', ph: 'M', pid: PID, tid: JS_TID, args: { name: 'JS thread: Vulkan commands' } });
  events.push({ name: 'thread_sort_index', ph: 'M', pid: PID, tid: JS_TID, args: { sort_index: 0 } });

  const end = trace.summary().duration;
  for (const span of trace.commandSpans()) {
    events.push({
      name: span.command, cat: 'vulkan', ph: 'X', pid: PID, tid: JS_TID, ts: us(span.start), dur: us((span.end ?? end) - span.start),
      args: {
        seq: span.beginSeq, result: span.result, object: objectName(span.object), callSite: span.callSite,
        allocations: span.allocations, reallocations: span.reallocations, frees: span.frees,
        bytesAllocated: span.bytesAllocated, bytesFreed: span.bytesFreed, ...(span.end === null ? { unfinished: true } : {}),
      },
    });
  }

  // A free's size, scope and object are those of the block it ended (the event's own may be blank).
  const ended = new Map<number, TraceBlock>();
  for (const b of trace.blocks()) if (b.endIndex !== null) ended.set(b.endIndex, b);

  const threads = new Set<number>();
  for (const e of trace.events()) {
    if (e.kind === 'command-begin' || e.kind === 'command-end') continue;
    if (e.thread !== 0 && !threads.has(e.thread)) {
      threads.add(e.thread);
      events.push({ name: 'thread_name', ph: 'M', pid: PID, tid: JS_TID + e.thread, args: { name: `driver thread ${e.thread} (off-thread callbacks)` } });
      events.push({ name: 'thread_sort_index', ph: 'M', pid: PID, tid: JS_TID + e.thread, args: { sort_index: e.thread } });
    }
    events.push(instant(e, ended.get(e.index), objectName));
  }

  const series = trace.liveSeries();
  for (let j = 0; j < series.time.length; j++) {
    const args = Object.fromEntries(ALLOCATION_SCOPES.map((s) => [s, series.scopes[s][j]]));
    events.push({ name: LIVE_BYTES_COUNTER, ph: 'C', pid: PID, ts: us(series.time[j]), args });
  }

  return {
    traceEvents: events,
    displayTimeUnit: 'ns',
    metadata: { ...trace.meta, format: 'vkalloc-chrome-trace', version: 1, events: trace.count, dropped: trace.dropped },
  };
}

function instant(e: TraceEvent, ended: TraceBlock | undefined, objectName: (id: number) => string | null): ChromeTraceEvent {
  const args: Record<string, unknown> = { seq: e.seq, command: e.command };
  if (e.kind === 'free') {
    Object.assign(args, { address: hex(e.address), size: ended?.size ?? e.size, scope: ended?.scope ?? e.scope,
      object: objectName(ended?.object ?? e.object) });
  } else if (e.kind === 'internal-allocate' || e.kind === 'internal-free') {
    Object.assign(args, { size: e.size, scope: e.scope });
  } else {
    Object.assign(args, { size: e.size, alignment: e.alignment, address: hex(e.address), scope: e.scope, object: objectName(e.object) });
    if (e.kind === 'reallocate') Object.assign(args, { oldAddress: hex(e.oldAddress), oldSize: ended?.size ?? null });
  }
  if (e.failed) args.failed = true;
  return { name: e.kind, cat: 'allocation', ph: 'i', s: 't', pid: PID, tid: JS_TID + e.thread, ts: us(e.time), args };
}
