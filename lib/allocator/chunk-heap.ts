// ChunkHeap: raw memory sub-allocated in TypeScript from chunks a ChunkSource hands out.
// It sits on the hot path of every Vulkan host allocation, so allocate/free use only
// plain numbers, typed arrays and one monomorphic record class: no closures, BigInt,
// per-call objects or optional fields.
//
// - Size classes (40): 16..128 in steps of 16, then 4 per power of two up to 32 KiB
//   (160, 192, 224, 256, 320, ..., 28672, 32768). All are multiples of 16, so every block
//   of a 16-aligned chunk is 16-aligned. Worst-case rounding loss is 25%, typically ~10%.
// - A slab is one chunk of max(4, floor(4096 / block)) blocks of one class (4 KiB for small
//   classes, 4 blocks for >= 1 KiB). Small enough that a few hundred allocations don't
//   strand much memory in half-used slabs (or spares), big enough to amortise the
//   source's obtain(). With 8 blocks the demo's peak was 1.28x the bytes requested,
//   with 4 blocks 1.15x (bench/run.js): mostly partly used and spare large slabs.
// - Requests above 32 KiB get a dedicated chunk (rounded up to 16 bytes), released on free.
// - Inside a slab: block index = offset / blockSize. Freed blocks go on an Int32Array stack;
//   never-used ones come from a bump index (no O(blocks) set-up); a Uint8Array of live
//   flags makes freeing a non-block or a freed block detectable in O(1).
// - Slabs with free space form a doubly linked list per class (links are chunk ids).
//   An emptied slab is kept as a spare (up to `spareSlabsPerClass`, default 1, per class;
//   spares are chained through `next`); further empty slabs go back to the source at once,
//   which detaches their buffers. Each obtain/release costs a native call and a few typed
//   array views (~µs), so workloads that repeatedly fill and empty many slabs of one class
//   (e.g. per-frame command memory) run faster with more spares, at the cost of memory.
// - Address -> chunk: chunks are only 16-aligned, so their bases cannot be computed from an
//   address. Bases live in a sorted Float64Array searched by bisection (O(log chunks)),
//   behind a cache of the chunk last found per page number (256 slots).
// - Addresses (~2^46) are exact doubles; offsets inside a chunk are small integers, so all
//   bit arithmetic is done on offsets (and on baseLo, the base's low 32 bits), never on
//   whole addresses.

import type { ChunkSource, MemoryChunk } from './policy';

/** Largest block served from slabs; bigger requests get a chunk of their own. */
export const MAX_SLAB_BLOCK = 32768;
const SMALL_LIMIT = 128;
const SLAB_TARGET_BYTES = 4096;
const MIN_SLAB_BLOCKS = 4;

function buildClassSizes(): Int32Array {
  const sizes: number[] = [];
  for (let s = 16; s <= SMALL_LIMIT; s += 16) sizes.push(s);
  for (let p = SMALL_LIMIT; p < MAX_SLAB_BLOCK; p *= 2) {
    for (let q = 1; q <= 4; q++) sizes.push(p + (p / 4) * q);
  }
  return Int32Array.from(sizes);
}

/** Block size of each class. */
export const CLASS_SIZES: Int32Array = buildClassSizes();
export const CLASS_COUNT = CLASS_SIZES.length;
const SLAB_BLOCKS = CLASS_SIZES.map((s) => Math.max(MIN_SLAB_BLOCKS, Math.floor(SLAB_TARGET_BYTES / s)));

/** Size class of a request of 1..MAX_SLAB_BLOCK bytes (<= 0 maps to class 0). */
export function sizeClassOf(size: number): number {
  if (size <= SMALL_LIMIT) return size <= 16 ? 0 : ((size + 15) >> 4) - 1;
  const p = 31 - Math.clz32(size - 1); // size is in (2^p, 2^(p+1)]
  const shift = p - 2; // 4 classes per power of two
  return 8 + (p - 7) * 4 + ((size - (1 << p) + (1 << shift) - 1) >> shift) - 1;
}

const EMPTY_I32 = new Int32Array(0);

/** One chunk from the source: a slab of equal blocks, or one dedicated block. */
export class HeapChunk {
  /** Index in ChunkHeap's chunk table (recycled after release). */
  readonly id: number;
  /** Address of byte 0 (16-aligned). */
  readonly base: number;
  /** Low 32 bits of base as an int32: lets callers do alignment/bit math on offsets. */
  readonly baseLo: number;
  /** Bytes in the chunk. */
  readonly size: number;
  readonly chunk: MemoryChunk;
  /**
   * Views over the whole chunk (i32/f64 cover the largest multiple of their width). No
   * Uint32Array: each view costs ~150 ns per chunk; read i32 with `>>> 0` for unsigned.
   */
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  /** Size class, or -1 for a dedicated chunk. */
  readonly sizeClass: number;
  readonly blockSize: number;
  readonly blockCount: number;
  /** Blocks [bump, blockCount) have never been handed out. */
  bump = 0;
  freeTop = 0;
  readonly freeStack: Int32Array;
  readonly live: Uint8Array;
  liveCount = 0;
  /** Links in the class's list of slabs with free space; -1 = none. */
  prev = -1;
  next = -1;
  listed = false;

  constructor(id: number, chunk: MemoryChunk, sizeClass: number, blockSize: number, blockCount: number) {
    const buffer = chunk.buffer;
    const length = buffer.byteLength;
    this.id = id;
    this.base = chunk.address;
    this.baseLo = (chunk.address % 4294967296) | 0;
    this.size = length;
    this.chunk = chunk;
    this.u8 = new Uint8Array(buffer);
    this.i32 = new Int32Array(buffer, 0, Math.floor(length / 4));
    this.f64 = new Float64Array(buffer, 0, Math.floor(length / 8));
    this.sizeClass = sizeClass;
    this.blockSize = blockSize;
    this.blockCount = blockCount;
    this.freeStack = sizeClass < 0 ? EMPTY_I32 : new Int32Array(blockCount);
    this.live = new Uint8Array(blockCount);
  }
}

/** Stands in for "no chunk" in fields and the chunk table, keeping them monomorphic. */
const PAGE_SLOTS = 256;
const PAGE_SCALE = 1 / 4096;

const NO_CHUNK = new HeapChunk(-1, { address: 0, buffer: new ArrayBuffer(0) }, -1, 0, 0);

export interface ChunkHeapOptions {
  /** Empty slabs kept per size class instead of going back to the source (default 1). */
  spareSlabsPerClass?: number;
}

export interface ChunkHeapStats {
  /** Chunks held from the source (spares included). */
  chunks: number;
  bytesHeld: number;
  /** Highest bytesHeld since construction or resetPeak(). */
  peakBytesHeld: number;
  liveBlocks: number;
  /** Sum of live blocks' capacities. */
  liveBytes: number;
}

function hex(address: number): string {
  return Number.isFinite(address) && address >= 0 ? '0x' + address.toString(16) : String(address);
}

export class ChunkHeap {
  /** The chunk of the block the last successful allocate/allocateBlock returned (saves a lookup). */
  lastChunk: HeapChunk = NO_CHUNK;

  private readonly source: ChunkSource;
  private chunks: HeapChunk[] = [];
  private freeIds: number[] = [];
  private readonly classHead = new Int32Array(CLASS_COUNT).fill(-1);
  private readonly spareHead = new Int32Array(CLASS_COUNT).fill(-1);
  private readonly spareCount = new Int32Array(CLASS_COUNT);
  private readonly maxSpares: number;
  // Sorted chunk bases and the ids of their chunks, for address lookup.
  private bases = new Float64Array(64);
  private order = new Int32Array(64);
  private count = 0;
  // The chunk last found for each of PAGE_SLOTS page numbers (mod PAGE_SLOTS): commits
  // and frees alternate between a driver's few dozen slabs, so a single last-hit entry
  // missed 84% of lookups in a lavapipe vkCreateInstance, each then a bisection.
  private readonly pageHits: HeapChunk[] = new Array<HeapChunk>(PAGE_SLOTS).fill(NO_CHUNK);
  private bytesHeld = 0;
  private peakBytesHeld = 0;
  private liveBlocks = 0;
  private liveBytes = 0;

  constructor(source: ChunkSource, options: ChunkHeapOptions = {}) {
    const spares = options.spareSlabsPerClass ?? 1;
    if (!(spares >= 0 && (Number.isInteger(spares) || spares === Infinity))) {
      throw new RangeError(`ChunkHeap: spareSlabsPerClass must be an integer >= 0 or Infinity, not ${spares}`);
    }
    this.source = source;
    this.maxSpares = spares;
  }

  /** A 16-aligned block of at least `size` bytes, or 0 when the source has no memory. */
  allocate(size: number): number {
    const offset = this.allocateBlock(size);
    return offset < 0 ? 0 : this.lastChunk.base + offset;
  }

  /**
   * Like allocate(), but returns the block's offset in this.lastChunk, or -1: a small
   * integer, so callers that go on to compute with it don't box an address per call.
   */
  allocateBlock(size: number): number {
    if (!(size <= MAX_SLAB_BLOCK)) return this.allocateDedicated(size);
    const c = sizeClassOf(size);
    let id = this.classHead[c];
    if (id < 0) {
      id = this.refill(c);
      if (id < 0) return -1;
    }
    const rec = this.chunks[id];
    const index = rec.freeTop > 0 ? rec.freeStack[--rec.freeTop] : rec.bump++;
    rec.live[index] = 1;
    if (++rec.liveCount === rec.blockCount) this.unlink(rec);
    const offset = index * rec.blockSize;
    this.lastChunk = rec;
    this.liveBlocks++;
    this.liveBytes += rec.blockSize;
    return offset;
  }

  /** Frees a block allocate() returned; RangeError (state untouched) for anything else. */
  free(address: number): void {
    const rec = this.chunkFor(address);
    const index = rec !== null ? this.liveBlockIndex(rec, address - rec.base) : -1;
    if (index >= 0) {
      this.freeBlock(rec!, index);
      return;
    }
    throw new RangeError(`ChunkHeap.free: ${hex(address)} is not a live block of this heap`);
  }

  /** Usable bytes of the live block starting at `address`, or 0 if there is none. */
  blockCapacity(address: number): number {
    const rec = this.chunkFor(address);
    return rec !== null && this.liveBlockIndex(rec, address - rec.base) >= 0 ? rec.blockSize : 0;
  }

  /** The chunk containing `address` (any byte of it), or null. O(1) when its page was seen, else O(log n). */
  chunkFor(address: number): HeapChunk | null {
    // (address * 2^-12 is exact; `&` takes the low bits of its integer part)
    const slot = (address * PAGE_SCALE) & (PAGE_SLOTS - 1);
    const hit = this.pageHits[slot];
    if (address >= hit.base && address < hit.base + hit.size) return hit;
    const bases = this.bases;
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) { // ends with hi = last index whose base <= address
      const mid = (lo + hi) >>> 1;
      if (bases[mid] <= address) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0) return null;
    const rec = this.chunks[this.order[hi]];
    if (!(address < rec.base + rec.size)) return null;
    this.pageHits[slot] = rec;
    return rec;
  }

  /** Index of the live block starting at byte `offset` of `rec`, or -1. */
  liveBlockIndex(rec: HeapChunk, offset: number): number {
    const index = offset / rec.blockSize; // exact: an integer only for block starts
    return index >= 0 && index < rec.bump && (index | 0) === index && rec.live[index] === 1 ? index : -1;
  }

  /** Frees block `index` of `rec`, which liveBlockIndex() has just vouched for. */
  freeBlock(rec: HeapChunk, index: number): void {
    rec.live[index] = 0;
    this.liveBlocks--;
    this.liveBytes -= rec.blockSize;
    if (rec.sizeClass < 0) {
      this.releaseChunk(rec);
      return;
    }
    const wasFull = rec.liveCount === rec.blockCount;
    rec.freeStack[rec.freeTop++] = index;
    if (--rec.liveCount === 0) this.retire(rec);
    else if (wasFull) this.link(rec);
  }

  stats(): ChunkHeapStats {
    return {
      chunks: this.count,
      bytesHeld: this.bytesHeld,
      peakBytesHeld: this.peakBytesHeld,
      liveBlocks: this.liveBlocks,
      liveBytes: this.liveBytes,
    };
  }

  resetPeak(): void {
    this.peakBytesHeld = this.bytesHeld;
  }

  /** Gives every chunk back, live blocks included: only for shutdown and tests. */
  releaseAll(): void {
    const chunks = this.chunks;
    for (let i = 0; i < chunks.length; i++) if (chunks[i] !== NO_CHUNK) this.releaseChunk(chunks[i]);
    this.chunks = [];
    this.freeIds = [];
    this.classHead.fill(-1);
    this.spareHead.fill(-1);
    this.spareCount.fill(0);
    this.liveBlocks = 0;
    this.liveBytes = 0;
  }

  private allocateDedicated(size: number): number {
    if (!(size <= Number.MAX_SAFE_INTEGER - 16)) return -1; // also rejects NaN
    const bytes = Math.ceil(size / 16) * 16;
    const chunk = this.source.obtain(bytes);
    if (chunk === null) return -1;
    const rec = this.adopt(chunk, bytes, -1, bytes, 1);
    rec.bump = 1;
    rec.live[0] = 1;
    rec.liveCount = 1;
    this.lastChunk = rec;
    this.liveBlocks++;
    this.liveBytes += bytes;
    return 0;
  }

  /** A slab of class c with free space (a spare, or a new one), linked in; -1 if none. */
  private refill(c: number): number {
    let id = this.spareHead[c];
    if (id >= 0) {
      this.spareHead[c] = this.chunks[id].next;
      this.spareCount[c]--;
    } else {
      const blockSize = CLASS_SIZES[c];
      const blocks = SLAB_BLOCKS[c];
      const chunk = this.source.obtain(blockSize * blocks);
      if (chunk === null) return -1;
      id = this.adopt(chunk, blockSize * blocks, c, blockSize, blocks).id;
    }
    this.link(this.chunks[id]);
    return id;
  }

  /** Checks a chunk from the source and registers it. */
  private adopt(chunk: MemoryChunk, bytes: number, sizeClass: number, blockSize: number, blocks: number): HeapChunk {
    if (!(chunk.address > 0 && chunk.address % 16 === 0 && chunk.buffer.byteLength >= bytes)) {
      this.source.release(chunk);
      throw new TypeError(`ChunkHeap: the source returned a bad chunk for ${bytes} bytes ` +
        `(address ${hex(chunk.address)}, ${chunk.buffer.byteLength} bytes; need 16-aligned and >= ${bytes})`);
    }
    const id = this.freeIds.length > 0 ? this.freeIds.pop()! : this.chunks.length;
    const rec = new HeapChunk(id, chunk, sizeClass, blockSize, blocks);
    if (id === this.chunks.length) this.chunks.push(rec);
    else this.chunks[id] = rec;
    this.insertSorted(rec);
    this.bytesHeld += rec.size;
    if (this.bytesHeld > this.peakBytesHeld) this.peakBytesHeld = this.bytesHeld;
    return rec;
  }

  /** A slab just became empty: keep it as a spare, or give it back. */
  private retire(rec: HeapChunk): void {
    if (rec.listed) this.unlink(rec);
    const c = rec.sizeClass;
    if (this.spareCount[c] < this.maxSpares) {
      rec.bump = 0; // all blocks free: start over in address order
      rec.freeTop = 0;
      rec.next = this.spareHead[c];
      this.spareHead[c] = rec.id;
      this.spareCount[c]++;
    } else {
      this.releaseChunk(rec);
    }
  }

  private releaseChunk(rec: HeapChunk): void {
    this.removeSorted(rec);
    this.chunks[rec.id] = NO_CHUNK;
    this.freeIds.push(rec.id);
    const hits = this.pageHits;  // (its address range may be another chunk's next)
    for (let i = 0; i < PAGE_SLOTS; i++) if (hits[i] === rec) hits[i] = NO_CHUNK;
    if (this.lastChunk === rec) this.lastChunk = NO_CHUNK;
    this.bytesHeld -= rec.size;
    this.source.release(rec.chunk); // detaches rec's views
  }

  private link(rec: HeapChunk): void {
    const c = rec.sizeClass;
    const head = this.classHead[c];
    rec.prev = -1;
    rec.next = head;
    if (head >= 0) this.chunks[head].prev = rec.id;
    this.classHead[c] = rec.id;
    rec.listed = true;
  }

  private unlink(rec: HeapChunk): void {
    if (rec.prev >= 0) this.chunks[rec.prev].next = rec.next;
    else this.classHead[rec.sizeClass] = rec.next;
    if (rec.next >= 0) this.chunks[rec.next].prev = rec.prev;
    rec.prev = rec.next = -1;
    rec.listed = false;
  }

  /** Index of the first base >= address. */
  private lowerBound(address: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.bases[mid] < address) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private insertSorted(rec: HeapChunk): void {
    if (this.count === this.bases.length) {
      const bases = new Float64Array(this.count * 2);
      const order = new Int32Array(this.count * 2);
      bases.set(this.bases);
      order.set(this.order);
      this.bases = bases;
      this.order = order;
    }
    const at = this.lowerBound(rec.base);
    this.bases.copyWithin(at + 1, at, this.count);
    this.order.copyWithin(at + 1, at, this.count);
    this.bases[at] = rec.base;
    this.order[at] = rec.id;
    this.count++;
  }

  private removeSorted(rec: HeapChunk): void {
    const at = this.lowerBound(rec.base);
    this.bases.copyWithin(at, at + 1, this.count);
    this.order.copyWithin(at, at + 1, this.count);
    this.count--;
  }
}
