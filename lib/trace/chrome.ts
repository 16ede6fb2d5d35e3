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
// JSON.stringify(toChromeTrace(trace)), without building it: the events are written as
// the typed-array replay of lib/trace/replay.ts reaches them, as bytes into a bounded
// buffer (json-writer.ts), so that a trace of a million callbacks costs neither an
// object per block (Trace's replay) nor a string per event. The replay runs three
// times, once per part of the document: command runs, then callbacks, then counters.
import { SCOPE_NAMES as ALLOCATION_SCOPES } from '../native/boundary';
import { EVENT_FLAGS, EVENT_KINDS, type TraceData } from './format';
import { JsonWriter, piece, type Piece } from './json-writer';
import { ColumnReplay, scopeOf, type ReplayHooks, type Run } from './replay';
import type { CommandSpan, Trace, TraceBlock, TraceEvent } from './trace';

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
  const events = processEvents(trace);
  const duration = trace.summary().duration;
  for (const span of trace.commandSpans()) events.push(runEvent(span, duration, objectName));

  // A free's size, scope and object are those of the block it ended (the event's own may be blank).
  const ended = new Map<number, TraceBlock>();
  for (const b of trace.blocks()) if (b.endIndex !== null) ended.set(b.endIndex, b);

  const threads = new Set<number>();
  for (const e of trace.events()) {
    if (e.kind === 'command-begin' || e.kind === 'command-end') continue;
    if (e.thread !== 0 && !threads.has(e.thread)) {
      threads.add(e.thread);
      events.push(...threadEvents(e.thread));
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

/** The metadata events that name the process and the JS thread: the document's first. */
function processEvents(trace: Trace): ChromeTraceEvent[] {
  const driver = trace.meta.driver;
  return [
    { name: 'process_name', ph: 'M', pid: PID, args: { name: driver ? `vkalloc (${driver})` : 'vkalloc' } },
    { name: 'thread_name', ph: 'M', pid: PID, tid: JS_TID, args: { name: 'JS thread: Vulkan commands' } },
    { name: 'thread_sort_index', ph: 'M', pid: PID, tid: JS_TID, args: { sort_index: 0 } },
  ];
}

/** The metadata events that name an off-thread track, before its first callback. */
function threadEvents(thread: number): ChromeTraceEvent[] {
  return [
    { name: 'thread_name', ph: 'M', pid: PID, tid: JS_TID + thread, args: { name: `driver thread ${thread} (off-thread callbacks)` } },
    { name: 'thread_sort_index', ph: 'M', pid: PID, tid: JS_TID + thread, args: { sort_index: thread } },
  ];
}

type RunFields = Pick<CommandSpan, 'command' | 'beginSeq' | 'start' | 'end' | 'result' | 'object' | 'callSite' |
  'allocations' | 'reallocations' | 'frees' | 'bytesAllocated' | 'bytesFreed'>;

/** A command run's complete event; one the trace stopped inside lasts to `duration`. */
function runEvent(span: RunFields, duration: number, objectName: (id: number) => string | null): ChromeTraceEvent {
  return {
    name: span.command, cat: 'vulkan', ph: 'X', pid: PID, tid: JS_TID, ts: us(span.start), dur: us((span.end ?? duration) - span.start),
    args: {
      seq: span.beginSeq, result: span.result, object: objectName(span.object), callSite: span.callSite,
      allocations: span.allocations, reallocations: span.reallocations, frees: span.frees,
      bytesAllocated: span.bytesAllocated, bytesFreed: span.bytesFreed, ...(span.end === null ? { unfinished: true } : {}),
    },
  };
}

/**
 * Writes the Chrome trace-event JSON of `trace` to `path`: the text of
 * JSON.stringify(toChromeTrace(trace)), streamed (see the top of this file).
 */
export function writeChromeTrace(trace: Trace, path: string): void {
  const out = new JsonWriter(path);
  try {
    const text = new ChromeText(trace, out);
    const events = processEvents(trace);
    out.text(`{"traceEvents":[${JSON.stringify(events[0])}`);
    // Every event from here on follows one: each begins with its comma.
    for (const e of events.slice(1)) out.text(`,${JSON.stringify(e)}`);
    new RunWriter(text).replay.run();
    new CallbackWriter(text).replay.run();
    const counters = new CounterWriter(text);
    counters.write(0);  // nothing live at time 0
    counters.replay.run();
    const metadata = { ...trace.meta, format: 'vkalloc-chrome-trace', version: 1, events: trace.count, dropped: trace.dropped };
    out.text(`],"displayTimeUnit":"ns","metadata":${JSON.stringify(metadata)}}`);
  } finally {
    out.close();
  }
}

/** What the three writers share. */
class ChromeText {
  readonly d: TraceData;
  /** The trace's duration, as Trace.summary() gives it: the end of the runs it stopped inside. */
  readonly duration: number;

  constructor(readonly trace: Trace, readonly out: JsonWriter) {
    const d = (this.d = trace.data);
    let duration = 0;
    for (let i = 0; i < d.count; i++) duration = Math.max(duration, d.time[i]);
    this.duration = duration;
  }

  objectName(id: number): string | null {
    const o = this.trace.object(id);
    return o ? `${o.type} #${id}` : null;
  }
}

/** The command runs' complete events, in the order they began (each once it and those before it ended). */
class RunWriter implements ReplayHooks {
  readonly replay: ColumnReplay;
  readonly #waiting: Run[] = [];
  #next = 0;

  constructor(readonly text: ChromeText) {
    this.replay = new ColumnReplay(text.d, this);
  }

  opened(_i: number, run: Run): void {
    this.#waiting.push(run);
  }

  closed(): void {
    const waiting = this.#waiting;
    while (this.#next < waiting.length && waiting[this.#next].end !== null) this.#write(waiting[this.#next++]);
    if (this.#next === waiting.length) {
      waiting.length = 0;
      this.#next = 0;
    }
  }

  called(): void {}

  #write(run: Run): void {
    const { d } = this.text;
    const seq = d.seq[run.begin];
    const span: RunFields = {
      command: this.replay.commandNames[d.command[run.begin]] ?? 'none', beginSeq: seq, start: d.time[run.begin],
      end: run.result === null ? null : run.end, result: run.result, object: run.object, callSite: d.callSites[seq] ?? null,
      allocations: run.allocations, reallocations: run.reallocations, frees: run.frees,
      bytesAllocated: run.bytesAllocated, bytesFreed: run.bytesFreed,
    };
    this.text.out.text(`,${JSON.stringify(runEvent(span, this.text.duration, (id) => this.text.objectName(id)))}`);
  }
}

const KIND_FREE = EVENT_KINDS.indexOf('free');
const KIND_REALLOCATE = EVENT_KINDS.indexOf('reallocate');
const KIND_INTERNAL_ALLOCATE = EVENT_KINDS.indexOf('internal-allocate');
const KIND_INTERNAL_FREE = EVENT_KINDS.indexOf('internal-free');

// The instants' text between the numbers (and the names, CallbackWriter's).
const SEQ = piece(',"args":{"seq":');
const SIZE = piece(',"size":');
const ALIGNMENT = piece(',"alignment":');
const ADDRESS = piece(',"address":');
const OLD_ADDRESS = piece(',"oldAddress":');
const OLD_SIZE = piece(',"oldSize":');
const NULL = piece('null');
const FAILED = piece(',"failed":true');
const CLOSE = piece('}}');
const SCOPES = ALLOCATION_SCOPES.map((s) => piece(`,"scope":${JSON.stringify(s)}`));

/** An instant per callback (and the names of off-thread tracks, before their first). */
class CallbackWriter implements ReplayHooks {
  readonly replay: ColumnReplay;
  /** By thread, then kind: the text up to the time, tid included. null: the thread's track is not named yet. */
  readonly #heads: (Piece[] | null)[] = new Array(256).fill(null);
  /** The names, with their keys: by command index, by object id (made when first needed). */
  readonly #commands: Piece[];
  readonly #noCommand = piece(`,"command":${JSON.stringify('none')}`);
  readonly #objects: (Piece | undefined)[];
  readonly #noObject = piece(`,"object":null`);

  constructor(readonly text: ChromeText) {
    const d = text.d;
    this.replay = new ColumnReplay(d, this);
    this.#commands = d.commands.map((c) => piece(`,"command":${JSON.stringify(c ?? 'none')}`));
    this.#objects = new Array(d.objects.length).fill(undefined);
  }

  /** The instant's text before its time; the first of a thread other than the JS thread names its track. */
  #head(kind: number, thread: number): Piece {
    let heads = this.#heads[thread];
    if (heads === null) {
      if (thread !== 0) for (const e of threadEvents(thread)) this.text.out.text(`,${JSON.stringify(e)}`);
      heads = this.#heads[thread] = EVENT_KINDS.map((k) =>
        piece(`,{"name":${JSON.stringify(k)},"cat":"allocation","ph":"i","s":"t","pid":${PID},"tid":${JS_TID + thread},"ts":`));
    }
    return heads[kind];
  }

  #command(c: number): Piece {
    return this.#commands[c] ?? this.#noCommand;
  }

  #object(id: number): Piece {
    if (id >= this.#objects.length) return this.#noObject;
    return (this.#objects[id] ??= piece(`,"object":${JSON.stringify(this.text.objectName(id))}`));
  }

  opened(): void {}
  closed(): void {}

  called(i: number, ended: number): void {
    const d = this.text.d;
    const out = this.text.out;
    const kind = d.kind[i];
    out.piece(this.#head(kind, d.thread[i]));
    out.micros(d.time[i]);
    out.piece(SEQ);
    out.number(d.seq[i]);
    out.piece(this.#command(d.command[i]));
    if (kind === KIND_FREE) {
      // Size, scope and object are those of the block it ended (its own may be blank).
      const b = ended >= 0 ? ended : i;
      out.piece(ADDRESS);
      out.address(d.address[i]);
      out.piece(SIZE);
      out.number(d.size[b]);
      out.piece(SCOPES[scopeOf(d.scope[b])]);
      out.piece(this.#object(ended >= 0 ? this.replay.endedObject : d.object[i]));
    } else if (kind === KIND_INTERNAL_ALLOCATE || kind === KIND_INTERNAL_FREE) {
      out.piece(SIZE);
      out.number(d.size[i]);
      out.piece(SCOPES[scopeOf(d.scope[i])]);
    } else {
      out.piece(SIZE);
      out.number(d.size[i]);
      out.piece(ALIGNMENT);
      out.number(d.alignment[i]);
      out.piece(ADDRESS);
      out.address(d.address[i]);
      out.piece(SCOPES[scopeOf(d.scope[i])]);
      out.piece(this.#object(d.object[i]));
      if (kind === KIND_REALLOCATE) {
        out.piece(OLD_ADDRESS);
        out.address(d.oldAddress[i]);
        out.piece(OLD_SIZE);
        const old = this.#oldBlock(ended);
        if (old >= 0) out.number(d.size[old]);
        else out.piece(NULL);
      }
    }
    if ((d.flags[i] & EVENT_FLAGS.failed) !== 0) out.piece(FAILED);
    out.piece(CLOSE);
  }

  /**
   * The block whose size a reallocation's oldSize gives: the old one, or, where its new
   * address was live too (a free the trace dropped), whichever of the two was made last,
   * as toChromeTrace finds it (the last block that ended at this event).
   */
  #oldBlock(ended: number): number {
    const { d } = this.text;
    const stale = this.replay.stale;
    if (stale < 0 || ended < 0) return ended < 0 ? stale : ended;
    return (d.seq[ended] - d.seq[stale] || ended - stale) > 0 ? ended : stale;
  }
}

const COUNTER_HEAD = piece(`,{"name":${JSON.stringify(LIVE_BYTES_COUNTER)},"ph":"C","pid":${PID},"ts":`);
const SCOPE_KEYS = ALLOCATION_SCOPES.map((s, k) => piece(`${k ? ',' : ',"args":{'}${JSON.stringify(s)}:`));

/** The live bytes per scope after every callback that changed them. */
class CounterWriter implements ReplayHooks {
  readonly replay: ColumnReplay;
  constructor(readonly text: ChromeText) {
    this.replay = new ColumnReplay(text.d, this);
  }

  opened(): void {}
  closed(): void {}

  called(i: number): void {
    if (this.replay.changes > 0) this.write(this.text.d.time[i]);
  }

  /** A counter event of the live bytes now. */
  write(time: number): void {
    const { out } = this.text;
    out.piece(COUNTER_HEAD);
    out.micros(time);
    for (let k = 0; k < SCOPE_KEYS.length; k++) {
      out.piece(SCOPE_KEYS[k]);
      out.number(this.replay.scopeLive[k]);
    }
    out.piece(CLOSE);
  }
}
