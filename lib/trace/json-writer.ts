// JSON text appended to a file as bytes, through one reused megabyte buffer: what the
// Chrome export (chrome.ts) streams, hundreds of bytes for each of a trace's events.
// Numbers are written digit by digit and repeated text is encoded once (Piece), so
// that an event makes no string: building a string per event and encoding it took most
// of the export's time (the calls into the encoder, the garbage).
//
// Every number is written as JSON.stringify writes it: the fast paths take the
// integers the trace's columns hold; anything else goes through JSON.stringify.
import * as fs from 'fs';

/** Text encoded once, to be written many times. */
export type Piece = Uint8Array;
export const piece = (text: string): Piece => Buffer.from(text, 'utf8');

const ZERO = 0x30;
const DOT = 0x2e;
const QUOTE = 0x22;
const HEX = piece('0123456789abcdef');

export class JsonWriter {
  #fd: number;
  #buffer = Buffer.allocUnsafe(1 << 20);
  #used = 0;

  constructor(path: string) {
    this.#fd = fs.openSync(path, 'w');
  }

  /** Any text, as UTF-8. */
  text(text: string): void {
    // A UTF-16 unit takes at most 3 bytes of UTF-8.
    if (!this.#room(3 * text.length)) {
      fs.writeSync(this.#fd, text);
      return;
    }
    this.#used += this.#buffer.write(text, this.#used, 'utf8');
  }

  piece(p: Piece): void {
    if (!this.#room(p.length)) {
      this.#writeAll(p, p.length);
      return;
    }
    const b = this.#buffer;
    const at = this.#used;
    // A short piece: a loop is quicker than a call to set().
    if (p.length > 16) b.set(p, at);
    else for (let k = 0; k < p.length; k++) b[at + k] = p[k];
    this.#used = at + p.length;
  }

  /** A number, as JSON.stringify writes it. */
  number(n: number): void {
    if (!(Number.isSafeInteger(n) && n >= 0)) return this.text(JSON.stringify(n));
    this.#room(16);
    this.#integer(n);
  }

  /** A JSON string "0x…" of a block address: hex digits, as `0x${n.toString(16)}`. */
  address(n: number): void {
    if (!(Number.isSafeInteger(n) && n >= 0)) return this.text(JSON.stringify(`0x${n.toString(16)}`));
    this.#room(18);
    const b = this.#buffer;
    b[this.#used++] = QUOTE;
    b[this.#used++] = ZERO;
    b[this.#used++] = 0x78;
    // In two 32-bit words, for integer arithmetic.
    const high = Math.floor(n / 2 ** 32);
    if (high > 0) {
      this.#hex(high, 1);
      this.#hex(n >>> 0, 8);
    } else {
      this.#hex(n >>> 0, 1);
    }
    b[this.#used++] = QUOTE;
  }

  /**
   * A time in ns as µs, the text of JSON.stringify(ns / 1000), from the integer (the
   * shortest decimal that reads back as ns / 1000 is the exact one, at most 3
   * decimals, below 2^53 / 1000 µs): V8's shortest-decimal search cost more than all else.
   */
  micros(ns: number): void {
    if (!(Number.isSafeInteger(ns) && ns >= 0 && ns < 1e15)) return this.text(JSON.stringify(ns / 1000));
    this.#room(24);
    const whole = Math.floor(ns / 1000);
    let frac = (ns - whole * 1000) | 0;
    this.#integer(whole);
    if (frac === 0) return;
    let places = 3;
    while (frac % 10 === 0) {
      frac = (frac / 10) | 0;
      places--;
    }
    this.#buffer[this.#used++] = DOT;
    this.#decimal(frac, places);
  }

  /** A safe integer's digits, where there is room. */
  #integer(n: number): void {
    if (n < 2 ** 31) return this.#decimal(n | 0, 1);
    // Above 2^31, in two parts that each fit 32-bit arithmetic.
    const high = Math.floor(n / 1e9);
    this.#decimal(high | 0, 1);
    this.#decimal((n - high * 1e9) | 0, 9);
  }

  /** The decimal digits of n (0 <= n < 2^31), at least `width` of them (zeros in front). */
  #decimal(n: number, width: number): void {
    let digits = 1;
    for (let rest = n; rest >= 10; rest = (rest / 10) | 0) digits++;
    if (digits < width) digits = width;
    const b = this.#buffer;
    let at = this.#used + digits - 1;
    this.#used += digits;
    for (; digits > 0; digits--) {
      const q = (n / 10) | 0;
      b[at--] = ZERO + n - q * 10;
      n = q;
    }
  }

  /** The hex digits of n (0 <= n < 2^32), at least `width` of them. */
  #hex(n: number, width: number): void {
    let digits = 1;
    for (let rest = n >>> 4; rest > 0; rest >>>= 4) digits++;
    if (digits < width) digits = width;
    const b = this.#buffer;
    let at = this.#used + digits - 1;
    this.#used += digits;
    for (; digits > 0; digits--, n >>>= 4) b[at--] = HEX[n & 15];
  }

  /** Makes room for `bytes` more, writing out what is held; false when they would not fit at all. */
  #room(bytes: number): boolean {
    if (this.#used + bytes <= this.#buffer.length) return true;
    this.flush();
    return bytes <= this.#buffer.length;
  }

  flush(): void {
    this.#writeAll(this.#buffer, this.#used);
    this.#used = 0;
  }

  #writeAll(bytes: Uint8Array, length: number): void {
    let at = 0;
    while (at < length) at += fs.writeSync(this.#fd, bytes, at, length - at);
  }

  close(): void {
    try {
      this.flush();
    } finally {
      fs.closeSync(this.#fd);
    }
  }
}
