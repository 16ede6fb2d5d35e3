// A file read front to back through one reused buffer, so that reading a trace file
// never holds all of its bytes at once (a 20 MB trace file read whole was as much
// memory again as the typed arrays it becomes).
//
// `bytes` is the part of the file in memory, a view of exactly the bytes read: indexing
// past its end gives undefined, which the scanners of lib/trace/json-columns.ts take
// as "ran off the window" and answer by sliding it on.
import * as fs from 'fs';

export class FileWindow {
  /** The bytes in the window: the file's bytes from `offset` on. */
  bytes: Buffer;
  /** The file position of bytes[0]. */
  offset: number;
  #buffer: Buffer;
  #atEnd = false;

  /** Reads from `offset` of the open file `fd`, `size` bytes at a time. */
  constructor(readonly fd: number, offset = 0, size = 1 << 20) {
    this.#buffer = Buffer.allocUnsafe(size);
    this.offset = offset;
    this.bytes = this.#buffer.subarray(0, 0);
    this.#fill(0);
  }

  /** How many bytes the window holds at most. */
  get size(): number {
    return this.#buffer.length;
  }

  /** Whether the window holds the rest of the file. */
  get atEnd(): boolean {
    return this.#atEnd;
  }

  /**
   * Moves the window on so that it starts at bytes[at], and reads what then fits after
   * what was kept. False when it stays where it is: it holds the rest of the file
   * already, or `at` is 0 (then the window is full: a caller that needs more gives up).
   */
  slide(at: number): boolean {
    if (this.#atEnd || at === 0) return false;
    const kept = this.bytes.length - at;
    this.#buffer.copyWithin(0, at, this.bytes.length);
    this.offset += at;
    this.#fill(kept);
    return true;
  }

  /** Doubles the window, keeping what it holds and reading on; false at the end of the file. */
  grow(): boolean {
    if (this.#atEnd) return false;
    const had = this.bytes.length;
    const bigger = Buffer.allocUnsafe(2 * this.#buffer.length);
    this.bytes.copy(bigger);
    this.#buffer = bigger;
    this.#fill(had);
    return this.bytes.length > had;
  }

  /** Fills the buffer after its first `kept` bytes, up to its end or the file's. */
  #fill(kept: number): void {
    const buffer = this.#buffer;
    let length = kept;
    while (length < buffer.length) {
      const read = fs.readSync(this.fd, buffer, length, buffer.length - length, this.offset + length);
      if (read === 0) {
        this.#atEnd = true;
        break;
      }
      length += read;
    }
    this.bytes = buffer.subarray(0, length);
  }
}

/** The file's bytes from `offset` to its end, as UTF-8 text (the small tail after the columns). */
export function readRest(fd: number, offset: number): string {
  const pieces: Buffer[] = [];
  for (;;) {
    const piece = Buffer.allocUnsafe(1 << 16);
    const read = fs.readSync(fd, piece, 0, piece.length, offset);
    if (read === 0) return Buffer.concat(pieces).toString('utf8');
    pieces.push(piece.subarray(0, read));
    offset += read;
  }
}
