// The events of a trace replayed in seq order on numbers: command runs, live blocks and
// live bytes per scope, kept in typed arrays. The streamed exports (chrome.ts,
// perfetto.ts) write each event as the replay reaches it. Trace's own replay
// (trace.ts) builds an object per block for its queries: for an export of a long trace
// that was most of the time and memory. This one mirrors its rules (the same command
// runs, the same block ended by each callback, the same live bytes), which the tests
// check by comparing both exports with Trace.toChromeTrace().
import { SCOPE_NAMES } from '../native/boundary';
import { EVENT_FLAGS, EVENT_KINDS } from './format';
import type { TraceData } from './format';

const KIND_ALLOCATE = EVENT_KINDS.indexOf('allocate');
const KIND_REALLOCATE = EVENT_KINDS.indexOf('reallocate');
const KIND_FREE = EVENT_KINDS.indexOf('free');
const KIND_COMMAND_BEGIN = EVENT_KINDS.indexOf('command-begin');
const KIND_COMMAND_END = EVENT_KINDS.indexOf('command-end');

/** A scope number as Trace reads it: one it does not know counts as 'command' (0). */
export const scopeOf = (scope: number): number => (scope < SCOPE_NAMES.length ? scope : 0);

/**
 * Event indices in seq order (as Trace.events() visits them); null when that is the
 * columns' own order (the recorder's), which then needs no array of its own.
 */
export function seqOrderOf(d: TraceData): Uint32Array | null {
  let i = 1;
  while (i < d.count && d.seq[i] >= d.seq[i - 1]) i++;
  if (i >= d.count) return null;
  const order = new Uint32Array(d.count);
  for (let j = 0; j < order.length; j++) order[j] = j;
  return order.sort((a, b) => d.seq[a] - d.seq[b]);
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

  /** The object of the entry take() took last. */
  taken = 0;

  set(address: number, value: number, object: number): void {
    const at = this.#slot(address);
    if (this.#values[at] === -1) this.#size++;
    this.#keys[at] = address;
    this.#values[at] = value;
    this.#objects[at] = object;
    if (2 * this.#size > this.#keys.length) this.#grow();
  }

  /** Removes the entry for `address`: returns its value (its object in `taken`), or -1 when there is none. */
  take(address: number): number {
    const keys = this.#keys, values = this.#values, objects = this.#objects, mask = keys.length - 1;
    let hole = this.#slot(address);
    const value = values[hole];
    if (value === -1) return -1;
    this.taken = objects[hole];
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
    return value;
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

/** A run of a Vulkan command on the JS thread, from its command-begin on. */
export interface Run {
  /** The command-begin's event index. */
  begin: number;
  name: string;
  /** The object it created or destroyed (0: none yet). */
  object: number;
  allocations: number;
  reallocations: number;
  frees: number;
  bytesAllocated: number;
  bytesFreed: number;
  /** Once it ended: when, and its command-end's VkResult (null: left unfinished). */
  end: number | null;
  result: number | null;
}

/** What the replay hands each event to, once it is applied: a writer. */
export interface ReplayHooks {
  /** A run began (event i); it is on top of `open` now. */
  opened(i: number, run: Run): void;
  /** A run ended (its end and result are set); it is off `open` now. */
  closed(run: Run): void;
  /**
   * A callback (event i), applied: `ended` is the block (the index of the event that made
   * it) that a free or reallocation ended, or -1; `top`, the innermost run going on.
   */
  called(i: number, ended: number, top: Run | null): void;
}

/**
 * The replay: run() visits every event in seq order, applies it, and hands it to the
 * hooks, which read the fields for where the replay stands. One class whatever the
 * writer, not a base class of each: as three subclasses in one process (the Chrome
 * export's passes), V8 recompiled the loop for each, and the passes ran about 15% slower.
 */
export class ColumnReplay {
  /** Command names by index (a missing one is 'none'). */
  readonly commandNames: string[];
  /** JS-thread runs going on now, nested ones on top. */
  readonly open: Run[] = [];
  /** The latest event time so far; after run(), the trace's duration. */
  time = 0;
  /** Live bytes per scope, and in all. */
  readonly scopeLive = new Float64Array(SCOPE_NAMES.length);
  liveTotal = 0;
  /** The scopes whose live bytes the current callback changed, in the order it did (at most the old block's, a stale one's and the new one's); how many. */
  readonly changed = new Uint8Array(3);
  changes = 0;
  /** The object of the block the current free or reallocation ended. */
  endedObject = 0;
  /** The block the current allocation's own address still held (a free the trace dropped), or -1. */
  stale = -1;
  readonly #live = new AddressMap();

  constructor(readonly d: TraceData, readonly hooks: ReplayHooks) {
    this.commandNames = d.commands.map((c) => c ?? 'none');
  }

  run(): void {
    const d = this.d;
    const order = seqOrderOf(d);
    for (let n = 0; n < d.count; n++) {
      const i = order ? order[n] : n;
      const kind = d.kind[i];
      if (d.time[i] > this.time) this.time = d.time[i];
      if (kind === KIND_COMMAND_BEGIN) this.#begin(i);
      else if (kind === KIND_COMMAND_END) this.#end(i);
      else this.#callback(i);
    }
    // Runs the trace stopped inside end with it, innermost first.
    while (this.open.length > 0) this.#close(this.open.pop()!, this.time, null);
  }

  #begin(i: number): void {
    const d = this.d;
    const run: Run = { begin: i, name: this.commandNames[d.command[i]], object: d.object[i],
      allocations: 0, reallocations: 0, frees: 0, bytesAllocated: 0, bytesFreed: 0, end: null, result: null };
    this.open.push(run);
    this.hooks.opened(i, run);
  }

  #end(i: number): void {
    const { d, open } = this;
    // Normally the innermost open run; search down in case a begin was dropped.
    const name = this.commandNames[d.command[i]];
    let at = open.length - 1;
    while (at >= 0 && open[at].name !== name) at--;
    if (at < 0) return;
    // Runs left open inside this one end with it, unfinished.
    while (open.length > at + 1) this.#close(open.pop()!, d.time[i], null);
    const run = open.pop()!;
    run.object ||= d.object[i];
    this.#close(run, d.time[i], d.size[i]);
  }

  #close(run: Run, time: number, result: number | null): void {
    run.end = time;
    run.result = result;
    this.hooks.closed(run);
  }

  #callback(i: number): void {
    const { d, open } = this;
    const kind = d.kind[i];
    const failed = (d.flags[i] & EVENT_FLAGS.failed) !== 0;
    const offThread = d.thread[i] !== 0 || (d.flags[i] & EVENT_FLAGS.offThread) !== 0;
    const top = open.length > 0 ? open[open.length - 1] : null;
    const run = !offThread && d.command[i] !== 0 ? top : null;
    if (run && !run.object) run.object = d.object[i];
    this.changes = 0;
    this.stale = -1;
    let ended = -1;
    if (kind === KIND_FREE && !failed) ended = this.#free(i, run);
    else if (kind <= KIND_REALLOCATE && !failed) ended = this.#allocate(i, kind, run);
    this.hooks.called(i, ended, top);
  }

  /** A free: ends the live block at its address; returns that block, or -1. */
  #free(i: number, run: Run | null): number {
    const d = this.d;
    const ended = d.address[i] ? this.#endBlock(d.address[i]) : -1;
    if (ended >= 0) {
      this.endedObject = this.#live.taken;
      if (run) {
        run.frees++;
        run.bytesFreed += d.size[ended];
      }
    }
    return ended;
  }

  /** An allocate or reallocate: a new live block; returns the block a reallocation ended, or -1. */
  #allocate(i: number, kind: number, run: Run | null): number {
    const d = this.d, live = this.#live;
    let object = d.object[i];
    let ended = -1;
    if (kind === KIND_REALLOCATE) {
      ended = d.oldAddress[i] ? this.#endBlock(d.oldAddress[i]) : -1;
      if (ended >= 0) {
        this.endedObject = live.taken;
        object ||= this.endedObject;
        if (run) run.bytesFreed += d.size[ended];
      }
    }
    this.stale = this.#endBlock(d.address[i]);  // an address handed out twice: a free was dropped
    live.set(d.address[i], i, object);
    this.#change(scopeOf(d.scope[i]), d.size[i]);
    if (run) {
      if (kind === KIND_ALLOCATE) run.allocations++;
      else run.reallocations++;
      run.bytesAllocated += d.size[i];
    }
    return ended;
  }

  /** Ends the live block at `address`, if any: returns it, or -1. */
  #endBlock(address: number): number {
    const b = this.#live.take(address);
    if (b >= 0) this.#change(scopeOf(this.d.scope[b]), -this.d.size[b]);
    return b;
  }

  #change(scope: number, bytes: number): void {
    this.scopeLive[scope] += bytes;
    this.liveTotal += bytes;
    let at = 0;
    while (at < this.changes && this.changed[at] !== scope) at++;
    this.changed[at] = scope;
    if (at === this.changes) this.changes++;
  }
}
