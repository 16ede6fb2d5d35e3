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
// referred to by number. Events are written in seq order straight from the trace's columns,
// 768 KiB at a time, with a replay of their own that keeps numbers, not objects
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
import type { TraceData } from './format';

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

/**
 * Live blocks: address -> index of the event that made it, and the block's object (a
 * reallocation keeps the old block's when it names none). Open addressing in typed
 * arrays (linear probing, deletion by shifting back), so that the churn of hundreds of
 * thousands of blocks makes no garbage: a Map's did, and its collections cost more than
 * the lookups. Its memory follows the live blocks, not the trace's length.
 */
class AddressMap {
  #keys = new Float64Array(1 << 12);
  #values = new Int32Array(1 << 12).fill(-1);  // -1: empty slot
  #objects = new Uint32Array(1 << 12);
  #size = 0;

  #slot(address: number): number {
    const mask = this.#keys.length - 1;
    // Addresses are aligned: mix the high and low words before taking the low bits.
    let at = Math.imul((address >>> 4) ^ (address / 2 ** 32), 0x9e3779b1) & mask;
    while (this.#values[at] !== -1 && this.#keys[at] !== address) at = (at + 1) & mask;
    return at;
  }

  /** The value for `address`, or -1. */
  get(address: number): number {
    return this.#values[this.#slot(address)];
  }

  /** The object of the block at `address` (which is live). */
  object(address: number): number {
    return this.#objects[this.#slot(address)];
  }

  set(address: number, value: number, object: number): void {
    const at = this.#slot(address);
    if (this.#values[at] === -1) this.#size++;
    this.#keys[at] = address;
    this.#values[at] = value;
    this.#objects[at] = object;
    if (2 * this.#size > this.#keys.length) this.#grow();
  }

  delete(address: number): void {
    const keys = this.#keys, values = this.#values, objects = this.#objects, mask = keys.length - 1;
    let hole = this.#slot(address);
    if (values[hole] === -1) return;
    values[hole] = -1;
    this.#size--;
    // Entries after the hole that probed past it move back into it.
    for (let at = (hole + 1) & mask; values[at] !== -1; at = (at + 1) & mask) {
      const home = Math.imul((keys[at] >>> 4) ^ (keys[at] / 2 ** 32), 0x9e3779b1) & mask;
      if (((at - home) & mask) >= ((at - hole) & mask)) {
        keys[hole] = keys[at];
        values[hole] = values[at];
        objects[hole] = objects[at];
        values[at] = -1;
        hole = at;
      }
    }
  }

  #grow(): void {
    const keys = this.#keys, values = this.#values, objects = this.#objects;
    this.#keys = new Float64Array(2 * keys.length);
    this.#values = new Int32Array(2 * keys.length).fill(-1);
    this.#objects = new Uint32Array(2 * keys.length);
    this.#size = 0;
    for (let i = 0; i < keys.length; i++) if (values[i] !== -1) this.set(keys[i], values[i], objects[i]);
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

  /** Opens a packet (close it with w.end); time in ns, or null for none. */
  packet(time: number | null): number {
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
    new Replay(trace, out).run();
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

/**
 * The events in seq order, replayed as Trace's replay does (lib/trace/trace.ts: the same
 * command runs, the same block ended by each free, the same live bytes) but keeping
 * numbers, and written as they come.
 */
class Replay {
  readonly d: TraceData;
  readonly arg: Record<Argument, number>;
  readonly vulkan: number;
  readonly allocation: number;
  readonly kindName: number[];
  readonly commandNames: string[];
  readonly commandName: number[];
  readonly commandString: number[];
  readonly scopeString: number[];
  readonly objectStrings: Uint32Array;  // 0: not interned yet
  /** JS-thread commands running now, nested ones on top. */
  readonly open: OpenSpan[] = [];
  /** Live blocks by address: the index of the event that made each, and its object. */
  readonly live = new AddressMap();
  /** The object of the block the current callback ended (a free, a reallocation). */
  endedObject = 0;
  readonly scopeLive = new Float64Array(SCOPE_NAMES.length);
  liveTotal = 0;
  /** The counter tracks the current callback changed (its scopes', then the total), and their values. */
  readonly changed = new Float64Array(SCOPE_NAMES.length + 1);
  readonly values = new Float64Array(SCOPE_NAMES.length + 1);
  changes = 0;

  constructor(readonly trace: Trace, readonly out: Packets) {
    const d = (this.d = trace.data);
    this.arg = Object.fromEntries(ARGUMENTS.map((a) => [a, out.argNames.id(a)])) as Record<Argument, number>;
    this.vulkan = out.categories.id('vulkan');
    this.allocation = out.categories.id('allocation');
    this.kindName = EVENT_KINDS.map((k) => out.eventNames.id(k));
    this.commandNames = d.commands.map((c) => c ?? 'none');
    this.commandName = this.commandNames.map((c) => out.eventNames.id(c));
    this.commandString = this.commandNames.map((c) => out.strings.id(c));
    this.scopeString = SCOPE_NAMES.map((s) => out.strings.id(s));
    this.objectStrings = new Uint32Array(d.objects.length);
  }

  run(): void {
    const d = this.d;
    const order = seqOrderOf(this.trace);
    let end = 0;
    for (let n = 0; n < d.count; n++) {
      const i = order ? order[n] : n;
      const kind = d.kind[i];
      if (d.time[i] > end) end = d.time[i];
      this.out.drain();
      if (kind === KIND_COMMAND_BEGIN) this.begin(i);
      else if (kind === KIND_COMMAND_END) this.end(i);
      else this.callback(i);
    }
    // Runs the trace stopped inside end with it, innermost first.
    while (this.open.length > 0) this.closeSlice(this.open.pop()!, end, null);
  }

  objectString(id: number): number {
    const d = this.d;
    if (id <= 0 || id >= d.objects.length || !d.objects[id]) return 0;
    return (this.objectStrings[id] ||= this.out.strings.id(`${d.objects[id].type} #${id}`));
  }

  begin(i: number): void {
    const { d, out } = this;
    const name = this.commandNames[d.command[i]];
    this.open.push({ name, object: d.object[i], allocations: 0, reallocations: 0, frees: 0, bytesAllocated: 0, bytesFreed: 0 });
    const p = out.packet(d.time[i]);
    const e = out.event(SLICE_BEGIN, JS_TRACK, this.commandName[d.command[i]], this.vulkan);
    out.number(this.arg.seq, d.seq[i]);
    const site = d.callSites[d.seq[i]];
    if (site !== undefined) out.text(this.arg.callSite, site);
    out.w.end(e);
    out.w.end(p);
  }

  end(i: number): void {
    const { d, open } = this;
    // Normally the innermost open run; search down in case a begin was dropped.
    const name = this.commandNames[d.command[i]];
    let at = open.length - 1;
    while (at >= 0 && open[at].name !== name) at--;
    if (at < 0) return;
    // Slices nest: runs left open inside this one end with it, unfinished.
    while (open.length > at + 1) this.closeSlice(open.pop()!, d.time[i], null);
    const span = open.pop()!;
    span.object ||= d.object[i];
    this.closeSlice(span, d.time[i], d.size[i]);
  }

  closeSlice(span: OpenSpan, time: number, result: number | null): void {
    const { out, arg } = this;
    const object = this.objectString(span.object);
    const p = out.packet(time);
    const e = out.event(SLICE_END, JS_TRACK, 0, 0);
    if (result !== null) out.number(arg.result, result);
    else out.yes(arg.unfinished);
    if (object) out.interned(arg.object, object);
    out.number(arg.allocations, span.allocations);
    out.number(arg.reallocations, span.reallocations);
    out.number(arg.frees, span.frees);
    out.number(arg.bytesAllocated, span.bytesAllocated);
    out.number(arg.bytesFreed, span.bytesFreed);
    out.w.end(e);
    out.w.end(p);
  }

  /** A callback: its effect on blocks and counters, then its instant. */
  callback(i: number): void {
    const { d, open } = this;
    const kind = d.kind[i];
    const thread = d.thread[i];
    const failed = (d.flags[i] & EVENT_FLAGS.failed) !== 0;
    const offThread = thread !== 0 || (d.flags[i] & EVENT_FLAGS.offThread) !== 0;
    const top = open.length > 0 ? open[open.length - 1] : null;
    const span = !offThread && d.command[i] !== 0 ? top : null;
    if (span && !span.object) span.object = d.object[i];
    this.changes = 0;
    let ended = -1;  // the block a free or reallocate ended
    if (kind === KIND_FREE && !failed) ended = this.free(i, span);
    else if (kind <= KIND_REALLOCATE && !failed) ended = this.allocate(i, kind, span);
    // The slice it sits in names the command already.
    const command = thread === 0 && top && top.name === this.commandNames[d.command[i]] ? 0 : this.commandString[d.command[i]];
    if (kind === KIND_FREE) this.freeInstant(i, ended, command);
    else if (kind > KIND_FREE) this.internalInstant(i, command);
    else this.allocateInstant(i, ended, command);
  }

  /** A free: ends the live block at its address; returns that block, or -1. */
  free(i: number, span: OpenSpan | null): number {
    const d = this.d;
    const ended = d.address[i] ? this.live.get(d.address[i]) : -1;
    if (ended >= 0) {
      this.endedObject = this.live.object(d.address[i]);
      this.remove(d.address[i]);
      if (span) {
        span.frees++;
        span.bytesFreed += d.size[ended];
      }
    }
    return ended;
  }

  /** An allocate or reallocate: a new live block; returns the block a reallocation ended, or -1. */
  allocate(i: number, kind: number, span: OpenSpan | null): number {
    const { d, live } = this;
    let object = d.object[i];
    let ended = -1;
    if (kind === KIND_REALLOCATE) {
      ended = d.oldAddress[i] ? live.get(d.oldAddress[i]) : -1;
      if (ended >= 0) {
        this.endedObject = live.object(d.oldAddress[i]);
        this.remove(d.oldAddress[i]);
        object ||= this.endedObject;
        if (span) span.bytesFreed += d.size[ended];
      }
    }
    if (live.get(d.address[i]) >= 0) this.remove(d.address[i]);  // an address handed out twice: a free was dropped
    live.set(d.address[i], i, object);
    this.change(scopeOf(d.scope[i]), d.size[i]);
    if (span) {
      if (kind === KIND_ALLOCATE) span.allocations++;
      else span.reallocations++;
      span.bytesAllocated += d.size[i];
    }
    return ended;
  }

  remove(address: number): void {
    const b = this.live.get(address);
    this.live.delete(address);
    this.change(scopeOf(this.d.scope[b]), -this.d.size[b]);
  }

  change(scope: number, bytes: number): void {
    const { changed, values } = this;
    this.scopeLive[scope] += bytes;
    this.liveTotal += bytes;
    const uuid = SCOPE_COUNTER + scope;
    let at = 0;
    while (at < this.changes && changed[at] !== uuid) at++;
    changed[at] = uuid;
    values[at] = this.scopeLive[scope];
    if (at === this.changes) this.changes++;
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
    const { out } = this;
    if ((this.d.flags[i] & EVENT_FLAGS.failed) !== 0) out.yes(this.arg.failed);
    if (this.changes > 0) {
      this.changed[this.changes] = TOTAL_COUNTER;
      this.values[this.changes] = this.liveTotal;
      out.w.packed(TrackEvent.extraCounterTrackUuids, this.changed, this.changes + 1);
      out.w.packed(TrackEvent.extraCounterValues, this.values, this.changes + 1);
    }
    out.w.end(e);
    out.w.end(p);
  }

  /** A free: the block it ended gives size, scope and object. */
  freeInstant(i: number, ended: number, command: number): void {
    const { d, out, arg } = this;
    const b = ended >= 0 ? ended : i;
    const object = this.objectString(ended >= 0 ? this.endedObject : d.object[i]);
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

const scopeOf = (scope: number) => (scope < SCOPE_NAMES.length ? scope : 0);
