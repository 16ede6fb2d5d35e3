// A trace as a Perfetto trace file (protobuf: a Trace message, a sequence of TracePackets,
// as perfetto's own SDK writes), which ui.perfetto.dev opens. It shows what the Chrome
// export (lib/trace/chrome.ts) shows, at about a fifth of its size and without the JSON:
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
// referred to by number. Events are written in seq order as the typed-array replay of
// lib/trace/replay.ts reaches them, 768 KiB at a time.
//
// Field numbers: perfetto's protos/perfetto/trace/ (trace_packet.proto,
// track_event/track_event.proto, track_descriptor.proto, counter_descriptor.proto,
// debug_annotation.proto, interned_data/interned_data.proto).
import * as fs from 'fs';
import { SCOPE_NAMES } from '../native/boundary';
import { EVENT_FLAGS, EVENT_KINDS } from './format';
import { ProtoWriter } from './protobuf';
import { ColumnReplay, scopeOf, type ReplayHooks, type Run } from './replay';
import type { TraceData } from './format';
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

const KIND_REALLOCATE = EVENT_KINDS.indexOf('reallocate');
const KIND_FREE = EVENT_KINDS.indexOf('free');

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

/**
 * Packets of one sequence, appended to a ProtoWriter: each packet carries the interned
 * entries made since the one before, so names must be interned before the packet that
 * uses them opens. Small methods, so that V8 optimises each soon and on its own.
 */
class Packets {
  readonly w = new ProtoWriter(1 << 20);
  readonly pending = { count: 0 };
  readonly tables = [Interned.categories, Interned.eventNames, Interned.annotationNames, Interned.strings].map((f) => new Table(f, this.pending));
  readonly categories = this.tables[0];
  readonly eventNames = this.tables[1];
  readonly argNames = this.tables[2];
  readonly strings = this.tables[3];
  #first = true;

  constructor(readonly fd: number) {}

  /** Writes what is buffered once it reaches 768 KiB (or always): the 1 MiB buffer rarely grows. */
  drain(always = false): void {
    const w = this.w;
    if (!always && w.length < 3 << 18) return;
    let at = 0;
    while (at < w.length) at += fs.writeSync(this.fd, w.buffer, at, w.length - at);
    w.length = 0;
  }

  /** Opens a packet (close it with w.end; none may be open); time in ns, or null for none. */
  packet(time: number | null): number {
    this.drain();
    const w = this.w;
    const p = w.begin(PACKET);
    if (time !== null) w.uint(TracePacket.timestamp, time > 0 ? Math.round(time) : 0);
    w.uint(TracePacket.sequenceId, SEQUENCE);
    w.uint(TracePacket.sequenceFlags, this.#first ? SEQ_INCREMENTAL_STATE_CLEARED : SEQ_NEEDS_INCREMENTAL_STATE);
    this.#first = false;
    if (this.pending.count > 0) this.#interned();
    return p;
  }

  #interned(): void {
    const w = this.w;
    const data = w.begin(TracePacket.internedData);
    for (const table of this.tables) {
      for (const text of table.fresh) {
        const entry = w.begin(table.field);
        w.uint(1, table.ids.get(text)!);
        w.string(2, text);
        w.end(entry);
      }
      table.fresh.length = 0;
    }
    this.pending.count = 0;
    w.end(data);
  }

  /** Opens a track event (close it with w.end); name and category are iids (0: none). */
  event(type: number, track: number, name: number, category: number): number {
    const w = this.w;
    const e = w.begin(TracePacket.trackEvent);
    w.uint(TrackEvent.type, type);
    w.uint(TrackEvent.trackUuid, track);
    if (name) w.uint(TrackEvent.nameIid, name);
    if (category) w.uint(TrackEvent.categoryIids, category);
    return e;
  }

  // Debug annotations: one small message each, named by an interned iid.
  number(name: number, value: number): void {
    const w = this.w;
    if (Number.isSafeInteger(value) && value >= 0) return w.pair(TrackEvent.debugAnnotations, DebugAnnotation.nameIid, name, DebugAnnotation.uintValue, value);
    const a = w.begin(TrackEvent.debugAnnotations);
    w.uint(DebugAnnotation.nameIid, name);
    if (Number.isSafeInteger(value)) w.int(DebugAnnotation.intValue, value);
    else w.double(DebugAnnotation.doubleValue, value);
    w.end(a);
  }

  pointer(name: number, value: number): void {
    this.w.pair(TrackEvent.debugAnnotations, DebugAnnotation.nameIid, name, DebugAnnotation.pointerValue, value);
  }

  /** A string annotation whose value is interned. */
  interned(name: number, iid: number): void {
    this.w.pair(TrackEvent.debugAnnotations, DebugAnnotation.nameIid, name, DebugAnnotation.stringValueIid, iid);
  }

  text(name: number, value: string): void {
    const w = this.w;
    const a = w.begin(TrackEvent.debugAnnotations);
    w.uint(DebugAnnotation.nameIid, name);
    w.string(DebugAnnotation.stringValue, value);
    w.end(a);
  }

  yes(name: number): void {
    this.w.pair(TrackEvent.debugAnnotations, DebugAnnotation.nameIid, name, DebugAnnotation.boolValue, 1);
  }

  /** A packet of its own describing a track; `fill` writes the fields after its uuid. */
  track(uuid: number, fill: (w: ProtoWriter) => void): void {
    const w = this.w;
    const p = this.packet(null);
    const t = w.begin(TracePacket.trackDescriptor);
    w.uint(TrackDescriptor.uuid, uuid);
    fill(w);
    w.end(t);
    w.end(p);
  }
}

/** Writes the Perfetto trace of `trace` to `path`, streamed (see the top of this file). */
export function writePerfettoTrace(trace: Trace, path: string): void {
  const fd = fs.openSync(path, 'w');
  try {
    const out = new Packets(fd);
    writeTracks(trace, out);
    new PerfettoReplay(trace, out).replay.run();
    out.drain(true);
  } finally {
    fs.closeSync(fd);
  }
}

/** The process, its threads and counters, what the counters hold at time 0, and the trace's meta. */
function writeTracks(trace: Trace, out: Packets): void {
  const d = trace.data;
  const driver = trace.meta.driver;
  out.track(PROCESS_TRACK, (w) => {
    const p = w.begin(TrackDescriptor.process);
    w.uint(ProcessDescriptor.pid, PID);
    w.string(ProcessDescriptor.processName, driver ? `vkalloc (${driver})` : 'vkalloc');
    w.end(p);
  });
  const thread = (uuid: number, tid: number, name: string) => out.track(uuid, (w) => {
    w.uint(TrackDescriptor.parentUuid, PROCESS_TRACK);
    const t = w.begin(TrackDescriptor.thread);
    w.uint(ThreadDescriptor.pid, PID);
    w.uint(ThreadDescriptor.tid, tid);
    w.string(ThreadDescriptor.threadName, name);
    w.end(t);
  });
  thread(JS_TRACK, JS_TID, 'JS thread: Vulkan commands');
  const seen = new Uint8Array(256);  // thread numbers are bytes
  for (let i = 0; i < d.count; i++) seen[d.thread[i]] = 1;
  for (let n = 1; n < seen.length; n++) {
    if (seen[n]) thread(DRIVER_TRACK + n, JS_TID + n, `driver thread ${n} (off-thread callbacks)`);
  }
  const counter = (uuid: number, name: string) => out.track(uuid, (w) => {
    w.uint(TrackDescriptor.parentUuid, PROCESS_TRACK);
    w.string(TrackDescriptor.name, name);
    const c = w.begin(TrackDescriptor.counter);
    w.uint(CounterDescriptor.unit, UNIT_SIZE_BYTES);
    w.end(c);
  });
  counter(TOTAL_COUNTER, 'live bytes');
  SCOPE_NAMES.forEach((s, k) => counter(SCOPE_COUNTER + k, `live bytes ${s}`));

  const w = out.w;
  for (let uuid = TOTAL_COUNTER; uuid < SCOPE_COUNTER + SCOPE_NAMES.length; uuid++) {
    const p = out.packet(0);
    const e = out.event(COUNTER, uuid, 0, 0);
    w.uint(TrackEvent.counterValue, 0);
    w.end(e);
    w.end(p);
  }
  const name = out.eventNames.id('vkalloc trace');
  const p = out.packet(0);
  const e = out.event(INSTANT, PROCESS_TRACK, name, 0);
  const meta: Record<string, string | number> = { ...trace.meta, format: 'vkalloc-perfetto-trace', version: 1, events: trace.count, dropped: trace.dropped };
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

/** The events, written as the replay (lib/trace/replay.ts) reaches them. */
class PerfettoReplay implements ReplayHooks {
  readonly replay: ColumnReplay;
  readonly d: TraceData;
  readonly arg: Record<Argument, number>;
  readonly vulkan: number;
  readonly allocation: number;
  readonly kindName: number[];
  readonly commandName: number[];
  readonly commandString: number[];
  readonly scopeString: number[];
  readonly objectStrings: Uint32Array;  // 0: not interned yet
  /** The counter tracks a callback changed (its scopes', then the total), and their values. */
  readonly uuids = new Float64Array(SCOPE_NAMES.length + 1);
  readonly values = new Float64Array(SCOPE_NAMES.length + 1);

  constructor(trace: Trace, readonly out: Packets) {
    this.d = trace.data;
    this.replay = new ColumnReplay(this.d, this);
    this.arg = Object.fromEntries(ARGUMENTS.map((a) => [a, out.argNames.id(a)])) as Record<Argument, number>;
    this.vulkan = out.categories.id('vulkan');
    this.allocation = out.categories.id('allocation');
    this.kindName = EVENT_KINDS.map((k) => out.eventNames.id(k));
    this.commandName = this.replay.commandNames.map((c) => out.eventNames.id(c));
    this.commandString = this.replay.commandNames.map((c) => out.strings.id(c));
    this.scopeString = SCOPE_NAMES.map((s) => out.strings.id(s));
    this.objectStrings = new Uint32Array(this.d.objects.length);
  }

  objectString(id: number): number {
    const d = this.d;
    if (id <= 0 || id >= d.objects.length || !d.objects[id]) return 0;
    return (this.objectStrings[id] ||= this.out.strings.id(`${d.objects[id].type} #${id}`));
  }

  opened(i: number): void {
    const { d, out } = this;
    const p = out.packet(d.time[i]);
    const e = out.event(SLICE_BEGIN, JS_TRACK, this.commandName[d.command[i]], this.vulkan);
    out.number(this.arg.seq, d.seq[i]);
    const site = d.callSites[d.seq[i]];
    if (site !== undefined) out.text(this.arg.callSite, site);
    out.w.end(e);
    out.w.end(p);
  }

  closed(run: Run): void {
    const { out, arg } = this;
    const object = this.objectString(run.object);
    const p = out.packet(run.end);
    const e = out.event(SLICE_END, JS_TRACK, 0, 0);
    if (run.result !== null) out.number(arg.result, run.result);
    else out.yes(arg.unfinished);
    if (object) out.interned(arg.object, object);
    out.number(arg.allocations, run.allocations);
    out.number(arg.reallocations, run.reallocations);
    out.number(arg.frees, run.frees);
    out.number(arg.bytesAllocated, run.bytesAllocated);
    out.number(arg.bytesFreed, run.bytesFreed);
    out.w.end(e);
    out.w.end(p);
  }

  /** A callback's instant. */
  called(i: number, ended: number, top: Run | null): void {
    const d = this.d;
    const kind = d.kind[i];
    // The slice it sits in names the command already.
    const command = d.thread[i] === 0 && top && top.name === this.replay.commandNames[d.command[i]] ? 0 : this.commandString[d.command[i]];
    if (kind === KIND_FREE) this.freeInstant(i, ended, command);
    else if (kind > KIND_FREE) this.internalInstant(i, command);
    else this.allocateInstant(i, ended, command);
  }

  /** Opens a callback's instant (its names interned already), with seq and command (0: left out). */
  openInstant(i: number, command: number): [number, number] {
    const { d, out } = this;
    const p = out.packet(d.time[i]);
    const thread = d.thread[i];
    const e = out.event(INSTANT, thread === 0 ? JS_TRACK : DRIVER_TRACK + thread, this.kindName[d.kind[i]], this.allocation);
    out.number(this.arg.seq, d.seq[i]);
    if (command) out.interned(this.arg.command, command);
    return [p, e];
  }

  /** Closes an instant, with the counters it changed and whether it failed. */
  closeInstant(i: number, [p, e]: [number, number]): void {
    const { out, uuids, values, replay } = this;
    const changes = replay.changes;
    if ((this.d.flags[i] & EVENT_FLAGS.failed) !== 0) out.yes(this.arg.failed);
    if (changes > 0) {
      for (let k = 0; k < changes; k++) {
        uuids[k] = SCOPE_COUNTER + replay.changed[k];
        values[k] = replay.scopeLive[replay.changed[k]];
      }
      uuids[changes] = TOTAL_COUNTER;
      values[changes] = replay.liveTotal;
      out.w.packed(TrackEvent.extraCounterTrackUuids, uuids, changes + 1);
      out.w.packed(TrackEvent.extraCounterValues, values, changes + 1);
    }
    out.w.end(e);
    out.w.end(p);
  }

  /** A free: the block it ended gives size, scope and object. */
  freeInstant(i: number, ended: number, command: number): void {
    const { d, out, arg } = this;
    const b = ended >= 0 ? ended : i;
    const object = this.objectString(ended >= 0 ? this.replay.endedObject : d.object[i]);
    const opened = this.openInstant(i, command);
    out.pointer(arg.address, d.address[i]);
    out.number(arg.size, d.size[b]);
    out.interned(arg.scope, this.scopeString[scopeOf(d.scope[b])]);
    if (object) out.interned(arg.object, object);
    this.closeInstant(i, opened);
  }

  internalInstant(i: number, command: number): void {
    const { d, out, arg } = this;
    const opened = this.openInstant(i, command);
    out.number(arg.size, d.size[i]);
    out.interned(arg.scope, this.scopeString[scopeOf(d.scope[i])]);
    this.closeInstant(i, opened);
  }

  allocateInstant(i: number, ended: number, command: number): void {
    const { d, out, arg } = this;
    const object = this.objectString(d.object[i]);
    const opened = this.openInstant(i, command);
    out.number(arg.size, d.size[i]);
    out.number(arg.alignment, d.alignment[i]);
    out.pointer(arg.address, d.address[i]);
    out.interned(arg.scope, this.scopeString[scopeOf(d.scope[i])]);
    if (object) out.interned(arg.object, object);
    if (d.kind[i] === KIND_REALLOCATE) {
      out.pointer(arg.oldAddress, d.oldAddress[i]);
      if (ended >= 0) out.number(arg.oldSize, d.size[ended]);
    }
    this.closeInstant(i, opened);
  }
}
