// Trace: an allocator's recorded callbacks (TraceData, lib/trace/format.ts) and what
// they mean: summaries per Vulkan command, scope and object; leaks; the live-bytes
// timeline. Everything comes from one replay of the events in seq order, made on
// first use and kept.
import { ChromeTrace, toChromeTrace, writeChromeTrace } from './chrome';
import { writePerfettoTrace } from './perfetto';
import { SCOPE_NAMES as ALLOCATION_SCOPES, type ScopeName as AllocationScope } from '../native/boundary';
import { EVENT_FLAGS, EVENT_KINDS, EventKind, TraceData, TraceObject } from './format';
import { readTraceFile, writeTraceFile } from './file';
import * as is from '../util/is';

const KIND = Object.fromEntries(EVENT_KINDS.map((name, i) => [name, i])) as Record<EventKind, number>;
const SCOPE_COUNT = ALLOCATION_SCOPES.length;

/** One event, decoded. */
export interface TraceEvent {
  /** Position in the columns. */
  index: number;
  seq: number;
  /** ns since the trace started. */
  time: number;
  kind: EventKind;
  scope: AllocationScope;
  size: number;
  alignment: number;
  address: number;
  oldAddress: number;
  command: string;
  thread: number;
  object: number;
  failed: boolean;
  offThread: boolean;
  outsideCommand: boolean;
}

/** One run of a Vulkan command issued from JS, from its command-begin to its command-end. */
export interface CommandSpan {
  command: string;
  beginIndex: number;
  beginSeq: number;
  start: number;
  /** null when the trace stopped while the command ran. */
  endIndex: number | null;
  endSeq: number | null;
  end: number | null;
  /** The VkResult (command-end's size). */
  result: number | null;
  /** The object it created or destroyed, as its events say (0: none). */
  object: number;
  callSite: string | null;
  allocations: number;
  reallocations: number;
  frees: number;
  bytesAllocated: number;
  bytesFreed: number;
}

/** A block's life: from the allocate/reallocate that produced it to the free/reallocate that ended it. */
export interface TraceBlock {
  index: number;
  seq: number;
  time: number;
  address: number;
  size: number;
  alignment: number;
  scope: AllocationScope;
  command: string;
  /** The command run it was allocated in (null: off-thread or outside any command). */
  span: CommandSpan | null;
  object: number;
  thread: number;
  endIndex: number | null;
  endSeq: number | null;
}

export interface CallCounts {
  allocate: number;
  reallocate: number;
  free: number;
  internalAllocate: number;
  internalFree: number;
}

/**
 * Counts follow allocator.stats(): a reallocation is counted as a reallocation only,
 * and moves bytes (its new size is allocated, the old block's size freed); frees count
 * blocks the trace saw allocated (see TraceSummary.untrackedFrees).
 */
export interface CommandSummary {
  command: string;
  /** Runs of the command (0 for 'none'). */
  invocations: number;
  /** ns spent inside its runs. */
  duration: number;
  allocations: number;
  reallocations: number;
  frees: number;
  internalAllocations: number;
  internalFrees: number;
  failures: number;
  bytesAllocated: number;
  bytesFreed: number;
  /** Highest live bytes of the allocator at any of its callbacks. */
  peakLiveBytes: number;
}

export interface ScopeSummary {
  scope: AllocationScope;
  allocations: number;
  reallocations: number;
  frees: number;
  internalAllocations: number;
  internalFrees: number;
  failures: number;
  bytesAllocated: number;
  bytesFreed: number;
  liveCount: number;
  liveBytes: number;
  peakLiveBytes: number;
  /** Net bytes of internal allocations notified (internal-allocate minus internal-free). */
  internalBytes: number;
}

export interface ObjectSummary {
  id: number;
  type: string;
  createdBy: string;
  destroyed: boolean;
  parent: number;
  bytesAllocated: number;
  /** Blocks attributed to it and live at the end of the trace. */
  liveCount: number;
  liveBytes: number;
  peakLiveBytes: number;
}

export interface TraceSummary {
  events: number;
  dropped: number;
  /** ns from the trace's start to its last event. */
  duration: number;
  calls: CallCounts;
  offThreadCalls: CallCounts;
  /** Threads other than the JS thread that called back. */
  offThreads: number;
  failures: number;
  bytesAllocated: number;
  bytesFreed: number;
  liveCount: number;
  liveBytes: number;
  peakLiveBytes: number;
  /** Frees of addresses the trace never saw allocated (allocated before it started, or unknown pointers). */
  untrackedFrees: number;
  commands: CommandSummary[];
  scopes: Record<AllocationScope, ScopeSummary>;
  objects: ObjectSummary[];
}

export type LeakRule = 'object-destroyed' | 'device-destroyed' | 'instance-destroyed' | 'command-returned';

export interface TraceLeak {
  rule: LeakRule;
  address: number;
  size: number;
  alignment: number;
  scope: AllocationScope;
  seq: number;
  time: number;
  /** Where it was allocated. */
  command: string;
  thread: number;
  object: number;
  objectType: string | null;
  /** The object whose destruction made it a leak (null for 'command-returned'). */
  owner: { id: number; type: string } | null;
  /** Seq of the command-end after which it still lived. */
  leakedAt: number;
  /** Seq of the free that came later anyway, or null when it never came. */
  freedAt: number | null;
  callSite: string | null;
  /** One sentence, for reports. */
  reason: string;
}

/** A block live at the end of the trace that is not a leak: its owner still exists (or it has none). */
export interface StillLiveBlock {
  address: number;
  size: number;
  scope: AllocationScope;
  seq: number;
  time: number;
  command: string;
  object: number;
  objectType: string | null;
  owner: { id: number; type: string } | null;
  reason: 'owner alive' | 'no owner' | 'command running';
  callSite: string | null;
}

/** Live bytes after each change, per scope and in total (time in ns). */
export interface LiveSeries {
  time: Float64Array;
  total: Float64Array;
  scopes: Record<AllocationScope, Float64Array>;
}

interface Replay {
  spans: CommandSpan[];
  blocks: TraceBlock[];
  summary: TraceSummary;
  series: LiveSeries;
}

const COLUMNS = ['seq', 'time', 'kind', 'scope', 'flags', 'size', 'alignment', 'address', 'oldAddress', 'command', 'thread', 'object'] as const;

export class Trace {
  readonly data: TraceData;
  #replay: Replay | null = null;
  #leaks: { leaks: TraceLeak[]; stillLive: StillLiveBlock[] } | null = null;

  constructor(data: TraceData) {
    if (data === null || typeof data !== 'object') is.fail('type', 'a TraceData object', 'data', data);
    for (const name of COLUMNS) {
      const column = (data as unknown as Record<string, ArrayLike<number>>)[name];
      if (!column || column.length !== data.count) {
        throw new RangeError(`Trace column ${name} has ${column ? column.length : 'no'} entries, expected count = ${data.count}`);
      }
    }
    this.data = data;
  }

  get count(): number {
    return this.data.count;
  }

  get dropped(): number {
    return this.data.dropped;
  }

  get meta(): Record<string, string | number> {
    return this.data.meta;
  }

  event(index: number): TraceEvent {
    const d = this.data;
    is.integer(index, 'index', 0, d.count - 1);
    const flags = d.flags[index];
    return {
      index, seq: d.seq[index], time: d.time[index], kind: EVENT_KINDS[d.kind[index]], scope: scopeName(d.scope[index]),
      size: d.size[index], alignment: d.alignment[index], address: d.address[index], oldAddress: d.oldAddress[index],
      command: d.commands[d.command[index]] ?? 'none', thread: d.thread[index], object: d.object[index],
      failed: (flags & EVENT_FLAGS.failed) !== 0, offThread: (flags & EVENT_FLAGS.offThread) !== 0,
      outsideCommand: (flags & EVENT_FLAGS.outsideCommand) !== 0,
    };
  }

  /** Every event, decoded, in seq order. */
  *events(): IterableIterator<TraceEvent> {
    for (const i of seqOrder(this.data)) yield this.event(i);
  }

  /** The object with this index (objects[0] is the "no object" placeholder). */
  object(id: number): TraceObject | null {
    return id > 0 ? this.data.objects[id] ?? null : null;
  }

  summary(): TraceSummary {
    return this.#replayed().summary;
  }

  /** Command runs in seq order. */
  commandSpans(): readonly CommandSpan[] {
    return this.#replayed().spans;
  }

  /** Every block's life, in allocation order. */
  blocks(): readonly TraceBlock[] {
    return this.#replayed().blocks;
  }

  liveSeries(): LiveSeries {
    return this.#replayed().series;
  }

  /**
   * Blocks that outlived what they belonged to:
   * - 'object-destroyed': an object- or cache-scope block of object X still live when X's destroy returned;
   * - 'device-destroyed' / 'instance-destroyed': a device/instance-scope block still live when the Device /
   *   Instance it belongs to (through the objects' parent chain) was destroyed;
   * - 'command-returned': a command-scope block still live when its command returned.
   */
  leaks(): readonly TraceLeak[] {
    return this.#leakReport().leaks;
  }

  /** Blocks live at the end of the trace that are not leaks, because their owner still exists (or is unknown). */
  stillLive(): readonly StillLiveBlock[] {
    return this.#leakReport().stillLive;
  }

  /** The Chrome trace-event JSON object Perfetto UI and chrome://tracing open (tracks: lib/trace/chrome.ts). */
  toChromeTrace(): ChromeTrace {
    return toChromeTrace(this);
  }

  /**
   * Writes toChromeTrace()'s document as JSON to `path`, streamed: the same text as
   * JSON.stringify(toChromeTrace()), without the whole document in memory.
   */
  writeChromeTrace(path: string): void {
    writeChromeTrace(this, is.string(path, 'path'));
  }

  /**
   * Writes the trace as a Perfetto protobuf trace file to `path` (ui.perfetto.dev opens it):
   * the content of the Chrome export at a fraction of its size, streamed (tracks and
   * arguments: lib/trace/perfetto.ts).
   */
  writePerfettoTrace(path: string): void {
    writePerfettoTrace(this, is.string(path, 'path'));
  }

  /** Writes the trace file (format: lib/trace/file.ts). */
  save(path: string): void {
    writeTraceFile(this.data, is.string(path, 'path'));
  }

  #replayed(): Replay {
    return (this.#replay ??= replay(this.data));
  }

  #leakReport(): { leaks: TraceLeak[]; stillLive: StillLiveBlock[] } {
    return (this.#leaks ??= findLeaks(this, this.#replayed()));
  }
}

export function saveTrace(trace: Trace, path: string): void {
  is.instanceOf(trace, 'trace', Trace, 'a Trace');
  trace.save(path);
}

/** Reads a trace file written by saveTrace / trace.save, in this process or another. */
export function loadTrace(path: string): Trace {
  return new Trace(readTraceFile(is.string(path, 'path')));
}

function scopeName(scope: number): AllocationScope {
  return ALLOCATION_SCOPES[scope] ?? 'command';
}

/** Event indices by seq (the recorder writes them in order; a merged or edited trace may not be). */
function seqOrder(data: TraceData): ArrayLike<number> & Iterable<number> {
  const order = new Uint32Array(data.count);
  for (let i = 0; i < order.length; i++) order[i] = i;
  for (let i = 1; i < data.count; i++) {
    if (data.seq[i] < data.seq[i - 1]) return order.sort((a, b) => data.seq[a] - data.seq[b]);
  }
  return order;
}

const zeroCalls = (): CallCounts => ({ allocate: 0, reallocate: 0, free: 0, internalAllocate: 0, internalFree: 0 });

function replay(data: TraceData): Replay {
  const scopes = Object.fromEntries(ALLOCATION_SCOPES.map((scope) => [scope, {
    scope, allocations: 0, reallocations: 0, frees: 0, internalAllocations: 0, internalFrees: 0, failures: 0,
    bytesAllocated: 0, bytesFreed: 0, liveCount: 0, liveBytes: 0, peakLiveBytes: 0, internalBytes: 0,
  }])) as Record<AllocationScope, ScopeSummary>;
  const commands = new Map<string, CommandSummary>();
  const commandOf = (name: string): CommandSummary => {
    let c = commands.get(name);
    if (!c) {
      c = { command: name, invocations: 0, duration: 0, allocations: 0, reallocations: 0, frees: 0, internalAllocations: 0,
        internalFrees: 0, failures: 0, bytesAllocated: 0, bytesFreed: 0, peakLiveBytes: 0 };
      commands.set(name, c);
    }
    return c;
  };
  const objects = new Map<number, ObjectSummary>();
  const objectOf = (id: number): ObjectSummary => {
    let o = objects.get(id);
    if (!o) {
      const t = data.objects[id];
      o = { id, type: t?.type ?? '?', createdBy: t?.createdBy ?? '?', destroyed: t ? t.destroyedAt !== null : false,
        parent: t?.parent ?? 0, bytesAllocated: 0, liveCount: 0, liveBytes: 0, peakLiveBytes: 0 };
      objects.set(id, o);
    }
    return o;
  };

  const calls = zeroCalls();
  const offThreadCalls = zeroCalls();
  const callKey = ['allocate', 'reallocate', 'free', 'internalAllocate', 'internalFree'] as const;
  const threads = new Set<number>();
  let failures = 0, untrackedFrees = 0, liveBytes = 0, liveCount = 0, peakLiveBytes = 0;
  let bytesAllocated = 0, bytesFreed = 0, duration = 0;

  const spans: CommandSpan[] = [];
  const open: CommandSpan[] = [];  // JS-thread commands running now (nested ones on top)
  const blocks: TraceBlock[] = [];
  const live = new Map<number, TraceBlock>();

  const seriesTime: number[] = [0];
  const seriesScopes: number[][] = ALLOCATION_SCOPES.map(() => [0]);
  const scopeLive = new Float64Array(SCOPE_COUNT);
  const record = (time: number) => {
    seriesTime.push(time);
    for (let s = 0; s < SCOPE_COUNT; s++) seriesScopes[s].push(scopeLive[s]);
  };

  const add = (i: number, span: CommandSpan | null, object: number): TraceBlock => {
    const block: TraceBlock = {
      index: i, seq: data.seq[i], time: data.time[i], address: data.address[i], size: data.size[i],
      alignment: data.alignment[i], scope: scopeName(data.scope[i]), command: data.commands[data.command[i]] ?? 'none',
      span, object, thread: data.thread[i], endIndex: null, endSeq: null,
    };
    const stale = live.get(block.address);
    if (stale) remove(stale, i);  // an address handed out twice: the trace missed a free (dropped events)
    blocks.push(block);
    live.set(block.address, block);
    const s = scopes[block.scope];
    s.bytesAllocated += block.size;
    s.liveCount++;
    s.liveBytes += block.size;
    s.peakLiveBytes = Math.max(s.peakLiveBytes, s.liveBytes);
    scopeLive[ALLOCATION_SCOPES.indexOf(block.scope)] += block.size;
    bytesAllocated += block.size;
    liveBytes += block.size;
    liveCount++;
    peakLiveBytes = Math.max(peakLiveBytes, liveBytes);
    if (object) {
      const o = objectOf(object);
      o.bytesAllocated += block.size;
      o.liveCount++;
      o.liveBytes += block.size;
      o.peakLiveBytes = Math.max(o.peakLiveBytes, o.liveBytes);
    }
    if (span) span.bytesAllocated += block.size;
    return block;
  };
  const remove = (block: TraceBlock, i: number): void => {
    live.delete(block.address);
    block.endIndex = i;
    block.endSeq = data.seq[i];
    const s = scopes[block.scope];
    s.bytesFreed += block.size;
    s.liveCount--;
    s.liveBytes -= block.size;
    scopeLive[ALLOCATION_SCOPES.indexOf(block.scope)] -= block.size;
    bytesFreed += block.size;
    liveBytes -= block.size;
    liveCount--;
    if (block.object) {
      const o = objectOf(block.object);
      o.liveCount--;
      o.liveBytes -= block.size;
    }
  };

  for (const i of seqOrder(data)) {
    const kind = data.kind[i];
    const name = data.commands[data.command[i]] ?? 'none';
    const thread = data.thread[i];
    duration = Math.max(duration, data.time[i]);
    if (kind === KIND['command-begin']) {
      const span: CommandSpan = {
        command: name, beginIndex: i, beginSeq: data.seq[i], start: data.time[i], endIndex: null, endSeq: null, end: null,
        result: null, object: data.object[i], callSite: data.callSites[data.seq[i]] ?? null,
        allocations: 0, reallocations: 0, frees: 0, bytesAllocated: 0, bytesFreed: 0,
      };
      spans.push(span);
      open.push(span);
      commandOf(name).invocations++;
      continue;
    }
    if (kind === KIND['command-end']) {
      // Normally the innermost open run; search down in case a begin was dropped.
      const at = open.map((s) => s.command).lastIndexOf(name);
      if (at >= 0) {
        const span = open[at];
        open.length = at;
        span.endIndex = i;
        span.endSeq = data.seq[i];
        span.end = data.time[i];
        span.result = data.size[i];
        span.object ||= data.object[i];
        commandOf(name).duration += span.end - span.start;
      }
      continue;
    }
    if (kind > KIND['internal-free']) continue;  // a kind from a newer recorder: nothing to replay

    const flags = data.flags[i];
    const offThread = thread !== 0 || (flags & EVENT_FLAGS.offThread) !== 0;
    if (thread !== 0) threads.add(thread);
    calls[callKey[kind]]++;
    if (offThread) offThreadCalls[callKey[kind]]++;
    const span = !offThread && data.command[i] !== 0 && open.length > 0 ? open[open.length - 1] : null;
    if (span && !span.object) span.object = data.object[i];
    const c = commandOf(name);
    const scope = scopes[scopeName(data.scope[i])];
    const failed = (flags & EVENT_FLAGS.failed) !== 0;

    if (kind === KIND['internal-allocate'] || kind === KIND['internal-free']) {
      const allocate = kind === KIND['internal-allocate'];
      if (allocate) {
        c.internalAllocations++;
        scope.internalAllocations++;
        scope.internalBytes += data.size[i];
      } else {
        c.internalFrees++;
        scope.internalFrees++;
        scope.internalBytes -= data.size[i];
      }
      continue;
    }
    if (failed) {
      failures++;
      c.failures++;
      scope.failures++;
      continue;
    }
    if (kind === KIND.allocate) {
      const block = add(i, span, data.object[i]);
      c.allocations++;
      c.bytesAllocated += block.size;
      scope.allocations++;
      if (span) span.allocations++;
    } else if (kind === KIND.reallocate) {
      const old = data.oldAddress[i] ? live.get(data.oldAddress[i]) : undefined;
      if (old) {
        remove(old, i);
        c.bytesFreed += old.size;
        if (span) span.bytesFreed += old.size;
      }
      const block = add(i, span, data.object[i] || (old?.object ?? 0));
      c.reallocations++;
      c.bytesAllocated += block.size;
      scope.reallocations++;
      if (span) span.reallocations++;
    } else {
      const old = data.address[i] ? live.get(data.address[i]) : undefined;
      if (!old) {
        if (data.address[i]) untrackedFrees++;
        continue;
      }
      remove(old, i);
      c.frees++;
      c.bytesFreed += old.size;
      scopes[old.scope].frees++;
      if (span) { span.frees++; span.bytesFreed += old.size; }
    }
    c.peakLiveBytes = Math.max(c.peakLiveBytes, liveBytes);
    record(data.time[i]);
  }

  const series: LiveSeries = {
    time: Float64Array.from(seriesTime),
    total: new Float64Array(seriesTime.length),
    scopes: Object.fromEntries(ALLOCATION_SCOPES.map((s, k) => [s, Float64Array.from(seriesScopes[k])])) as Record<AllocationScope, Float64Array>,
  };
  for (let k = 0; k < SCOPE_COUNT; k++) seriesScopes[k].forEach((v, j) => { series.total[j] += v; });

  // Every traced object gets a row, even one no block was attributed to.
  for (let id = 1; id < data.objects.length; id++) objectOf(id);
  const summary: TraceSummary = {
    events: data.count, dropped: data.dropped, duration, calls, offThreadCalls, offThreads: threads.size, failures,
    bytesAllocated, bytesFreed, liveCount, liveBytes, peakLiveBytes, untrackedFrees,
    commands: [...commands.values()], scopes, objects: [...objects.values()].sort((a, b) => a.id - b.id),
  };
  return { spans, blocks, summary, series };
}

// ---- leaks ----

function findLeaks(trace: Trace, r: Replay): { leaks: TraceLeak[]; stillLive: StillLiveBlock[] } {
  const { objects, callSites } = trace.data;
  const spanEnds = r.spans.filter((s) => s.endSeq !== null);

  // The point a destroy counts from: the end of the command run that holds destroyedAt
  // (whether the recorder stamps the command-begin, the end, or an event between).
  const destroyEnd = (id: number): number | null => {
    const at = objects[id]?.destroyedAt;
    if (at === null || at === undefined) return null;
    let lo = 0, hi = spanEnds.length - 1, found: CommandSpan | null = null;
    while (lo <= hi) {  // the last run that began at or before `at`
      const mid = (lo + hi) >> 1;
      if (spanEnds[mid].beginSeq <= at) { found = spanEnds[mid]; lo = mid + 1; } else hi = mid - 1;
    }
    return found && found.endSeq! >= at ? found.endSeq! : at;
  };
  const liveAt = (b: TraceBlock, seq: number) => b.seq <= seq && (b.endSeq === null || b.endSeq > seq);
  const describeObject = (id: number) => (objects[id] ? { id, type: objects[id].type } : null);
  const ancestor = (id: number, type: string): number => {
    for (let hops = 0; id > 0 && objects[id] && hops < objects.length; hops++) {
      if (objects[id].type === type) return id;
      id = objects[id].parent;
    }
    return 0;
  };
  // An unattributed device/instance block belongs to the only Device/Instance alive when it was allocated.
  const byType = { Device: objects.filter((o) => o.id > 0 && o.type === 'Device'), Instance: objects.filter((o) => o.id > 0 && o.type === 'Instance') };
  const onlyAlive = (type: 'Device' | 'Instance', seq: number): number => {
    const alive = byType[type].filter((o) => o.createdAt <= seq && (o.destroyedAt === null || o.destroyedAt > seq));
    return alive.length === 1 ? alive[0].id : 0;
  };
  const ownerOf = (b: TraceBlock): number => {
    switch (b.scope) {
      case 'object': case 'cache': return b.object;
      case 'device': return ancestor(b.object, 'Device') || (b.object ? 0 : onlyAlive('Device', b.seq));
      case 'instance': return ancestor(b.object, 'Instance') || (b.object ? 0 : onlyAlive('Instance', b.seq));
      default: return 0;
    }
  };

  const leaks: TraceLeak[] = [];
  const stillLive: StillLiveBlock[] = [];
  for (const b of r.blocks) {
    const callSite = b.span ? callSites[b.span.beginSeq] ?? null : null;
    const objectType = objects[b.object] && b.object ? objects[b.object].type : null;
    const base = {
      address: b.address, size: b.size, alignment: b.alignment, scope: b.scope, seq: b.seq, time: b.time,
      command: b.command, thread: b.thread, object: b.object, objectType, freedAt: b.endSeq, callSite,
    };
    if (b.scope === 'command') {
      const end = b.span?.endSeq ?? null;
      if (end !== null && liveAt(b, end)) {
        leaks.push({ ...base, rule: 'command-returned', owner: null, leakedAt: end,
          reason: `command-scope block still live when ${b.command} returned` });
        continue;
      }
    } else {
      const owner = ownerOf(b);
      const end = owner ? destroyEnd(owner) : null;
      if (end !== null && liveAt(b, end)) {
        const o = objects[owner];
        const rule: LeakRule = b.scope === 'device' ? 'device-destroyed' : b.scope === 'instance' ? 'instance-destroyed' : 'object-destroyed';
        leaks.push({ ...base, rule, owner: describeObject(owner), leakedAt: end,
          reason: `${b.scope}-scope block still live after ${o.type} #${owner} was destroyed` });
        continue;
      }
    }
    if (b.endSeq === null) {
      const owner = ownerOf(b);
      const reason = b.scope === 'command' ? (b.span && b.span.endSeq === null ? 'command running' : 'no owner')
        : owner ? 'owner alive' : 'no owner';
      stillLive.push({ address: b.address, size: b.size, scope: b.scope, seq: b.seq, time: b.time, command: b.command,
        object: b.object, objectType, owner: owner ? describeObject(owner) : null, reason, callSite });
    }
  }
  return { leaks, stillLive };
}
