// The Protocol Buffers wire format, as much of it as the Perfetto export
// (lib/trace/perfetto.ts) writes: varints, 64-bit doubles, strings, nested messages and
// packed repeated varints, appended to one growing buffer that the caller drains.
//
// A field is a key varint (field number << 3 | wire type) then its value. A nested
// message is length-delimited, and its length is only known once it is written: begin()
// leaves one byte for it and end() fills it in, moving the body up when the length needs
// more than one byte (rare here: most messages are under 128 bytes), so no message is
// built twice and every length is the shortest varint.

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const TWO_32 = 2 ** 32;

export class ProtoWriter {
  buffer: Buffer;
  /** Bytes written: buffer[0, length). */
  length = 0;
  #float = new DataView(new ArrayBuffer(8));

  constructor(capacity = 1 << 20) {
    this.buffer = Buffer.allocUnsafe(capacity);
  }

  /** Room for `bytes` more (the buffer grows; what was written stays where it was). */
  reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buffer.length, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  /** A varint: an integer from 0 to 2^53, 7 bits a byte, low bits first. */
  varint(n: number): void {
    this.reserve(10);
    this.#varint(n);
  }

  /** uint64 / uint32 / enum / bool field. */
  uint(field: number, n: number): void {
    this.reserve(20);
    this.#varint((field << 3) | VARINT);
    this.#varint(n);
  }

  /**
   * A nested message of two varint fields, written in one go: the shape of most of what a
   * trace repeats (a debug annotation: its name's iid and its value).
   */
  pair(field: number, first: number, firstValue: number, second: number, secondValue: number): void {
    this.reserve(40);
    this.#varint((field << 3) | LENGTH_DELIMITED);
    const body = ++this.length;
    this.#varint((first << 3) | VARINT);
    this.#varint(firstValue);
    this.#varint((second << 3) | VARINT);
    this.#varint(secondValue);
    this.buffer[body - 1] = this.length - body;  // at most 30 bytes
  }

  /** A varint where there is room for it. */
  #varint(n: number): void {
    const b = this.buffer;
    let at = this.length;
    if (n < TWO_32) {
      // >>> keeps the arithmetic in 32 bits, the common case.
      n >>>= 0;
      while (n > 127) {
        b[at++] = (n & 127) | 128;
        n >>>= 7;
      }
    } else {
      while (n > 127) {
        b[at++] = (n % 128) | 128;
        n = Math.floor(n / 128);
      }
    }
    b[at++] = n;
    this.length = at;
  }

  /** int64 field: a negative value is its 64-bit two's complement, ten bytes. */
  int(field: number, n: number): void {
    if (n >= 0) return this.uint(field, n);
    this.varint((field << 3) | VARINT);
    this.reserve(10);
    let v = BigInt.asUintN(64, BigInt(n));
    for (let i = 0; i < 9; i++) {
      this.buffer[this.length++] = Number(v & BigInt(127)) | 128;
      v >>= BigInt(7);
    }
    this.buffer[this.length++] = Number(v);
  }

  double(field: number, x: number): void {
    this.varint((field << 3) | FIXED64);
    this.reserve(8);
    this.#float.setFloat64(0, x, true);
    for (let i = 0; i < 8; i++) this.buffer[this.length++] = this.#float.getUint8(i);
  }

  string(field: number, text: string): void {
    this.varint((field << 3) | LENGTH_DELIMITED);
    const bytes = Buffer.byteLength(text, 'utf8');
    this.varint(bytes);
    this.reserve(bytes);
    this.length += this.buffer.write(text, this.length, 'utf8');
  }

  /** Packed repeated varints: one length-delimited field holding `count` values. */
  packed(field: number, values: ArrayLike<number>, count = values.length): void {
    const at = this.begin(field);
    this.reserve(10 * count);
    for (let i = 0; i < count; i++) this.#varint(values[i]);
    this.end(at);
  }

  /** Opens a nested message (or packed field); returns what end() needs. */
  begin(field: number): number {
    this.varint((field << 3) | LENGTH_DELIMITED);
    this.reserve(1);
    return ++this.length;  // the byte before the body is the length's
  }

  end(body: number): void {
    const size = this.length - body;
    if (size < 128) {
      this.buffer[body - 1] = size;
      return;
    }
    let extra = 0;
    for (let n = size; n > 127; n = Math.floor(n / 128)) extra++;
    this.reserve(extra);
    this.buffer.copyWithin(body + extra, body, this.length);
    this.length = body - 1;
    this.varint(size);
    this.length += size;
  }
}
