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
//
// writeChromeTrace streams the same document to a file, text equal to
// JSON.stringify(toChromeTrace(trace)), without building it: callback and counter
// events are written straight from the trace's columns, a megabyte at a time, so a
// trace of a million callbacks costs the replay's memory, not a million objects.
import * as fs from 'fs';
import { SCOPE_NAMES as ALLOCATION_SCOPES } from '../native/boundary';
import { EVENT_FLAGS, EVENT_KINDS } from './format';
import { seqOrderOf } from './replay';
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
  const objectName = (id: number) => {
    const o = trace.object(id);
    return o ? `${o.type} #${id}` : null;
  };
  const events = headEvents(trace, objectName);

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

/** The events before the callbacks (names, command spans), as toChromeTrace makes them. */
function headEvents(trace: Trace, objectName: (id: number) => string | null): ChromeTraceEvent[] {
  const events: ChromeTraceEvent[] = [];
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
  return events;
}

/** Appends text to a file a megabyte at a time (written as UTF-8 into one reused buffer). */
class Sink {
  #fd: number;
  #buffer = Buffer.allocUnsafe(4 << 20);
  #used = 0;
  constructor(path: string) {
    this.#fd = fs.openSync(path, 'w');
  }
  write(text: string): void {
    // A UTF-16 unit takes at most 3 bytes of UTF-8.
    if (this.#used + 3 * text.length > this.#buffer.length) {
      this.flush();
      if (3 * text.length > this.#buffer.length) {
        fs.writeSync(this.#fd, text);
        return;
      }
    }
    this.#used += this.#buffer.write(text, this.#used, 'utf8');
  }
  flush(): void {
    let at = 0;
    while (at < this.#used) at += fs.writeSync(this.#fd, this.#buffer, at, this.#used - at);
    this.#used = 0;
  }
  close(): void {
    try {
      this.flush();
    } finally {
      fs.closeSync(this.#fd);
    }
  }
}

const KIND_FREE = EVENT_KINDS.indexOf('free');
const KIND_REALLOCATE = EVENT_KINDS.indexOf('reallocate');
const KIND_INTERNAL_ALLOCATE = EVENT_KINDS.indexOf('internal-allocate');
const KIND_INTERNAL_FREE = EVENT_KINDS.indexOf('internal-free');
const KIND_COMMAND_BEGIN = EVENT_KINDS.indexOf('command-begin');
const KIND_COMMAND_END = EVENT_KINDS.indexOf('command-end');

/**
 * Writes the Chrome trace-event JSON of `trace` to `path`: the text of
 * JSON.stringify(toChromeTrace(trace)), streamed (see the top of this file).
 */
export function writeChromeTrace(trace: Trace, path: string): void {
  const d = trace.data;
  const names = new Map<number, string | null>();
  const objectName = (id: number): string | null => {
    let name = names.get(id);
    if (name === undefined) {
      const o = trace.object(id);
      name = o ? `${o.type} #${id}` : null;
      names.set(id, name);
    }
    return name;
  };
  const quote = (id: number) => JSON.stringify(objectName(id));
  // Pieces that repeat, made once.
  const kindHead = EVENT_KINDS.map((k) => `{"name":${JSON.stringify(k)},"cat":"allocation","ph":"i","s":"t","pid":${PID},"tid":`);
  const commands = d.commands.map((c) => JSON.stringify(c));
  const noCommand = JSON.stringify('none');
  const scopes = ALLOCATION_SCOPES.map((s) => JSON.stringify(s));
  const scopeOf = (scope: number) => scopes[scope] ?? scopes[0];

  // A free's (and a reallocate's old) size, scope and object are those of the block it ended.
  const blocks = trace.blocks();
  const endedBy = new Int32Array(d.count).fill(-1);
  for (let b = 0; b < blocks.length; b++) {
    const end = blocks[b].endIndex;
    if (end !== null) endedBy[end] = b;
  }

  const sink = new Sink(path);
  try {
    sink.write('{"traceEvents":[');
    let first = true;
    const put = (text: string) => {
      sink.write(first ? text : `,${text}`);
      first = false;
    };
    for (const e of headEvents(trace, objectName)) put(JSON.stringify(e));

    const threads = new Set<number>();
    const hex = (a: number) => `"0x${a.toString(16)}"`;
    const order = seqOrderOf(d);
    for (let n = 0; n < d.count; n++) {
      const i = order ? order[n] : n;
      const kind = d.kind[i];
      if (kind === KIND_COMMAND_BEGIN || kind === KIND_COMMAND_END) continue;
      const thread = d.thread[i];
      if (thread !== 0 && !threads.has(thread)) {
        threads.add(thread);
        put(JSON.stringify({ name: 'thread_name', ph: 'M', pid: PID, tid: JS_TID + thread, args: { name: `driver thread ${thread} (off-thread callbacks)` } }));
        put(JSON.stringify({ name: 'thread_sort_index', ph: 'M', pid: PID, tid: JS_TID + thread, args: { sort_index: thread } }));
      }
      const command = commands[d.command[i]] ?? noCommand;
      const b = endedBy[i];
      const ended = b >= 0 ? blocks[b] : undefined;
      let args: string;
      if (kind === KIND_FREE) {
        args = `,"address":${hex(d.address[i])},"size":${ended ? ended.size : d.size[i]},"scope":${ended ? JSON.stringify(ended.scope) : scopeOf(d.scope[i])},` +
          `"object":${quote(ended ? ended.object : d.object[i])}`;
      } else if (kind === KIND_INTERNAL_ALLOCATE || kind === KIND_INTERNAL_FREE) {
        args = `,"size":${d.size[i]},"scope":${scopeOf(d.scope[i])}`;
      } else {
        args = `,"size":${d.size[i]},"alignment":${d.alignment[i]},"address":${hex(d.address[i])},"scope":${scopeOf(d.scope[i])},"object":${quote(d.object[i])}`;
        if (kind === KIND_REALLOCATE) args += `,"oldAddress":${hex(d.oldAddress[i])},"oldSize":${ended ? ended.size : null}`;
      }
      if ((d.flags[i] & EVENT_FLAGS.failed) !== 0) args += ',"failed":true';
      put(`${kindHead[kind]}${JS_TID + thread},"ts":${usText(d.time[i])},"args":{"seq":${d.seq[i]},"command":${command}${args}}}`);
    }

    const series = trace.liveSeries();
    const columns = ALLOCATION_SCOPES.map((s) => series.scopes[s]);
    const keys = scopes.map((s) => `${s}:`);
    const head = `{"name":${JSON.stringify(LIVE_BYTES_COUNTER)},"ph":"C","pid":${PID},"ts":`;
    // One scope changes per event: the others' text is kept from the event before.
    const last = columns.map(() => NaN);
    const text = columns.map(() => '');
    for (let j = 0; j < series.time.length; j++) {
      let args = '';
      for (let k = 0; k < columns.length; k++) {
        const value = columns[k][j];
        if (value !== last[k] || Object.is(value, -0)) {
          last[k] = value;
          text[k] = `${k ? ',' : ''}${keys[k]}${JSON.stringify(value)}`;
        }
        args += text[k];
      }
      put(`${head}${usText(series.time[j])},"args":{${args}}}`);
    }

    const metadata = { ...trace.meta, format: 'vkalloc-chrome-trace', version: 1, events: trace.count, dropped: trace.dropped };
    sink.write(`],"displayTimeUnit":"ns","metadata":${JSON.stringify(metadata)}}`);
  } finally {
    sink.close();
  }
}

/**
 * JSON's text of ns / 1000, made from the integer (the shortest decimal that reads
 * back as ns / 1000 is the exact one, at most 3 decimals, below 2^53 / 1000 µs):
 * V8's shortest-decimal search for every timestamp cost most of the export.
 */
function usText(ns: number): string {
  if (!(Number.isSafeInteger(ns) && ns >= 0 && ns < 1e15)) return JSON.stringify(us(ns));
  const whole = Math.floor(ns / 1000);
  let frac = ns - whole * 1000;
  if (frac === 0) return `${whole}`;
  let digits = 3;
  while (frac % 10 === 0) {
    frac /= 10;
    digits--;
  }
  return `${whole}.${String(frac).padStart(digits, '0')}`;
}
