// Reading a trace file's columns straight from its bytes: JSON.parse of a 20 MB file
// of numbers makes millions of JS values (and its UTF-8 text) only for them to be copied
// into typed arrays, which took most of loadTrace's time and memory. These scanners
// find the top-level "columns" member and read `{ "name": [numbers, ...], ... }` into a
// Float64Array, one column at a time.
//
// They accept only what they fully understand (plain JSON numbers in flat arrays) and
// answer null / false for anything else, so that the caller parses the file the slow
// way and reports what is wrong with it exactly as before.

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
 * The members of the top-level object of a JSON document: where each value lies, in
 * order. `read(name, start, before)` may read a value itself and return where it ends (-1:
 * it could not), or return undefined to have it skipped. null when the document does not
 * look like an object of plain-named members (JSON.parse then says what it is).
 */
export function topLevelMembers(b: Buffer,
  read: (name: string, start: number, before: Map<string, Range>) => number | undefined): Map<string, Range> | null {
  const members = new Map<string, Range>();
  let at = skipSpace(b, 0);
  if (b[at] !== OPEN_BRACE) return null;
  at = skipSpace(b, at + 1);
  if (b[at] === CLOSE_BRACE) return members;
  for (;;) {
    if (b[at] !== QUOTE) return null;
    const keyEnd = stringEnd(b, at);
    const name = keyEnd < 0 ? null : plainKey(b, at, keyEnd);
    if (name === null) return null;
    at = skipSpace(b, keyEnd);
    if (b[at] !== COLON) return null;
    const start = skipSpace(b, at + 1);
    const end = read(name, start, members) ?? valueEnd(b, start);
    if (end < 0) return null;
    members.set(name, { start, end });
    at = skipSpace(b, end);
    if (b[at] === CLOSE_BRACE) return members;
    if (b[at] !== COMMA) return null;
    at = skipSpace(b, at + 1);
  }
}

/**
 * Reads `{ "name": [n, n, ...], ... }` from b[start]: each array of exactly `count`
 * numbers goes to `column(name, values)` (values is reused: copy what you keep), which
 * returns false to give up. Returns where the object ends, or -1 when a member is not
 * such an array, `column` gave up, or the text is anything else.
 */
export function readColumns(b: Buffer, start: number, count: number, column: (name: string, values: Float64Array) => boolean): number {
  const values = new Float64Array(count);
  let at = skipSpace(b, start);
  if (b[at] !== OPEN_BRACE) return -1;
  at = skipSpace(b, at + 1);
  if (b[at] === CLOSE_BRACE) return at + 1;
  for (;;) {
    if (b[at] !== QUOTE) return -1;
    const keyEnd = stringEnd(b, at);
    const name = keyEnd < 0 ? null : plainKey(b, at, keyEnd);
    if (name === null) return -1;
    at = skipSpace(b, keyEnd);
    if (b[at] !== COLON) return -1;
    at = skipSpace(b, at + 1);
    if (b[at] !== OPEN_BRACKET) return -1;
    at = skipSpace(b, at + 1);
    at = readNumbers(b, at, values, count);
    if (at < 0 || !column(name, values)) return -1;
    at = skipSpace(b, at + 1);
    if (b[at] === CLOSE_BRACE) return at + 1;
    if (b[at] !== COMMA) return -1;
    at = skipSpace(b, at + 1);
  }
}

/**
 * Reads exactly values.length numbers and the closing bracket from b[at] (just after the
 * opening one); returns where the bracket is, or -1. A function of its own, so that V8
 * optimises this loop early; the common path (digits, a comma) is one path, so that
 * the optimised code meets no branch it has not seen run.
 */
function readNumbers(b: Buffer, at: number, values: Float64Array, count: number): number {
  let n = 0;
  if (b[at] === CLOSE_BRACKET) return count === 0 ? at : -1;
  for (;;) {
    if (n === count) return -1;
    // A JSON number: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
    // Up to 15 digits add up exactly; other numbers are converted from their text, as JSON.parse does.
    const from = at;
    let c = b[at];
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
    if (c === COMMA) {
      c = b[++at];
      while (isSpace(c)) c = b[++at];
    } else if (c === CLOSE_BRACKET) return n === count ? at : -1;
    else return -1;
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
