// Reading a trace file's columns straight from its bytes: JSON.parse of a 20 MB file
// of numbers makes millions of JS values (and its UTF-8 text) only for them to be copied
// into typed arrays, which took most of loadTrace's time and memory. These scanners
// find the top-level "columns" member in the file's first bytes, then read
// `{ "name": [numbers, ...], ... }` through a window onto the file (lib/trace/file-window.ts),
// a batch of numbers at a time, so that neither the file nor a column is held twice.
//
// They accept only what they fully understand (plain JSON numbers in flat arrays) and
// answer null / -1 for anything else, so that the caller parses the file the slow
// way and reports what is wrong with it exactly as before.
import type { FileWindow } from './file-window';

const QUOTE = 0x22, BACKSLASH = 0x5c, COMMA = 0x2c, COLON = 0x3a, MINUS = 0x2d, PLUS = 0x2b, DOT = 0x2e;
const OPEN_BRACE = 0x7b, CLOSE_BRACE = 0x7d, OPEN_BRACKET = 0x5b, CLOSE_BRACKET = 0x5d;
const ZERO = 0x30, NINE = 0x39, E = 0x65, CAPITAL_E = 0x45;

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
function skipSpace(b: Buffer, at: number): number {
  while (at < b.length && isSpace(b[at])) at++;
  return at;
}

/** The end of the string that starts at b[at] (a quote), or -1. */
function stringEnd(b: Buffer, at: number): number {
  for (at++; at < b.length; at++) {
    const c = b[at];
    if (c === BACKSLASH) at++;
    else if (c === QUOTE) return at + 1;
  }
  return -1;
}

/** The end of the JSON value that starts at b[at] (a rough scan: JSON.parse checks it later), or -1. */
function valueEnd(b: Buffer, at: number): number {
  const first = b[at];
  if (first === QUOTE) return stringEnd(b, at);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    // A number, true, false or null: up to the next delimiter.
    while (at < b.length && !isSpace(b[at]) && b[at] !== COMMA && b[at] !== CLOSE_BRACE && b[at] !== CLOSE_BRACKET) at++;
    return at;
  }
  let depth = 0;
  for (; at < b.length; at++) {
    const c = b[at];
    if (c === QUOTE) {
      const end = stringEnd(b, at);
      if (end < 0) return -1;
      at = end - 1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) return at + 1;
  }
  return -1;
}

/** A key of plain characters (no escapes), as a string; null otherwise. */
function plainKey(b: Buffer, start: number, end: number): string | null {
  for (let at = start; at < end; at++) if (b[at] === BACKSLASH) return null;
  return b.toString('latin1', start + 1, end - 1);
}

export interface Range {
  start: number;
  end: number;
}

/**
 * Where the value of the top-level object's member `name` starts in b, and the members
 * before it (where each value lies). 'more' when b ends first (more of the file may
 * tell); null when b does not begin an object of plain-named members (JSON.parse then
 * says what it is).
 */
export function findMember(b: Buffer, name: string): { start: number; before: Map<string, Range> } | 'more' | null {
  const before = new Map<string, Range>();
  const fail = (at: number) => (at < 0 || at >= b.length ? 'more' : null);
  let at = skipSpace(b, 0);
  if (b[at] !== OPEN_BRACE) return fail(at);
  at = skipSpace(b, at + 1);
  for (;;) {
    if (b[at] !== QUOTE) return fail(at);
    const keyEnd = stringEnd(b, at);
    if (keyEnd < 0) return 'more';
    const key = plainKey(b, at, keyEnd);
    if (key === null) return null;
    at = skipSpace(b, keyEnd);
    if (b[at] !== COLON) return fail(at);
    const start = skipSpace(b, at + 1);
    if (key === name) return start < b.length ? { start, before } : 'more';
    const end = valueEnd(b, start);
    if (end < 0) return 'more';
    before.set(key, { start, end });
    at = skipSpace(b, end);
    if (b[at] !== COMMA) return fail(at);
    at = skipSpace(b, at + 1);
  }
}

/**
 * `column(name, values, from)`: values[k] is entry from + k of the column `name` (values
 * is reused: copy it); from 0 starts the column. False gives up.
 */
export type ColumnReader = (name: string, values: Float64Array, from: number) => boolean;

/**
 * Reads `{ "name": [n, n, ...], ... }` from the window's start: each array of exactly
 * `count` numbers goes to `column` a batch at a time, from its start (for an empty array,
 * one call with no values). Returns the file position where the object ends, or -1 when
 * a member is not such an array, `column` gave up, or the text is anything else.
 */
export function readColumns(w: FileWindow, count: number, column: ColumnReader): number {
  // Numbers are handed on in batches of a 64th of the window (16384 in a 1 MiB window,
  // 128 KiB whatever the trace's length): the text of a batch, numbers of up to about 20
  // characters in the writer's files, then lies in the half of the window lookahead()
  // keeps ahead, so that the number loop does not read past the window's end (which would
  // make V8 throw its optimised code away); where it does, the batch is read again.
  const batch = new Float64Array(Math.min(count, Math.max(1, w.size >> 6)));
  let at = skipSpace(w.bytes, 0);
  if (w.bytes[at] !== OPEN_BRACE) return -1;
  at = skipSpace(w.bytes, at + 1);
  if (w.bytes[at] === CLOSE_BRACE) return w.offset + at + 1;
  for (;;) {
    at = lookahead(w, at);
    const b = w.bytes;
    if (b[at] !== QUOTE) return -1;
    const keyEnd = stringEnd(b, at);
    const name = keyEnd < 0 ? null : plainKey(b, at, keyEnd);
    if (name === null) return -1;
    at = skipSpace(b, keyEnd);
    if (b[at] !== COLON) return -1;
    at = skipSpace(b, at + 1);
    if (b[at] !== OPEN_BRACKET) return -1;
    at = readColumn(w, at + 1, name, count, batch, column);
    if (at < 0) return -1;
    at = lookahead(w, at + 1);
    at = skipSpace(w.bytes, at);
    if (w.bytes[at] === CLOSE_BRACE) return w.offset + at + 1;
    if (w.bytes[at] !== COMMA) return -1;
    at = skipSpace(w.bytes, at + 1);
  }
}

/** Slides the window to `at` when less than half of it is left after it; returns where `at` now is. */
function lookahead(w: FileWindow, at: number): number {
  return 2 * (w.bytes.length - at) < w.size && w.slide(at) ? 0 : at;
}

/**
 * Reads one column's `count` numbers from the window's bytes[at] (just after the opening
 * bracket), a batch at a time; returns where the closing bracket is in the window as it
 * then is, or -1.
 */
function readColumn(w: FileWindow, at: number, name: string, count: number, batch: Float64Array, column: ColumnReader): number {
  if (count === 0) {
    at = skipSpace(w.bytes, at);
    return w.bytes[at] === CLOSE_BRACKET && column(name, batch, 0) ? at : -1;
  }
  for (let n = 0; ;) {
    const want = Math.min(batch.length, count - n);
    at = lookahead(w, at);
    let end = readNumbers(w.bytes, at, batch, want);
    // Ran off the window (a batch of long numbers or much space): again, from the window's start.
    if ((end < 0 || end >= w.bytes.length) && w.slide(at)) {
      at = 0;
      end = readNumbers(w.bytes, at, batch, want);
    }
    if (end < 0 || !column(name, want === batch.length ? batch : batch.subarray(0, want), n)) return -1;
    n += want;
    if (n === count) return w.bytes[end] === CLOSE_BRACKET ? end : -1;
    if (w.bytes[end] !== COMMA) return -1;
    at = end + 1;
  }
}

/**
 * Reads `want` numbers, each after the comma that ends the one before, from b[at] into
 * values; returns where the text after the last one is (spaces skipped: the caller checks
 * for its comma or bracket), or -1. A function of its own, so that V8 optimises this loop
 * early; the common path (digits, a comma) is one path, so that the optimised code meets
 * no branch it has not seen run.
 */
function readNumbers(b: Buffer, at: number, values: Float64Array, want: number): number {
  let c = b[at];
  for (let n = 0; ;) {
    while (isSpace(c)) c = b[++at];
    // A JSON number: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
    // Up to 15 digits add up exactly; other numbers are converted from their text, as JSON.parse does.
    const from = at;
    const negative = c === MINUS;
    if (negative) c = b[++at];
    if (!(c >= ZERO && c <= NINE)) return -1;
    const digits = at;
    // -0: V8 then counts in doubles from the first number (not in small integers, which
    // overflow on the first time or address and send the optimised loop back).
    let v = -0;
    do {
      v = v * 10 + (c - ZERO);
      c = b[++at];
    } while (c >= ZERO && c <= NINE);
    if (b[digits] === ZERO && at - digits > 1) return -1;  // a leading zero
    let exact = at - digits <= 15;
    if (c === DOT || c === E || c === CAPITAL_E) {
      exact = false;
      at = fractionEnd(b, at);
      if (at < 0) return -1;
      c = b[at];
    }
    v += 0;  // -0 becomes 0
    values[n++] = exact ? (negative ? 0 - v : v) : Number(b.toString('latin1', from, at));
    while (isSpace(c)) c = b[++at];
    if (n === want) return at;
    if (c !== COMMA) return -1;
    c = b[++at];
  }
}

/** The end of a number's fraction and exponent, from b[at] ('.', 'e' or 'E'), or -1. */
function fractionEnd(b: Buffer, at: number): number {
  let c = b[at];
  if (c === DOT) {
    c = b[++at];
    if (!(c >= ZERO && c <= NINE)) return -1;
    do c = b[++at]; while (c >= ZERO && c <= NINE);
  }
  if (c === E || c === CAPITAL_E) {
    c = b[++at];
    if (c === PLUS || c === MINUS) c = b[++at];
    if (!(c >= ZERO && c <= NINE)) return -1;
    do c = b[++at]; while (c >= ZERO && c <= NINE);
  }
  return at;
}
