// The Perfetto export (lib/trace/perfetto.ts), read back with a protobuf wire-format
// walker of this file's own (not the encoder run backwards) and compared with the Chrome
// export, event by event: same slices, instants, arguments and counters. On a synthetic
// trace with every kind of event, then on real lavapipe runs.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { findLavapipe } from '../../lib/vulkan/driver';
import { HostAllocator } from '../../lib/allocator/host-allocator';
import { createInstance } from '../../lib/vulkan/instance';
import { ALLOCATION_SCOPES } from '../../lib/allocator/policy';
import { loadTrace, Trace } from '../../lib/trace/trace';
import type { ChromeTraceEvent } from '../../lib/trace/chrome';
import { catchError } from '../helpers/catch-error';
import { sampleAppTrace, TraceBuilder } from '../helpers/synthetic-trace';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vkalloc-perfetto-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// ---- the wire format, read independently ----

interface Field {
  field: number;
  wire: number;
  /** Varint (wire 0) or fixed64 (wire 1) value. */
  value: bigint;
  /** Length-delimited (wire 2) contents. */
  bytes: Buffer;
}

function fields(b: Buffer): Field[] {
  const out: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let v = BigInt(0);
    for (let shift = 0; shift < 70; shift += 7) {
      if (at >= b.length) throw new Error('truncated varint');
      const c = b[at++];
      v |= BigInt(c & 127) << BigInt(shift);
      if (c < 128) return v;
    }
    throw new Error('varint longer than 10 bytes');
  };
  while (at < b.length) {
    const key = Number(varint());
    const field = key >>> 3, wire = key & 7;
    if (field === 0) throw new Error('field number 0');
    if (wire === 0) out.push({ field, wire, value: varint(), bytes: Buffer.alloc(0) });
    else if (wire === 1) {
      if (at + 8 > b.length) throw new Error('truncated fixed64');
      out.push({ field, wire, value: b.readBigUInt64LE(at), bytes: b.subarray(at, at + 8) });
      at += 8;
    } else if (wire === 2) {
      const n = Number(varint());
      if (at + n > b.length) throw new Error(`length ${n} past the end`);
      out.push({ field, wire, value: BigInt(0), bytes: b.subarray(at, at + n) });
      at += n;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}

const one = (fs_: Field[], field: number) => fs_.find((f) => f.field === field);
const num = (f: Field | undefined) => (f === undefined ? undefined : Number(f.value));
const str = (f: Field | undefined) => f?.bytes.toString('utf8');
const packedVarints = (b: Buffer) => {
  // A packed field's contents are bare varints: read them as fields of a made-up key.
  const out: number[] = [];
  let at = 0;
  while (at < b.length) {
    let v = 0, scale = 1, c: number;
    do {
      c = b[at++];
      v += (c & 127) * scale;
      scale *= 128;
    } while (c >= 128);
    out.push(v);
  }
  return out;
};

interface Track { uuid: number; parent?: number; name?: string; pid?: number; tid?: number; thread?: string; process?: string; counter: boolean }
interface Event {
  ts: number;
  type: number;
  track: number;
  name?: string;
  categories: string[];
  args: Record<string, unknown>;
  counter?: number;
  extra: [number, number][];
}

const SLICE_BEGIN = 1, SLICE_END = 2, INSTANT = 3, COUNTER = 4;

/** The file, packet by packet, interned names resolved (an unknown iid throws). */
function readPerfetto(file: string) {
  const top = fields(fs.readFileSync(file));
  for (const f of top) if (f.field !== 1 || f.wire !== 2) throw new Error(`Trace field ${f.field} (wire ${f.wire}): expected only packets (1)`);
  const tables: Record<number, Map<number, string>> = { 1: new Map(), 2: new Map(), 3: new Map(), 29: new Map() };
  const lookup = (table: number, iid: number) => {
    const s = tables[table].get(iid);
    if (s === undefined) throw new Error(`iid ${iid} of table ${table} used before it was interned`);
    return s;
  };
  const tracks = new Map<number, Track>();
  const events: Event[] = [];
  let packets = 0;
  for (const p of top) {
    const packet = fields(p.bytes);
    if (num(one(packet, 10)) !== 1) throw new Error('packet without trusted_packet_sequence_id 1');
    const flags = num(one(packet, 13));
    if (packets++ === 0 && flags !== 1) throw new Error('the first packet should clear the incremental state');
    for (const interned of packet.filter((f) => f.field === 12)) {
      for (const entry of fields(interned.bytes)) {
        const e = fields(entry.bytes);
        const iid = num(one(e, 1))!, text = str(one(e, 2))!;
        const table = tables[entry.field];
        if (!table) throw new Error(`interned table ${entry.field}`);
        if (table.has(iid) && table.get(iid) !== text) throw new Error(`iid ${iid} redefined`);
        table.set(iid, text);
      }
    }
    const descriptor = one(packet, 60);
    if (descriptor) {
      const d = fields(descriptor.bytes);
      const thread = one(d, 4) && fields(one(d, 4)!.bytes);
      const process = one(d, 3) && fields(one(d, 3)!.bytes);
      const t: Track = { uuid: num(one(d, 1))!, parent: num(one(d, 5)), name: str(one(d, 2)), counter: one(d, 8) !== undefined };
      if (thread) Object.assign(t, { pid: num(one(thread, 1)), tid: num(one(thread, 2)), thread: str(one(thread, 5)) });
      if (process) Object.assign(t, { pid: num(one(process, 1)), process: str(one(process, 6)) });
      tracks.set(t.uuid, t);
    }
    const te = one(packet, 11);
    if (te) {
      if (flags !== 2) throw new Error('a track event should say it needs the incremental state (interned names)');
      const f = fields(te.bytes);
      const args: Record<string, unknown> = {};
      for (const a of f.filter((x) => x.field === 4)) {
        const af = fields(a.bytes);
        const name = one(af, 1) ? lookup(3, num(one(af, 1))!) : str(one(af, 10))!;
        const v = af.find((x) => x.field !== 1 && x.field !== 10)!;
        args[name] = v.field === 2 ? v.value !== BigInt(0) : v.field === 3 ? Number(v.value) : v.field === 4 ? Number(BigInt.asIntN(64, v.value))
          : v.field === 5 ? v.bytes.readDoubleLE(0) : v.field === 6 ? str(v) : v.field === 7 ? `0x${v.value.toString(16)}`
          : v.field === 17 ? lookup(29, Number(v.value)) : `field ${v.field}?`;
      }
      const uuids = f.filter((x) => x.field === 31).flatMap((x) => packedVarints(x.bytes));
      const values = f.filter((x) => x.field === 12).flatMap((x) => packedVarints(x.bytes));
      events.push({
        ts: num(one(packet, 8))!, type: num(one(f, 9))!, track: num(one(f, 11))!,
        name: one(f, 10) ? lookup(2, num(one(f, 10))!) : undefined,
        categories: f.filter((x) => x.field === 3).map((x) => lookup(1, Number(x.value))),
        args, counter: num(one(f, 30)), extra: uuids.map((u, k) => [u, values[k]]),
      });
    }
  }
  return { tracks, events, packets };
}

/** Slices from begin/end pairs per track, with the merged arguments (as Perfetto imports them). */
function slicesOf(events: Event[]) {
  const open = new Map<number, Event[]>();
  const slices: { name: string; track: number; ts: number; dur: number; args: Record<string, unknown>; categories: string[] }[] = [];
  const parents = new Map<Event, string | undefined>();
  for (const e of events) {
    const stack = open.get(e.track) ?? [];
    open.set(e.track, stack);
    if (e.type === SLICE_BEGIN) stack.push(e);
    else if (e.type === SLICE_END) {
      const b = stack.pop();
      if (!b) throw new Error('slice end without a begin');
      slices.push({ name: b.name!, track: e.track, ts: b.ts, dur: e.ts - b.ts, args: { ...b.args, ...e.args }, categories: b.categories });
    } else if (e.type === INSTANT) parents.set(e, stack[stack.length - 1]?.name);
  }
  for (const [track, stack] of open) if (stack.length) throw new Error(`${stack.length} slices left open on track ${track}`);
  return { slices, parents };
}

const ns = (us: number) => Math.round(us * 1000);
const withoutNulls = (args: Record<string, unknown> = {}) => Object.fromEntries(Object.entries(args).filter(([, v]) => v !== null));

/** Checks the Perfetto file of `trace` against its Chrome export, event by event; returns the read file. */
function expectSameAsChrome(trace: Trace, file: string) {
  trace.writePerfettoTrace(file);
  const perfetto = readPerfetto(file);
  const chrome = trace.toChromeTrace().traceEvents;
  const { tracks, events } = perfetto;
  const { slices, parents } = slicesOf(events);

  // Tracks: the process, its threads (by Chrome's tid) and the counters.
  const process = [...tracks.values()].find((t) => t.process)!;
  expect(process.process).toBe(chrome.find((e) => e.name === 'process_name')!.args!.name);
  const threadNames = chrome.filter((e) => e.name === 'thread_name').map((e) => [e.tid, e.args!.name]);
  const threads = [...tracks.values()].filter((t) => t.thread !== undefined);
  expect(threads.map((t) => [t.tid, t.thread])).toEqual(threadNames);
  expect(threads.every((t) => t.pid === process.pid && t.parent === process.uuid)).toBe(true);
  const tidOf = new Map(threads.map((t) => [t.uuid, t.tid]));
  const counters = new Map([...tracks.values()].filter((t) => t.counter).map((t) => [t.uuid, t.name!]));
  expect([...counters.values()]).toEqual(['live bytes', ...ALLOCATION_SCOPES.map((s) => `live bytes ${s}`)]);

  // Command runs: Chrome's complete events are the slices, arguments and all.
  const complete = chrome.filter((e) => e.ph === 'X');
  expect(slices.length).toBe(trace.commandSpans().length);
  const bySeq = new Map(complete.map((e) => [e.args!.seq, e]));
  const fromChrome = slices.map((s) => bySeq.get(s.args.seq)!)
    .map((x) => ({ name: x.name, tid: x.tid, ts: ns(x.ts!), dur: ns(x.dur!), cat: x.cat, args: withoutNulls(x.args) }));
  expect(slices.map((s) => ({ name: s.name, tid: tidOf.get(s.track), ts: s.ts, dur: s.dur, cat: s.categories.join(), args: s.args }))).toEqual(fromChrome);

  // Callbacks: an instant each, in the same order, with the same arguments; the command
  // is left out only where the slice the instant sits in names it.
  const instants = events.filter((e) => e.type === INSTANT && e.track !== process.uuid);
  const chromeInstants = chrome.filter((e) => e.ph === 'i');
  expect(instants.length).toBe(chromeInstants.length);
  expect(instants.length).toBe([...trace.events()].filter((e) => !e.kind.startsWith('command')).length);
  const expected = instants.map((e, k) => {
    const c: ChromeTraceEvent = chromeInstants[k];
    const args = withoutNulls(c.args);
    if (!('command' in e.args) && parents.get(e) === args.command) delete args.command;
    return { name: c.name, tid: c.tid, ts: ns(c.ts!), cat: c.cat, args };
  });
  expect(instants.map((e) => ({ name: e.name, tid: tidOf.get(e.track), ts: e.ts, cat: e.categories.join(), args: e.args }))).toEqual(expected);

  // Counters: 0 at the start, then after every change the values of Trace.liveSeries().
  const initial = events.filter((e) => e.type === COUNTER);
  expect(initial.map((e) => [counters.get(e.track), e.ts, e.counter]).sort()).toEqual([...counters.values()].map((n) => [n, 0, 0]).sort());
  const series = trace.liveSeries();
  const value = new Map([...counters.keys()].map((uuid) => [uuid, 0]));
  const points = instants.filter((e) => e.extra.length > 0);
  expect(points.length).toBe(series.time.length - 1);
  const rows = points.map((e) => {
    for (const [uuid, v] of e.extra) {
      if (!counters.has(uuid)) throw new Error(`counter value for track ${uuid}, not a counter`);
      value.set(uuid, v);
    }
    return [e.ts, ...value.values()];
  });
  expect(rows).toEqual(rows.map((_, j) => [series.time[j + 1], series.total[j + 1], ...ALLOCATION_SCOPES.map((s) => series.scopes[s][j + 1])]));
  return perfetto;
}

// ---- synthetic traces ----

describe('Perfetto export of synthetic traces', () => {
  test('matches the Chrome export: slices, instants, arguments, threads and counters', () => {
    // Every kind of event: off-thread threads, failures, reallocations, frees of NULL.
    const { data } = sampleAppTrace();
    const { events, tracks } = expectSameAsChrome(new Trace(data), path.join(tmp, 'sample.perfetto-trace'));
    const meta = events.find((e) => e.name === 'vkalloc trace')!;
    expect(tracks.get(meta.track)!.process).toBe('vkalloc (synthetic)');
    expect(meta.args).toMatchObject({ driver: 'synthetic', device: 'test device', format: 'vkalloc-perfetto-trace', version: 1, events: data.count, dropped: 0 });
    const last = (name: string) => events.filter((e) => e.extra.length).flatMap((e) => e.extra)
      .filter(([uuid]) => tracks.get(uuid)!.name === name).pop()![1];
    expect(last('live bytes device')).toBe(300);
    expect(last('live bytes')).toBe(64 + 248 + 300 + 1289);
  });

  test('a run the trace stopped inside ends with the trace, unfinished; a negative VkResult survives', () => {
    const b = new TraceBuilder();
    b.begin('vkCreateInstance');
    const instance = b.create('Instance');
    const a = b.allocate(4096, 'instance');
    b.end(-3);
    b.begin('vkDestroyInstance', instance);
    b.free(a);
    b.allocate(64, 'command');
    const trace = new Trace(b.buildPartial());
    const { events } = expectSameAsChrome(trace, path.join(tmp, 'unfinished.perfetto-trace'));
    const { slices } = slicesOf(events);
    expect(slices.map((s) => [s.name, s.args.result, s.args.unfinished])).toEqual([['vkCreateInstance', -3, undefined], ['vkDestroyInstance', undefined, true]]);
  });

  test('an address handed out twice (a free the trace dropped) counts the first block as gone, as the replay does', () => {
    const b = new TraceBuilder();
    b.begin('vkCreateInstance');
    b.create('Instance');
    const a = b.allocate(100, 'instance');
    b.end();
    const data = b.build();
    // A second allocation at the same address, in another scope, with no free between.
    const at = data.count - 1;
    const copy = <T extends { length: number }>(col: T, extra: number) => {
      const out = new (col.constructor as new (n: number) => T & number[])(data.count + 1);
      (out as unknown as Float64Array).set(col as unknown as Float64Array);
      out[data.count] = extra;
      return out;
    };
    const twice = new Trace({
      ...data, count: data.count + 1, seq: copy(data.seq, data.seq[at] + 1), time: copy(data.time, data.time[at] + 1000),
      kind: copy(data.kind, 0), scope: copy(data.scope, 1), flags: copy(data.flags, 4), size: copy(data.size, 30),
      alignment: copy(data.alignment, 8), address: copy(data.address, a), oldAddress: copy(data.oldAddress, 0),
      command: copy(data.command, 0), thread: copy(data.thread, 0), object: copy(data.object, 0),
    });
    expectSameAsChrome(twice, path.join(tmp, 'twice.perfetto-trace'));
    expect(twice.summary().liveBytes).toBe(30);
  });

  test('an off-thread callback during a command keeps its command (layer traces name it): its track has no slice', () => {
    const b = new TraceBuilder();
    b.begin('vkQueueSubmit');
    b.allocate(64, 'command', { thread: 1 });
    b.end();
    const data = b.build();
    const off = data.thread.indexOf(1);
    data.command[off] = data.commands.indexOf('vkQueueSubmit');
    const { events } = expectSameAsChrome(new Trace(data), path.join(tmp, 'off-thread.perfetto-trace'));
    expect(events.find((e) => e.type === INSTANT && e.name === 'allocate')!.args.command).toBe('vkQueueSubmit');
  });

  test('thousands of blocks live at once, freed in a scrambled order: every free finds its block', () => {
    const b = new TraceBuilder();
    b.begin('vkCreateInstance');
    b.create('Instance');
    const blocks = Array.from({ length: 6000 }, (_, k) => b.allocate(16 + (k % 200), ALLOCATION_SCOPES[k % 5]));
    b.end();
    b.begin('vkDestroyInstance', 1);
    for (let k = 0; k < blocks.length; k++) b.free(blocks[(k * 2654435761) % blocks.length]);  // a permutation: 6000 and the step are coprime
    b.end();
    const trace = new Trace(b.build());
    expect(new Set(blocks.map((_, k) => (k * 2654435761) % blocks.length)).size).toBe(blocks.length);
    const { events } = expectSameAsChrome(trace, path.join(tmp, 'many.perfetto-trace'));
    expect(events.filter((e) => e.name === 'free' && e.args.size === undefined)).toHaveLength(0);
    expect(trace.summary().liveBytes).toBe(0);
  });

  test('columns out of seq order (a merged or edited trace): the same files as in order', () => {
    const { data } = sampleAppTrace();
    const reversed = Object.fromEntries(Object.entries(data).map(([key, value]) =>
      [key, ArrayBuffer.isView(value) ? (value as Float64Array).slice().reverse() : value])) as unknown as typeof data;
    const [inOrder, outOfOrder] = [new Trace(data), new Trace(reversed)];
    expect(outOfOrder.data.seq[0]).toBe(data.count - 1);
    const files = (trace: Trace, name: string) => {
      trace.writePerfettoTrace(path.join(tmp, `${name}.perfetto-trace`));
      trace.writeChromeTrace(path.join(tmp, `${name}.json`));
      return [fs.readFileSync(path.join(tmp, `${name}.perfetto-trace`)), fs.readFileSync(path.join(tmp, `${name}.json`), 'utf8')];
    };
    expect(files(outOfOrder, 'reversed')).toEqual(files(inOrder, 'in-order'));
    expectSameAsChrome(outOfOrder, path.join(tmp, 'reversed.perfetto-trace'));
  });

  test('writePerfettoTrace refuses a path that is not a string', () => {
    const error = catchError(() => new Trace(sampleAppTrace().data).writePerfettoTrace(7 as unknown as string));
    expect(error).toBeInstanceOf(TypeError);
    expect(String(error)).toMatch(/Expected a string for path but received 7/);
  });
});

// ---- real drivers ----

const tracing = typeof (HostAllocator.prototype as { startTrace?: unknown }).startTrace === 'function';
const testTraced = tracing && findLavapipe() ? test : test.skip;
const traced = (allocator: HostAllocator) => allocator as unknown as { startTrace(): void; stopTrace(): Trace };

describe('Perfetto export of lavapipe traces', () => {
  testTraced('instances created and destroyed: slices per command, an instant per callback, counters back to 0', () => {
    const allocator = new HostAllocator();
    traced(allocator).startTrace();
    for (let i = 0; i < 3; i++) createInstance({ driver: 'lavapipe' }, { allocator }).destroy();
    const recorded = traced(allocator).stopTrace();
    const file = path.join(tmp, 'instances.json');
    recorded.save(file);
    const trace = loadTrace(file);  // what `vkalloc report --perfetto` exports: a saved trace
    const { events, tracks } = expectSameAsChrome(trace, path.join(tmp, 'instances.perfetto-trace'));

    const names = [...tracks.values()].map((t) => t.process ?? t.thread ?? t.name);
    expect(names.slice(0, 2)).toEqual([expect.stringMatching(/^vkalloc/), 'JS thread: Vulkan commands']);
    const begins = events.filter((e) => e.type === SLICE_BEGIN);
    // Under the validation layer (VKALLOC_TEST_VALIDATION=1) its own commands are traced too.
    expect(begins.map((e) => e.name).filter((n) => /Instance$/.test(n ?? '')))
      .toEqual(Array(3).fill(['vkCreateInstance', 'vkDestroyInstance']).flat());
    expect(events.filter((e) => e.type === SLICE_END)).toHaveLength(begins.length);
    const s = trace.summary();
    const callbacks = s.calls.allocate + s.calls.reallocate + s.calls.free + s.calls.internalAllocate + s.calls.internalFree;
    expect(events.filter((e) => e.type === INSTANT && e.categories.includes('allocation'))).toHaveLength(callbacks);
    expect(callbacks).toBeGreaterThan(100);

    // Every counter ends where it started: destroy freed everything.
    const last = new Map<number, number>();
    for (const e of events) for (const [uuid, v] of e.extra) last.set(uuid, v);
    expect(last.size).toBeGreaterThan(1);
    expect([...last.values()].every((v) => v === 0)).toBe(true);
    const peak = Math.max(...events.flatMap((e) => e.extra.filter(([uuid]) => tracks.get(uuid)!.name === 'live bytes').map(([, v]) => v)));
    expect(peak).toBe(s.peakLiveBytes);

    // A fraction of the Chrome JSON's size.
    const chrome = path.join(tmp, 'instances.chrome.json');
    trace.writeChromeTrace(chrome);
    expect(fs.statSync(path.join(tmp, 'instances.perfetto-trace')).size).toBeLessThan(fs.statSync(chrome).size / 3);
  });
});
