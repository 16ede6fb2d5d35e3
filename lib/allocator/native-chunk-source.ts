// The default raw memory of TypeScript policies: chunks from native code (their own
// mappings from 64 KiB, malloc below; native/bridge/chunk_source.h), never moved or collected
// while held, reached from TypeScript through an external ArrayBuffer. release()
// detaches the buffer before freeing; chunks of a policy dropped without releasing
// them are freed after the GC collects their buffers.
import native from '../native/binding';
import type { ChunkSource, MemoryChunk } from './policy';

/** Chunks straight from native memory: every obtain is fresh memory, every release frees it. */
export const nativeChunkSource: ChunkSource = {
  obtain(size: number): MemoryChunk | null {
    return native.chunkObtain(size);
  },
  release(chunk: MemoryChunk): void {
    native.chunkRelease(chunk.buffer);
  },
};

/**
 * Keeps released chunks, up to `budget` bytes (default 1 MiB), for the next obtain of
 * the same size. Drivers repeat their requests exactly (the same blocks at every
 * vkCreateInstance), and fresh memory costs a page fault per 4 KiB touched: that was
 * the largest cost of a TypeScript policy in whole commands (bench/run.js). Kept
 * chunks count as held memory; 1 MiB kept the demo's peak within 1.3x of what the
 * driver asked for, where 2 MiB and more did not.
 */
export class RetainingChunkSource implements ChunkSource {
  #pool = new Map<number, MemoryChunk[]>();
  #retained = 0;
  #outstanding = 0;
  #peakOutstanding = 0;

  constructor(readonly inner: ChunkSource, readonly budget = 1 << 20) {}

  /** Bytes kept for reuse now. */
  get retainedBytes(): number {
    return this.#retained;
  }

  /** Bytes taken from the inner source and not given back (in use or kept), now and at peak. */
  get heldBytes(): number {
    return this.#outstanding;
  }
  get peakHeldBytes(): number {
    return this.#peakOutstanding;
  }

  obtain(size: number): MemoryChunk | null {
    const kept = this.#pool.get(size);
    if (kept !== undefined && kept.length > 0) {
      this.#retained -= size;
      return kept.pop()!;
    }
    const chunk = this.inner.obtain(size);
    if (chunk !== null) {
      this.#outstanding += chunk.buffer.byteLength;
      if (this.#outstanding > this.#peakOutstanding) this.#peakOutstanding = this.#outstanding;
    }
    return chunk;
  }

  release(chunk: MemoryChunk): void {
    const size = chunk.buffer.byteLength;
    if (this.#retained + size > this.budget) {
      this.#outstanding -= size;
      this.inner.release(chunk);
      return;
    }
    let kept = this.#pool.get(size);
    if (kept === undefined) this.#pool.set(size, (kept = []));
    kept.push(chunk);
    this.#retained += size;
  }

  /** Gives every kept chunk back. */
  trim(): void {
    for (const kept of this.#pool.values()) for (const chunk of kept) this.inner.release(chunk);
    this.#outstanding -= this.#retained;
    this.#pool.clear();
    this.#retained = 0;
  }
}
