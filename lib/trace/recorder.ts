// Decodes what the native recorder (native/core/trace_recorder.h) hands over: one
// ArrayBuffer of 56-byte events, read column by column with typed arrays over it,
// plus the command and object tables.
import native, { type Native } from '../native/binding';
import { TRACE_FORMAT, TRACE_VERSION, TraceData, TraceObject } from './format';
import * as is from '../util/is';

export interface TraceOptions {
  /** Events preallocated (default 65536). */
  capacity?: number;
  /** Growth stops here (default 4,194,304 events, 56 bytes each). */
  maxEvents?: number;
  /** When the buffer is full: 'grow' (default, up to maxEvents) or 'drop' (and count). */
  whenFull?: 'grow' | 'drop';
  /** Keep the JS stack of each Vulkan command (off by default: it costs a stack capture per command). */
  callSites?: boolean;
}

export interface RawTrace {
  events: ArrayBuffer;
  count: number;
  dropped: number;
  commands: string[];
  objects: TraceObject[];
  callSites: Record<string, string>;
}

// The event's size and field offsets, as the addon lays them out (struct TraceEvent).
const EVENT = native.boundary.traceEvent;
const EVENT_BYTES = EVENT.bytes;

export function nativeTraceOptions(options: unknown): { capacity: number; maxEvents: number; grow: boolean; callSites: boolean } {
  const o = is.options(options, 'options', ['capacity', 'maxEvents', 'whenFull', 'callSites'] as const);
  const capacity = o.capacity === undefined ? 65536 : is.integer(o.capacity, 'capacity', 1, 1 << 26);
  const maxEvents = o.maxEvents === undefined ? Math.max(capacity, 1 << 22) : is.integer(o.maxEvents, 'maxEvents', capacity, 1 << 26);
  const whenFull = o.whenFull === undefined ? 'grow' : is.oneOf(o.whenFull, 'whenFull', ['grow', 'drop'] as const);
  const callSites = o.callSites === undefined ? false : is.boolean(o.callSites, 'callSites');
  return { capacity, maxEvents, grow: whenFull === 'grow', callSites };
}

export function decodeTrace(raw: RawTrace, meta: Record<string, string | number>): TraceData {
  const n = raw.count;
  const f64 = new Float64Array(raw.events);
  const u32 = new Uint32Array(raw.events);
  const u16 = new Uint16Array(raw.events);
  const u8 = new Uint8Array(raw.events);
  const data: TraceData = {
    format: TRACE_FORMAT,
    version: TRACE_VERSION,
    meta,
    count: n,
    dropped: raw.dropped,
    seq: new Float64Array(n),
    time: new Float64Array(n),
    kind: new Uint8Array(n),
    scope: new Uint8Array(n),
    flags: new Uint8Array(n),
    size: new Float64Array(n),
    alignment: new Float64Array(n),
    address: new Float64Array(n),
    oldAddress: new Float64Array(n),
    command: new Uint16Array(n),
    thread: new Uint8Array(n),
    object: new Uint32Array(n),
    commands: raw.commands,
    objects: raw.objects,
    callSites: Object.fromEntries(Object.entries(raw.callSites).map(([seq, site]) => [Number(seq), site])),
  };
  // Field offsets in elements of each view (checkBoundary made sure they divide).
  const T = EVENT.time / 8, S = EVENT.size / 8, A = EVENT.address / 8, O = EVENT.oldAddress / 8;
  const SEQ = EVENT.seq / 4, AL = EVENT.alignment / 4, OBJ = EVENT.object / 4, CMD = EVENT.command / 2;
  const K = EVENT.kind, SC = EVENT.scope, F = EVENT.flags, TH = EVENT.thread;
  const d8 = EVENT_BYTES / 8, d4 = EVENT_BYTES / 4, d2 = EVENT_BYTES / 2;
  for (let i = 0; i < n; i++) {
    const d = i * d8, w = i * d4, h = i * d2, b = i * EVENT_BYTES;
    data.time[i] = f64[d + T];
    data.size[i] = f64[d + S];
    data.address[i] = f64[d + A];
    data.oldAddress[i] = f64[d + O];
    data.seq[i] = u32[w + SEQ];
    data.alignment[i] = u32[w + AL];
    data.command[i] = u16[h + CMD];
    data.kind[i] = u8[b + K];
    data.scope[i] = u8[b + SC];
    data.flags[i] = u8[b + F];
    data.thread[i] = u8[b + TH];
    data.object[i] = u32[w + OBJ];
  }
  return data;
}

export type { Native };
