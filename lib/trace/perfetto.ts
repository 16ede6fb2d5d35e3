// A trace as a Perfetto trace file (protobuf: a Trace message, a sequence of TracePackets,
// as perfetto's own SDK writes), which ui.perfetto.dev opens. It shows what the Chrome
// export (lib/trace/chrome.ts) shows, at a quarter of its size and without the JSON:
//
//   process "vkalloc (driver)"            pid 1, and on it:
//   thread  "JS thread: Vulkan commands"  tid 1. A slice per Vulkan command run (category
//           "vulkan"): the begin carries seq and callSite; the end result (VkResult),
//           object ("Instance #1"), allocations, reallocations, frees, bytesAllocated,
//           bytesFreed, and unfinished when the trace stopped inside it. Perfetto merges both.
//           An instant per callback (category "allocation"), named by kind, with the same
//           arguments as the Chrome export: seq, size, alignment, address (a pointer), scope,
//           object; reallocate adds oldAddress and oldSize; a free gives the ended block's
//           size, scope and object; failed when the callback returned NULL. command only
//           when it is not the slice the instant sits in (off-thread, outside any command).
//   thread  "driver thread N (off-thread callbacks)"  tid 1+N: its instants.
//   counters "live bytes" (all scopes) and "live bytes <scope>", in bytes: 0 at time 0,
//           then the new values with every callback that changed them (as extra counter
//           values of its instant: no packet of their own).
//   instant "vkalloc trace" at time 0 on the process: the trace's meta, events, dropped.
//
// Names (kinds, commands, argument names, scopes, objects) are interned: written once, then
// referred to by number. Events are written in seq order straight from the trace's columns,
// a few megabytes at a time, with a replay of their own that keeps numbers, not objects
// (Trace's replay builds an object per block: most of an export's time and memory). It
// mirrors that replay's rules (lib/trace/trace.ts), which the tests check against it.
//
// Field numbers: perfetto's protos/perfetto/trace/ (trace_packet.proto,
// track_event/track_event.proto, track_descriptor.proto, counter_descriptor.proto,
// debug_annotation.proto, interned_data/interned_data.proto).
import * as fs from 'fs';
import { SCOPE_NAMES } from '../native/boundary';
import { seqOrderOf } from './chrome';
import { EVENT_FLAGS, EVENT_KINDS } from './format';
import { ProtoWriter } from './protobuf';
import type { Trace } from './trace';

/** Trace.packet */
const PACKET = 1;
const TracePacket = { timestamp: 8, sequenceId: 10, trackEvent: 11, internedData: 12, sequenceFlags: 13, trackDescriptor: 60 };
const SEQ_INCREMENTAL_STATE_CLEARED = 1;
const SEQ_NEEDS_INCREMENTAL_STATE = 2;
const TrackDescriptor = { uuid: 1, name: 2, process: 3, thread: 4, parentUuid: 5, counter: 8 };
const ProcessDescriptor = { pid: 1, processName: 6 };
const ThreadDescriptor = { pid: 1, tid: 2, threadName: 5 };
const CounterDescriptor = { unit: 3 };
const UNIT_SIZE_BYTES = 3;
const TrackEvent = {
  categoryIids: 3, debugAnnotations: 4, type: 9, nameIid: 10, trackUuid: 11, extraCounterValues: 12,
  counterValue: 30, extraCounterTrackUuids: 31,
};
const SLICE_BEGIN = 1, SLICE_END = 2, INSTANT = 3, COUNTER = 4;
const DebugAnnotation = { nameIid: 1, boolValue: 2, uintValue: 3, intValue: 4, doubleValue: 5, stringValue: 6, pointerValue: 7, name: 10, stringValueIid: 17 };
/** InternedData's tables; each entry is { iid = 1, name (or str) = 2 }. */
const Interned = { categories: 1, eventNames: 2, annotationNames: 3, strings: 29 };

/** One packet sequence: interned names are per sequence. */
const SEQUENCE = 1;
const PID = 1;
const JS_TID = 1;
// Track uuids (trace-wide numbers of our choosing; small, so one byte each).
const PROCESS_TRACK = 1;
const JS_TRACK = 2;
const TOTAL_COUNTER = 3;
const SCOPE_COUNTER = 4;  // + scope
const DRIVER_TRACK = SCOPE_COUNTER + SCOPE_NAMES.length - 1;  // + thread number (1, 2, ...)

const KIND_ALLOCATE = EVENT_KINDS.indexOf('allocate');
const KIND_REALLOCATE = EVENT_KINDS.indexOf('reallocate');
const KIND_FREE = EVENT_KINDS.indexOf('free');
const KIND_COMMAND_BEGIN = EVENT_KINDS.indexOf('command-begin');
const KIND_COMMAND_END = EVENT_KINDS.indexOf('command-end');

const ARGUMENTS = ['seq', 'command', 'size', 'alignment', 'address', 'scope', 'object', 'oldAddress', 'oldSize', 'failed',
  'callSite', 'result', 'allocations', 'reallocations', 'frees', 'bytesAllocated', 'bytesFreed', 'unfinished'] as const;
type Argument = (typeof ARGUMENTS)[number];

/** One interning table: iids from 1, entries not yet written kept for the next packet. */
class Table {
  ids = new Map<string, number>();
  fresh: string[] = [];
  constructor(readonly field: number, readonly pending: { count: number }) {}
  id(text: string): number {
    let id = this.ids.get(text);
    if (id === undefined) {
      id = this.ids.size + 1;
      this.ids.set(text, id);
      this.fresh.push(text);
      this.pending.count++;
    }
    return id;
  }
}

/** A command run being replayed: what its slice's end reports. */
interface OpenSpan {
  name: string;
  object: number;
  allocations: number;
  reallocations: number;
  frees: number;
  bytesAllocated: number;
  bytesFreed: number;
}

/** Writes the Perfetto trace of `trace` to `path`, streamed (see the top of this file). */
export function writePerfettoTrace(trace: Trace, path: string): void {
  const d = trace.data;
  const w = new ProtoWriter(4 << 20);
  const fd = fs.openSync(path, 'w');
  const drain = () => {
    let at = 0;
    while (at < w.length) at += fs.writeSync(fd, w.buffer, at, w.length - at);
    w.length = 0;
  };

  const pending = { count: 0 };  // entries made since the last packet
  const tables = [Interned.categories, Interned.eventNames, Interned.annotationNames, Interned.strings].map((f) => new Table(f, pending));
  const [categories, eventNames, argNames, strings] = tables;
  const arg = Object.fromEntries(ARGUMENTS.map((a) => [a, argNames.id(a)])) as Record<Argument, number>;
  const VULKAN = categories.id('vulkan'), ALLOCATION = categories.id('allocation');
  const kindName = EVENT_KINDS.map((k) => eventNames.id(k));
  const commandNames = d.commands.map((c) => c ?? 'none');
  const commandName = commandNames.map((c) => eventNames.id(c));
  const commandString = commandNames.map((c) => strings.id(c));
  const NONE = strings.id('none');
  const scopeString = SCOPE_NAMES.map((s) => strings.id(s));
  const scopeOf = (scope: number) => (scope < SCOPE_NAMES.length ? scope : 0);
  const objectStrings = new Uint32Array(d.objects.length);  // 0: not interned yet
  const objectString = (id: number): number => {
    if (id <= 0 || id >= d.objects.length || !d.objects[id]) return 0;
    return (objectStrings[id] ||= strings.id(`${d.objects[id].type} #${id}`));
  };

  let first = true;
  /** Opens a packet, with the interned entries made since the last one. */
  const packet = (time: number | null): number => {
    const p = w.begin(PACKET);
    if (time !== null) w.uint(TracePacket.timestamp, time > 0 ? Math.round(time) : 0);
    w.uint(TracePacket.sequenceId, SEQUENCE);
    w.uint(TracePacket.sequenceFlags, first ? SEQ_INCREMENTAL_STATE_CLEARED : SEQ_NEEDS_INCREMENTAL_STATE);
    first = false;
    if (pending.count > 0) {
      const data = w.begin(TracePacket.internedData);
      for (const table of tables) {
        for (const text of table.fresh) {
          const entry = w.begin(table.field);
          w.uint(1, table.ids.get(text)!);
          w.string(2, text);
          w.end(entry);
        }
        table.fresh.length = 0;
      }
      pending.count = 0;
      w.end(data);
    }
    return p;
  };
  const event = (type: number, track: number, name: number, category: number): number => {
    const e = w.begin(TracePacket.trackEvent);
    w.uint(TrackEvent.type, type);
    w.uint(TrackEvent.trackUuid, track);
    if (name) w.uint(TrackEvent.nameIid, name);
    if (category) w.uint(TrackEvent.categoryIids, category);
    return e;
  };
  // Debug annotations: one small message each, its name interned.
  const number = (name: number, value: number) => {
    if (Number.isSafeInteger(value) && value >= 0) return w.pair(TrackEvent.debugAnnotations, DebugAnnotation.nameIid, name, DebugAnnotation.uintValue, value);
    const a = w.begin(TrackEvent.debugAnnotations);
    w.uint(DebugAnnotation.nameIid, name);
    if (Number.isSafeInteger(value)) w.int(DebugAnnotation.intValue, value);
    else w.double(DebugAnnotation.doubleValue, value);
    w.end(a);
  };
  const pointer = (name: number, value: number) =>
    w.pair(TrackEvent.debugAnnotations, DebugAnnotation.nameIid, name, DebugAnnotation.pointerValue, value);
  const interned = (name: number, iid: number) =>
    w.pair(TrackEvent.debugAnnotations, DebugAnnotation.nameIid, name, DebugAnnotation.stringValueIid, iid);
  const text = (name: number, value: string) => {
    const a = w.begin(TrackEvent.debugAnnotations);
    w.uint(DebugAnnotation.nameIid, name);
    w.string(DebugAnnotation.stringValue, value);
    w.end(a);
  };
  const yes = (name: number) => {
    const a = w.begin(TrackEvent.debugAnnotations);
    w.uint(DebugAnnotation.nameIid, name);
    w.uint(DebugAnnotation.boolValue, 1);
    w.end(a);
  };
  const track = (uuid: number, fill: () => void) => {
    const p = packet(null);
    const t = w.begin(TracePacket.trackDescriptor);
    w.uint(TrackDescriptor.uuid, uuid);
    fill();
    w.end(t);
    w.end(p);
  };
  const thread = (uuid: number, tid: number, name: string) => track(uuid, () => {
    w.uint(TrackDescriptor.parentUuid, PROCESS_TRACK);
    const t = w.begin(TrackDescriptor.thread);
    w.uint(ThreadDescriptor.pid, PID);
    w.uint(ThreadDescriptor.tid, tid);
    w.string(ThreadDescriptor.threadName, name);
    w.end(t);
  });
  const counter = (uuid: number, name: string) => track(uuid, () => {
    w.uint(TrackDescriptor.parentUuid, PROCESS_TRACK);
    w.string(TrackDescriptor.name, name);
    const c = w.begin(TrackDescriptor.counter);
    w.uint(CounterDescriptor.unit, UNIT_SIZE_BYTES);
    w.end(c);
  });

  try {
    // ---- the tracks, and what holds at time 0 ----
    const driver = trace.meta.driver;
    track(PROCESS_TRACK, () => {
      const p = w.begin(TrackDescriptor.process);
      w.uint(ProcessDescriptor.pid, PID);
      w.string(ProcessDescriptor.processName, driver ? `vkalloc (${driver})` : 'vkalloc');
      w.end(p);
    });
    thread(JS_TRACK, JS_TID, 'JS thread: Vulkan commands');
    const threads = new Set<number>();
    for (let i = 0; i < d.count; i++) threads.add(d.thread[i]);
    for (const n of [...threads].sort((a, b) => a - b)) {
      if (n > 0) thread(DRIVER_TRACK + n, JS_TID + n, `driver thread ${n} (off-thread callbacks)`);
    }
    counter(TOTAL_COUNTER, 'live bytes');
    SCOPE_NAMES.forEach((s, k) => counter(SCOPE_COUNTER + k, `live bytes ${s}`));
    for (let k = -1; k < SCOPE_NAMES.length; k++) {
      const p = packet(0);
      const e = event(COUNTER, k < 0 ? TOTAL_COUNTER : SCOPE_COUNTER + k, 0, 0);
      w.uint(TrackEvent.counterValue, 0);
      w.end(e);
      w.end(p);
    }
    {
      const name = eventNames.id('vkalloc trace');
      const p = packet(0);
      const e = event(INSTANT, PROCESS_TRACK, name, 0);
      const meta: Record<string, string | number> = {
        ...trace.meta, format: 'vkalloc-perfetto-trace', version: 1, events: trace.count, dropped: trace.dropped,
      };
      for (const [key, value] of Object.entries(meta)) {
        const a = w.begin(TrackEvent.debugAnnotations);
        w.string(DebugAnnotation.name, key);
        if (typeof value === 'string') w.string(DebugAnnotation.stringValue, value);
        else if (Number.isSafeInteger(value) && value >= 0) w.uint(DebugAnnotation.uintValue, value);
        else w.double(DebugAnnotation.doubleValue, value);
        w.end(a);
      }
      w.end(e);
      w.end(p);
    }

    // ---- the events, replayed ----
    const open: OpenSpan[] = [];  // JS-thread commands running now, nested ones on top
    // Live blocks by address: the index of the event that made each, and its object.
    const live = new Map<number, number>();
    const blockObject = new Uint32Array(d.count);
    const scopeLive = new Float64Array(SCOPE_NAMES.length);
    let liveTotal = 0, end = 0;
    // The counter tracks a callback changed (its scopes', then the total), and their values.
    const changed = new Float64Array(SCOPE_NAMES.length + 1), values = new Float64Array(SCOPE_NAMES.length + 1);
    let changes = 0;
    const change = (scope: number, bytes: number) => {
      scopeLive[scope] += bytes;
      liveTotal += bytes;
      const uuid = SCOPE_COUNTER + scope;
      let at = 0;
      while (at < changes && changed[at] !== uuid) at++;
      changed[at] = uuid;
      values[at] = scopeLive[scope];
      if (at === changes) changes++;
    };
    const remove = (address: number) => {
      const b = live.get(address)!;
      live.delete(address);
      change(scopeOf(d.scope[b]), -d.size[b]);
    };
    const closeSlice = (span: OpenSpan, time: number, result: number | null) => {
      const object = objectString(span.object);
      const p = packet(time);
      const e = event(SLICE_END, JS_TRACK, 0, 0);
      if (result !== null) number(arg.result, result);
      else yes(arg.unfinished);
      if (object) interned(arg.object, object);
      number(arg.allocations, span.allocations);
      number(arg.reallocations, span.reallocations);
      number(arg.frees, span.frees);
      number(arg.bytesAllocated, span.bytesAllocated);
      number(arg.bytesFreed, span.bytesFreed);
      w.end(e);
      w.end(p);
    };

    const order = seqOrderOf(trace);
    for (let n = 0; n < order.length; n++) {
      const i = order[n];
      const kind = d.kind[i];
      const time = d.time[i];
      const name = commandNames[d.command[i]] ?? 'none';
      if (time > end) end = time;
      if (w.length > 3 << 20) drain();

      if (kind === KIND_COMMAND_BEGIN) {
        open.push({ name, object: d.object[i], allocations: 0, reallocations: 0, frees: 0, bytesAllocated: 0, bytesFreed: 0 });
        const p = packet(time);
        const e = event(SLICE_BEGIN, JS_TRACK, commandName[d.command[i]], VULKAN);
        number(arg.seq, d.seq[i]);
        const site = d.callSites[d.seq[i]];
        if (site !== undefined) text(arg.callSite, site);
        w.end(e);
        w.end(p);
        continue;
      }
      if (kind === KIND_COMMAND_END) {
        // Normally the innermost open run; search down in case a begin was dropped.
        let at = open.length - 1;
        while (at >= 0 && open[at].name !== name) at--;
        if (at < 0) continue;
        // Slices nest: runs left open inside this one end with it, unfinished.
        while (open.length > at + 1) closeSlice(open.pop()!, time, null);
        const span = open.pop()!;
        span.object ||= d.object[i];
        closeSlice(span, time, d.size[i]);
        continue;
      }

      // A callback: replayed as Trace's replay does, then written as an instant.
      const thread = d.thread[i];
      const flags = d.flags[i];
      const failed = (flags & EVENT_FLAGS.failed) !== 0;
      const offThread = thread !== 0 || (flags & EVENT_FLAGS.offThread) !== 0;
      const top = open.length > 0 ? open[open.length - 1] : null;
      const span = !offThread && d.command[i] !== 0 ? top : null;
      if (span && !span.object) span.object = d.object[i];
      changes = 0;
      let ended = -1;  // the block a free or reallocate ended
      if (kind <= KIND_FREE && !failed) {  // internal and failed callbacks change no block
        if (kind === KIND_FREE) {
          ended = d.address[i] ? live.get(d.address[i]) ?? -1 : -1;
          if (ended >= 0) {
            remove(d.address[i]);
            if (span) {
              span.frees++;
              span.bytesFreed += d.size[ended];
            }
          }
        } else if (kind === KIND_ALLOCATE || kind === KIND_REALLOCATE) {
          let object = d.object[i];
          if (kind === KIND_REALLOCATE) {
            ended = d.oldAddress[i] ? live.get(d.oldAddress[i]) ?? -1 : -1;
            if (ended >= 0) {
              remove(d.oldAddress[i]);
              object ||= blockObject[ended];
              if (span) span.bytesFreed += d.size[ended];
            }
          }
          if (live.has(d.address[i])) remove(d.address[i]);  // an address handed out twice: a free was dropped
          live.set(d.address[i], i);
          blockObject[i] = object;
          change(scopeOf(d.scope[i]), d.size[i]);
          if (span) {
            if (kind === KIND_ALLOCATE) span.allocations++;
            else span.reallocations++;
            span.bytesAllocated += d.size[i];
          }
        }
      }

      // Names are interned before the packet that first uses them opens.
      const object = kind > KIND_FREE ? 0 : objectString(kind === KIND_FREE && ended >= 0 ? blockObject[ended] : d.object[i]);
      const p = packet(time);
      const e = event(INSTANT, thread === 0 ? JS_TRACK : DRIVER_TRACK + thread, kindName[kind], ALLOCATION);
      number(arg.seq, d.seq[i]);
      // The slice it sits in names the command already.
      if (!(thread === 0 && top && top.name === name)) interned(arg.command, commandString[d.command[i]] ?? NONE);
      if (kind === KIND_FREE) {
        pointer(arg.address, d.address[i]);
        const b = ended >= 0 ? ended : i;
        number(arg.size, d.size[b]);
        interned(arg.scope, scopeString[scopeOf(d.scope[b])]);
        if (object) interned(arg.object, object);
      } else if (kind > KIND_FREE) {
        number(arg.size, d.size[i]);
        interned(arg.scope, scopeString[scopeOf(d.scope[i])]);
      } else {
        number(arg.size, d.size[i]);
        number(arg.alignment, d.alignment[i]);
        pointer(arg.address, d.address[i]);
        interned(arg.scope, scopeString[scopeOf(d.scope[i])]);
        if (object) interned(arg.object, object);
        if (kind === KIND_REALLOCATE) {
          pointer(arg.oldAddress, d.oldAddress[i]);
          if (ended >= 0) number(arg.oldSize, d.size[ended]);
        }
      }
      if (failed) yes(arg.failed);
      if (changes > 0) {
        changed[changes] = TOTAL_COUNTER;
        values[changes] = liveTotal;
        w.packed(TrackEvent.extraCounterTrackUuids, changed, changes + 1);
        w.packed(TrackEvent.extraCounterValues, values, changes + 1);
      }
      w.end(e);
      w.end(p);
    }
    // Runs the trace stopped inside end with it, innermost first.
    while (open.length > 0) closeSlice(open.pop()!, end, null);
    drain();
  } finally {
    fs.closeSync(fd);
  }
}
