// The trace file the vkalloc layer (native/layer/) streams while any program runs, and its
// conversion to TraceData (lib/trace/format.ts), so the analysis and reports of lib/trace/trace.ts
// and lib/report/ work on it (loadTrace and `vkalloc report` read both formats).
//
// Text, one record per line, fields separated by tabs; the first line is
// "vkalloc-stream<TAB>1". The layer writes through a shared file mapping, so a program that
// crashes or is killed leaves every record up to its last callback, followed by NUL bytes
// (a reader stops at the first NUL; an unterminated last line is ignored). Records:
//
//   M key value                         header: program, command line, pid, device, driver, ...
//   T thread tid                        a thread's first record (thread numbers start at 1)
//   C id name                           a command's first record (id 0 is "none")
//   B seq time thread cmd object        a command starts (object: handle it destroys, 0 none);
//                                       written for creates and destroys, and for any other
//                                       command when its first callback comes
//   E seq time thread cmd result        ...and returns (result: its VkResult, 0 for void)
//   O seq time thread cmd handle type parent   the command made an object (parent: instance or device)
//   a seq time thread cmd scope size alignment address old flags object   pfnAllocation
//   r ...same...                        pfnReallocation (old: the original block)
//   f ...same...                        pfnFree (size and alignment: the block's)
//   i / j ...same...                    pfnInternalAllocation / pfnInternalFree
//   V seq time thread cmd kind address size detail   contract violation (VKALLOC_CHECK=1)
//   D seq time thread what handle liveCount liveBytes   after vkDestroyDevice/Instance returned
//   X seq time liveCount liveBytes counted refused violations   the program exited normally
//   Z seq                               the file reached VKALLOC_TRACE_LIMIT: records after
//                                       this one are missing (X is still written)
//
// Numbers are decimal, addresses and handles hex; time is ns since the layer loaded; seq
// orders all records of a process. flags: 1 the callback returned NULL (allocate,
// reallocate) or freed an unknown pointer (free), 8 refused by fault injection
// (VKALLOC_FAIL_FROM), 16 served by the app's own allocator (which the layer wraps). "counted": allocations that counted toward VKALLOC_FAIL_FROM.
//
// Conversion: the thread that began the first command (normally the one that created
// the instance) becomes TraceData's thread 0, whose commands are the command-begin/-end
// events; records of other threads are off-thread events that keep their command name
// (so per-command figures count them) but make no spans. Objects are numbered in creation
// order; a create's callbacks belong to the object it made, a destroy's to the object it ends.
import * as fs from 'fs';
import { EVENT_FLAGS, EVENT_KINDS, EventKind, TRACE_FORMAT, TRACE_VERSION, TraceData, TraceObject } from './format';

export const STREAM_MAGIC = 'vkalloc-stream';
export const STREAM_VERSION = 1;

export interface StreamViolation {
  seq: number;
  command: string;
  kind: string;
  address: number;
  size: number;
  detail: string;
  thread: number;
}

export interface StreamDestroy {
  seq: number;
  what: 'instance' | 'device';
  handle: string;
  liveCount: number;
  liveBytes: number;
}

export interface StreamExit {
  liveCount: number;
  liveBytes: number;
  /** Allocations that counted toward VKALLOC_FAIL_FROM (all, or those of VKALLOC_FAIL_ONLY's commands). */
  counted: number;
  refused: number;
  violations: number;
}

export interface StreamRefusal {
  seq: number;
  command: string;
  size: number;
  scope: number;
  thread: number;
}

export interface StreamTrace {
  data: TraceData;
  /** Header values; a key written more than once (several devices) keeps every value. */
  meta: Record<string, string[]>;
  /** The X record: null when the program did not exit normally (crash, kill, _exit). */
  exit: StreamExit | null;
  destroys: StreamDestroy[];
  violations: StreamViolation[];
  /** Allocations refused by fault injection, in order. */
  refusals: StreamRefusal[];
  /** Successful callbacks the app's own allocators served (through the layer's wrapper). */
  appCalls: { allocate: number; reallocate: number; free: number; internal: number };
  /** The file reached its size limit (VKALLOC_TRACE_LIMIT): later records are missing. */
  limitReached: boolean;
  /** Records read, and whether the last one was cut short. */
  records: number;
  truncated: boolean;
}

interface Span {
  command: number;
  beginSeq: number;
  object: number;
  claimed: boolean;
  events: number[];
}

const KIND: Record<string, EventKind> = { a: 'allocate', r: 'reallocate', f: 'free', i: 'internal-allocate', j: 'internal-free' };
const KIND_INDEX = Object.fromEntries(EVENT_KINDS.map((k, i) => [k, i])) as Record<EventKind, number>;

export function isStreamText(text: string): boolean {
  return text.startsWith(STREAM_MAGIC);
}

/** Reads a layer trace file; `source` names it in errors. */
export function readStreamFile(path: string): StreamTrace {
  return parseStream(fs.readFileSync(path, 'utf8'), path);
}

export function parseStream(raw: string, source: string): StreamTrace {
  const nul = raw.indexOf('\0');
  const text = nul >= 0 ? raw.slice(0, nul) : raw;
  const lines = text.split('\n');
  const truncated = lines[lines.length - 1] !== '';
  lines.pop();  // the empty string after the last newline, or an unterminated line
  const [magic, version] = (lines[0] ?? '').split('\t');
  if (magic !== STREAM_MAGIC) throw new Error(`${source} is not a vkalloc layer trace: expected a first line "${STREAM_MAGIC}\t${STREAM_VERSION}"`);
  if (Number(version) !== STREAM_VERSION) {
    throw new Error(`${source} is a vkalloc layer trace of version ${JSON.stringify(version)}; this vkalloc reads version ${STREAM_VERSION} only`);
  }

  const meta: Record<string, string[]> = {};
  const commandNames = new Map<number, string>([[0, 'none']]);
  const commands = ['none'];
  const commandIndex = new Map<string, number>([['none', 0]]);
  const commandOf = (id: number): number => {
    const name = commandNames.get(id) ?? `command ${id}`;
    let i = commandIndex.get(name);
    if (i === undefined) {
      i = commands.length;
      commands.push(name);
      commandIndex.set(name, i);
    }
    return i;
  };
  const objects: TraceObject[] = [{ id: 0, type: '', createdBy: 'none', createdAt: 0, destroyedAt: null, parent: 0 }];
  const handles = new Map<string, number>();  // live handle -> object id
  const threadMap = new Map<number, number>();
  let mainThread = -1;
  const threadOf = (t: number): number => {
    if (mainThread < 0) mainThread = t;
    if (t === mainThread) return 0;
    let k = threadMap.get(t);
    if (k === undefined) {
      k = threadMap.size + 1;
      threadMap.set(t, k);
    }
    return Math.min(k, 255);
  };
  const spans = new Map<number, Span[]>();  // by stream thread
  const stackOf = (t: number) => {
    let s = spans.get(t);
    if (!s) spans.set(t, (s = []));
    return s;
  };

  const col = {
    seq: [] as number[], time: [] as number[], kind: [] as number[], scope: [] as number[], flags: [] as number[],
    size: [] as number[], alignment: [] as number[], address: [] as number[], oldAddress: [] as number[],
    command: [] as number[], thread: [] as number[], object: [] as number[],
  };
  const push = (e: { seq: number; time: number; kind: EventKind; scope?: number; flags?: number; size?: number; alignment?: number;
    address?: number; oldAddress?: number; command: number; thread: number; object: number }): number => {
    col.seq.push(e.seq); col.time.push(e.time); col.kind.push(KIND_INDEX[e.kind]); col.scope.push(e.scope ?? 0);
    col.flags.push(e.flags ?? 0); col.size.push(e.size ?? 0); col.alignment.push(e.alignment ?? 0);
    col.address.push(e.address ?? 0); col.oldAddress.push(e.oldAddress ?? 0); col.command.push(e.command);
    col.thread.push(e.thread); col.object.push(e.object);
    return col.seq.length - 1;
  };

  const destroys: StreamDestroy[] = [];
  const violations: StreamViolation[] = [];
  const refusals: StreamRefusal[] = [];
  const appCalls = { allocate: 0, reallocate: 0, free: 0, internal: 0 };
  let exit: StreamExit | null = null;
  let limitReached = false;
  const bad = (n: number, why: string): never => {
    throw new Error(`${source}:${n + 1}: not a valid vkalloc layer trace record (${why})`);
  };
  const hex = (s: string) => parseInt(s, 16) || 0;

  for (let n = 1; n < lines.length; n++) {
    const f = lines[n].split('\t');
    const kind = f[0];
    const num = (i: number) => {
      const v = Number(f[i]);
      if (f[i] === undefined || !Number.isFinite(v)) bad(n, `field ${i} of "${kind}" is ${JSON.stringify(f[i])}`);
      return v;
    };
    switch (kind) {
      case 'M': (meta[f[1]] ??= []).push(f.slice(2).join('\t')); break;
      case 'T': break;
      case 'C': commandNames.set(num(1), f[2] ?? '?'); break;
      case 'B': {
        const seq = num(1), t = num(3), handle = f[5] ?? '0';
        const object = handle !== '0' ? handles.get(handle) ?? 0 : 0;
        if (object) {
          objects[object].destroyedAt = seq;
          handles.delete(handle);
        }
        const span: Span = { command: commandOf(num(4)), beginSeq: seq, object, claimed: object !== 0, events: [] };
        stackOf(t).push(span);
        if (threadOf(t) === 0) push({ seq, time: num(2), kind: 'command-begin', command: span.command, thread: 0, object });
        break;
      }
      case 'E': {
        const seq = num(1), t = num(3), command = commandOf(num(4));
        const stack = stackOf(t);
        let at = stack.length - 1;
        while (at >= 0 && stack[at].command !== command) at--;
        const span = at >= 0 ? stack[at] : null;
        if (at >= 0) stack.length = at;
        if (threadOf(t) === 0) push({ seq, time: num(2), kind: 'command-end', command, thread: 0, size: num(5), object: span?.object ?? 0 });
        break;
      }
      case 'O': {
        const seq = num(1), t = num(3), handle = f[5] ?? '0';
        const stack = stackOf(t);
        const span = stack[stack.length - 1];
        const id = objects.length;
        objects.push({ id, type: f[6] ?? '?', createdBy: commands[commandOf(num(4))], createdAt: span ? span.beginSeq : seq,
          destroyedAt: null, parent: handles.get(f[7] ?? '0') ?? 0 });
        handles.set(handle, id);
        if (span && !span.claimed) {
          span.claimed = true;
          span.object = id;
          for (const i of span.events) if (col.object[i] === 0) col.object[i] = id;
        }
        break;
      }
      case 'a': case 'r': case 'f': case 'i': case 'j': {
        const seq = num(1), t = num(3), command = commandOf(num(4)), flagsIn = num(10);
        const stack = stackOf(t);
        const span = stack[stack.length - 1];
        const explicit = f[11] && f[11] !== '0' ? handles.get(f[11]) ?? 0 : 0;
        const thread = threadOf(t);
        let flags = flagsIn & EVENT_FLAGS.failed;
        if (thread !== 0) flags |= EVENT_FLAGS.offThread;
        if (command === 0) flags |= EVENT_FLAGS.outsideCommand;
        const i = push({ seq, time: num(2), kind: KIND[kind], scope: num(5), size: num(6), alignment: num(7), address: hex(f[8]),
          oldAddress: hex(f[9]), flags, command, thread, object: explicit || (span ? span.object : 0) });
        if (span && command !== 0) span.events.push(i);
        if (flagsIn & 8) refusals.push({ seq, command: commands[command], size: num(6), scope: num(5), thread });
        if ((flagsIn & 16) && !(flagsIn & 1)) {
          if (kind === 'a') appCalls.allocate++;
          else if (kind === 'r') appCalls.reallocate++;
          else if (kind === 'f') appCalls.free++;
          else appCalls.internal++;
        }
        break;
      }
      case 'V':
        violations.push({ seq: num(1), thread: threadOf(num(3)), command: commands[commandOf(num(4))], kind: f[5] ?? '?',
          address: hex(f[6]), size: num(7), detail: f.slice(8).join('\t') });
        break;
      case 'D':
        destroys.push({ seq: num(1), what: f[4] === 'device' ? 'device' : 'instance', handle: f[5] ?? '0', liveCount: num(6), liveBytes: num(7) });
        break;
      case 'Z':
        limitReached = true;
        break;
      case 'X':
        exit = { liveCount: num(3), liveBytes: num(4), counted: num(5), refused: num(6), violations: num(7) };
        break;
      default:
        bad(n, `unknown record type ${JSON.stringify(kind)}`);
    }
  }

  const flatMeta: Record<string, string | number> = { trace: `vkalloc layer (${STREAM_MAGIC} ${STREAM_VERSION})` };
  for (const key of ['program', 'command line', 'pid', 'application', 'device', 'driver']) {
    if (meta[key]) flatMeta[key] = [...new Set(meta[key])].join('; ');
  }
  if (meta.started) flatMeta.date = new Date(Number(meta.started[0]) * 1000).toISOString();
  for (const [key, values] of Object.entries(meta)) if (!(key in flatMeta) && key !== 'started') flatMeta[key] = values.join('; ');
  if (limitReached) flatMeta.incomplete = 'the trace file reached its size limit (VKALLOC_TRACE_LIMIT): later events are missing';
  if (!exit) flatMeta.ended = 'without a normal exit (crash, kill or _exit): the trace stops at the last callback';

  const count = col.seq.length;
  const data: TraceData = {
    format: TRACE_FORMAT, version: TRACE_VERSION, meta: flatMeta, count, dropped: 0,
    seq: Float64Array.from(col.seq), time: Float64Array.from(col.time), kind: Uint8Array.from(col.kind),
    scope: Uint8Array.from(col.scope), flags: Uint8Array.from(col.flags), size: Float64Array.from(col.size),
    alignment: Float64Array.from(col.alignment), address: Float64Array.from(col.address),
    oldAddress: Float64Array.from(col.oldAddress), command: Uint16Array.from(col.command), thread: Uint8Array.from(col.thread),
    object: Uint32Array.from(col.object), commands, objects, callSites: {},
  };
  return { data, meta, exit, destroys, violations, refusals, appCalls, limitReached, records: lines.length - 1, truncated };
}
