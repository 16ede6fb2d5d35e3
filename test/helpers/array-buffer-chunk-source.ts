// A ChunkSource for tests: plain ArrayBuffers with fake but realistic addresses.
// Chunk k lives at 0x7f0000000000 + k * 2^32 plus a skew: every fourth chunk is aligned to
// 2^32, the others only to 16 (skew = 16 * odd), so alignment padding really varies.
// It can be told to fail, counts obtain/release, and detaches released buffers.

import type { ChunkSource, MemoryChunk } from '../../lib/allocator/policy';

const FIRST_ADDRESS = 0x7f0000000000;
const STRIDE = 0x100000000;

export class ArrayBufferChunkSource implements ChunkSource {
  obtains = 0;
  releases = 0;
  /** Obtain calls answered with null. */
  refusals = 0;
  readonly live = new Set<MemoryChunk>();
  liveBytes = 0;
  /** Successful obtains left before every obtain returns null; null = never fail. */
  private remaining: number | null = null;
  private next = 0;

  /** After n more successful obtains, refuse every request (n = 0: refuse from now on). */
  failAfter(n: number): void {
    this.remaining = n;
  }

  /** Stop failing. */
  succeed(): void {
    this.remaining = null;
  }

  obtain(size: number): MemoryChunk | null {
    if (this.remaining !== null) {
      if (this.remaining <= 0) {
        this.refusals++;
        return null;
      }
      this.remaining--;
    }
    if (!(size > 0 && size <= STRIDE / 2)) {
      this.refusals++;
      return null;
    }
    const k = this.next++;
    const skew = k % 4 === 0 ? 0 : 16 * (2 * ((k * 7919) % 4096) + 1);
    const chunk: MemoryChunk = { address: FIRST_ADDRESS + k * STRIDE + skew, buffer: new ArrayBuffer(size) };
    this.obtains++;
    this.live.add(chunk);
    this.liveBytes += size;
    return chunk;
  }

  release(chunk: MemoryChunk): void {
    if (!this.live.delete(chunk)) throw new Error(`release of a chunk not live: 0x${chunk.address.toString(16)}`);
    this.releases++;
    this.liveBytes -= chunk.buffer.byteLength;
    structuredClone(chunk.buffer, { transfer: [chunk.buffer] }); // detaches: byteLength 0
  }
}
