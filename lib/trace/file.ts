// The trace file: a trace taken in one process, reported in another. JSON, versioned:
//
//   {
//     "format": "vkalloc-trace", "version": 1,
//     "meta": { "driver": "...", ... },          free text (strings and numbers)
//     "count": 1234,                             events in each column
//     "dropped": 0,                              events the recorder could not keep
//     "commands": ["none", "vkCreateInstance", ...],
//     "objects": [{ "id": 0, ... }, { "id": 1, "type": "Instance", "createdBy": "vkCreateInstance",
//                  "createdAt": 2, "destroyedAt": 99, "parent": 0 }, ...],
//     "callSites": { "<seq of a command-begin>": "at main (app.js:3:7)", ... },
//     "columns": { "seq": [...], "time": [...], "kind": [...], "scope": [...], "flags": [...], "size": [...],
//                  "alignment": [...], "address": [...], "oldAddress": [...], "command": [...],
//                  "thread": [...], "object": [...] }
//   }
//
// Each column is an array of `count` numbers with the meaning given in lib/trace/format.ts
// (addresses are exact: below 2^53). A reader refuses other formats and versions rather
// than guess; a new version number means a change an old reader would misread.
//
// readTraceFile takes the columns straight from the file's bytes into typed arrays
// (lib/trace/json-columns.ts), reading the file a piece at a time, and JSON.parses only
// the rest; a file that reader does not fully understand is read whole and goes through
// JSON.parse and decodeTrace, whose errors say what is wrong.
import * as fs from 'fs';
import { SCOPE_NAMES as ALLOCATION_SCOPES } from '../native/boundary';
import { EVENT_KINDS, TRACE_FORMAT, TRACE_VERSION, TraceData, TraceObject } from './format';
import { describe } from '../util/is';
import { isStreamText, parseStream } from './stream-format';
import { findMember, readColumns } from './json-columns';
import { FileWindow, readRest } from './file-window';

type ColumnName = 'seq' | 'time' | 'kind' | 'scope' | 'flags' | 'size' | 'alignment' | 'address' | 'oldAddress' |
  'command' | 'thread' | 'object';
type ColumnArray = Float64Array | Uint8Array | Uint16Array | Uint32Array;
interface ColumnType {
  new (length: number): ColumnArray;
  new (values: ArrayLike<number>): ColumnArray;
}

/** Each column's typed array, and the largest value it may hold (beyond that the file is corrupt). */
const COLUMNS: Record<ColumnName, { type: ColumnType; max: number; integer: boolean }> = {
  seq: { type: Float64Array, max: Number.MAX_SAFE_INTEGER, integer: true },
  time: { type: Float64Array, max: Number.MAX_VALUE, integer: false },
  kind: { type: Uint8Array, max: EVENT_KINDS.length - 1, integer: true },
  scope: { type: Uint8Array, max: ALLOCATION_SCOPES.length - 1, integer: true },
  flags: { type: Uint8Array, max: 255, integer: true },
  // command-end stores a VkResult here, which can be negative.
  size: { type: Float64Array, max: Number.MAX_SAFE_INTEGER, integer: true },
  alignment: { type: Float64Array, max: Number.MAX_SAFE_INTEGER, integer: true },
  address: { type: Float64Array, max: Number.MAX_SAFE_INTEGER, integer: true },
  oldAddress: { type: Float64Array, max: Number.MAX_SAFE_INTEGER, integer: true },
  command: { type: Uint16Array, max: 0xffff, integer: true },
  thread: { type: Uint8Array, max: 255, integer: true },
  object: { type: Uint32Array, max: 0xffffffff, integer: true },
};
const COLUMN_NAMES = Object.keys(COLUMNS) as ColumnName[];

export interface TraceFile {
  format: typeof TRACE_FORMAT;
  version: typeof TRACE_VERSION;
  meta: Record<string, string | number>;
  count: number;
  dropped: number;
  commands: string[];
  objects: TraceObject[];
  callSites: Record<number, string>;
  columns: Record<ColumnName, number[]>;
}

/** The file's JSON value for a trace. */
export function encodeTrace(data: TraceData): TraceFile {
  return {
    format: TRACE_FORMAT, version: TRACE_VERSION, meta: data.meta, count: data.count, dropped: data.dropped,
    commands: data.commands, objects: data.objects, callSites: data.callSites,
    columns: Object.fromEntries(COLUMN_NAMES.map((name) => [name, Array.from(data[name])])) as Record<ColumnName, number[]>,
  };
}

type TraceHead = Omit<TraceData, ColumnName>;

/** Checks a parsed trace file and builds its TraceData; `source` names it in errors. */
export function decodeTrace(value: unknown, source: string): TraceData {
  const { head, bad: fail } = decodeHead(value, source);
  const bad: (what: string) => never = fail;  // (annotated, for the compiler's narrowing)
  const columns = (value as Record<string, unknown>).columns;
  if (columns === null || typeof columns !== 'object' || Array.isArray(columns)) bad(`expected "columns" to be an object but found ${describe(columns)}`);
  const decoded = {} as Record<ColumnName, ColumnArray>;
  for (const name of COLUMN_NAMES) {
    const values = (columns as Record<string, unknown>)[name];
    if (!Array.isArray(values)) bad(`column "${name}" is missing`);
    if (values.length !== head.count) bad(`column "${name}" has ${values.length} entries but "count" is ${head.count}`);
    const { integer, min, max } = columnLimits(head, name);
    const at = values.findIndex((v) => typeof v !== 'number' || (integer && !Number.isInteger(v)) || !(v >= min && v <= max));
    if (at >= 0) bad(`column "${name}"[${at}] is ${describe(values[at])}, expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
    decoded[name] = new COLUMNS[name].type(values as number[]);
  }
  return { ...head, ...(decoded as unknown as Pick<TraceData, ColumnName>) };
}

/** Everything but the columns, checked. */
function decodeHead(value: unknown, source: string): { head: TraceHead; bad: (what: string) => never } {
  const bad: (what: string) => never = (what) => {
    throw new Error(`${source} is not a valid vkalloc trace: ${what}`);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) bad(`expected a JSON object but found ${describe(value)}`);
  const file = value as Record<string, unknown>;
  if (file.format !== TRACE_FORMAT) {
    throw new Error(`${source} is not a vkalloc trace: expected "format": "${TRACE_FORMAT}" but found ${describe(file.format)}`);
  }
  if (file.version !== TRACE_VERSION) {
    throw new Error(`${source} is a vkalloc trace of version ${describe(file.version)}; this vkalloc reads version ${TRACE_VERSION} only`);
  }
  const count = file.count;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) bad(`expected "count" to be a non-negative integer but found ${describe(count)}`);
  const dropped = file.dropped;
  if (typeof dropped !== 'number' || !Number.isInteger(dropped) || dropped < 0) bad(`expected "dropped" to be a non-negative integer but found ${describe(dropped)}`);

  const meta = file.meta ?? {};
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta) ||
      Object.values(meta).some((v) => typeof v !== 'string' && typeof v !== 'number')) {
    bad('expected "meta" to be an object of strings and numbers');
  }
  const commands = file.commands;
  if (!Array.isArray(commands) || commands.length === 0 || commands.some((c) => typeof c !== 'string')) {
    bad('expected "commands" to be a non-empty array of command names');
  }
  const objects = decodeObjects(file.objects, bad);
  const callSites = file.callSites ?? {};
  if (typeof callSites !== 'object' || callSites === null || Array.isArray(callSites) ||
      Object.entries(callSites).some(([seq, site]) => !/^\d+$/.test(seq) || typeof site !== 'string')) {
    bad('expected "callSites" to be an object of strings by seq');
  }
  const head: TraceHead = {
    format: TRACE_FORMAT, version: TRACE_VERSION, meta: meta as Record<string, string | number>, count, dropped,
    commands: commands as string[], objects, callSites: callSites as Record<number, string>,
  };
  return { head, bad };
}

/** The values a column may hold in this file. */
function columnLimits(head: TraceHead, name: ColumnName): { integer: boolean; min: number; max: number } {
  const limits: Partial<Record<ColumnName, number>> = { command: head.commands.length - 1, object: head.objects.length - 1 };
  return { integer: COLUMNS[name].integer, min: name === 'size' ? -Number.MAX_SAFE_INTEGER : 0, max: limits[name] ?? COLUMNS[name].max };
}

/**
 * The trace in the open file `fd`, its columns read without JSON.parse (lib/trace/json-columns.ts);
 * null when the file is anything but a well-formed trace, for decodeTrace to say why.
 */
function decodeFast(fd: number, source: string): TraceData | null {
  const found = readHead(fd);
  if (!found) return null;
  const decoded = {} as Record<ColumnName, ColumnArray>;
  const read = (count: number) => readColumns(new FileWindow(fd, found.start), count, (name, values, from) => {
    if (!Object.hasOwn(COLUMNS, name)) return true;  // decodeTrace ignores other members too
    // The limits that do not depend on the rest of the file; command and object are checked below.
    const { type, integer, max } = COLUMNS[name as ColumnName];
    if (!allWithin(values, integer, name === 'size' ? -Number.MAX_SAFE_INTEGER : 0, max)) return false;
    if (from === 0) decoded[name as ColumnName] = new type(count);
    decoded[name as ColumnName].set(values, from);
    return true;
  });
  const end = read(found.count);
  if (end < 0) return null;
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(found.text + 'null' + readRest(fd, end));
  } catch {
    return null;
  }
  if (value?.columns !== null) return null;  // not the member JSON.parse keeps (a duplicate key)
  let head: TraceHead;
  try {
    head = decodeHead(value, source).head;
  } catch {
    return null;
  }
  if (head.count !== found.count && read(head.count) < 0) return null;
  if (COLUMN_NAMES.some((name) => decoded[name]?.length !== head.count)) return null;
  for (const name of ['command', 'object'] as const) {
    const { max } = columnLimits(head, name);
    if (decoded[name].some((v) => v > max)) return null;
  }
  return { ...head, ...(decoded as unknown as Pick<TraceData, ColumnName>) };
}

/**
 * The file's text before "columns", where the columns start, and "count" (the writer puts
 * it before "columns", so that the columns are read in the one pass); null when the file
 * is not laid out so. The window grows until it holds that text (a few kilobytes, or
 * more with many objects and call sites).
 */
function readHead(fd: number): { text: string; start: number; count: number } | null {
  const w = new FileWindow(fd);
  let found = findMember(w.bytes, 'columns');
  while (found === 'more' && w.grow()) found = findMember(w.bytes, 'columns');
  if (found === null || found === 'more') return null;
  const at = found.before.get('count');
  const count = at ? Number(w.bytes.toString('latin1', at.start, at.end)) : -1;
  if (!Number.isSafeInteger(count) || count < 0) return null;
  return { text: w.bytes.toString('utf8', 0, found.start), start: found.start, count };
}

/** Whether every value is within [min, max] (and an integer, if asked). A loop of its own, for V8 to optimise once. */
function allWithin(values: Float64Array, integer: boolean, min: number, max: number): boolean {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if ((integer && !Number.isInteger(v)) || !(v >= min && v <= max)) return false;
  }
  return true;
}

function decodeObjects(value: unknown, bad: (what: string) => never): TraceObject[] {
  if (!Array.isArray(value) || value.length === 0) bad('expected "objects" to be a non-empty array (objects[0] is a placeholder)');
  const list = value as unknown[];
  list.forEach((o, i) => {
    const x = o as Record<string, unknown>;
    const seqOrNull = (v: unknown) => v === null || (typeof v === 'number' && Number.isInteger(v) && v >= 0);
    const ok = o !== null && typeof o === 'object' && x.id === i && typeof x.type === 'string' && typeof x.createdBy === 'string' &&
      typeof x.createdAt === 'number' && seqOrNull(x.destroyedAt) && typeof x.parent === 'number' &&
      Number.isInteger(x.parent) && (x.parent as number) >= 0 && (x.parent as number) < list.length;
    if (!ok) bad(`objects[${i}] should be { id: ${i}, type, createdBy, createdAt, destroyedAt, parent } but is ${preview(o).slice(0, 120)}`);
  });
  return list as TraceObject[];
}

/**
 * A short JSON-like look at a value from the file, at most two levels deep: a hostile
 * file may nest arrays 200 000 deep, which JSON.stringify follows until the stack ends.
 */
function preview(value: unknown, depth = 0): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? String(value);
  if (depth >= 2) return Array.isArray(value) ? '[…]' : '{…}';
  if (Array.isArray(value)) {
    return `[${value.slice(0, 4).map((v) => preview(v, depth + 1)).join(',')}${value.length > 4 ? ',…' : ''}]`;
  }
  const keys = Object.keys(value);
  const shown = keys.slice(0, 8).map((k) => `${JSON.stringify(k)}:${preview((value as Record<string, unknown>)[k], depth + 1)}`);
  return `{${shown.join(',')}${keys.length > 8 ? ',…' : ''}}`;
}

export function writeTraceFile(data: TraceData, path: string): void {
  fs.writeFileSync(path, JSON.stringify(encodeTrace(data)) + '\n');
}

export function readTraceFile(path: string): TraceData {
  // The fast reader, else the file's bytes whole, from the one open: a FIFO opened twice
  // would lose what its writer wrote.
  const read = reading(path, () => {
    const fd = fs.openSync(path, 'r');
    try {
      // A pipe (/dev/stdin, a FIFO) cannot be read at positions: it is read whole.
      return (fs.fstatSync(fd).isFile() ? decodeFast(fd, path) : null) ?? fs.readFileSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  });
  if (!Buffer.isBuffer(read)) return read;
  const text = read.toString('utf8');
  // A trace streamed by the vkalloc layer (lib/trace/stream-format.ts) converts to the same TraceData.
  if (isStreamText(text)) return parseStream(text, path).data;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path} is not a vkalloc trace: it is not JSON (${(e as Error).message})`, { cause: e });
  }
  return decodeTrace(value, path);
}

/** What `read` returns; its errors (the file's: decodeFast throws no others) say which file could not be read. */
function reading<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `Cannot read trace file ${path}: no such file`
      : `Cannot read trace file ${path}: ${(e as Error).message}`, { cause: e });
  }
}
