// AlignedHeaderPolicy: the classic "over-allocate, shift up, keep a header in the slack"
// aligned allocator (Gregory, Game Engine Architecture), on top of ChunkHeap, with the
// original's two bugs fixed:
// - The slack before the aligned address is always >= the header. Raw blocks are
//   16-aligned, so we ask for max(16, alignment) extra bytes and place the aligned address
//   at raw + 16 rounded up to the alignment: adjustment is in [16, max(16, alignment)].
// - The raw address is never derived by calling anything on the aligned one: it comes
//   from the adjustment in the header (raw = aligned - adjustment).
//
// Header: 16 bytes immediately before the aligned address. The aligned address is always
// 16-aligned within its chunk, so the header is too, and it is read/written through the
// chunk's Int32Array/Float64Array views (no native call per field):
//   i32 +0   tag   = MAGIC ^ imul(low32(aligned) ^ word1, GOLDEN); set to ~tag on free
//   i32 +4   word1 = adjustment (bits 0..16, 16..65536) | log2(alignment) << 20
//   f64 +8   requested size (exact integer)
// The tag depends on the address and word1, so user data or a stale header elsewhere
// rarely matches by chance; free() also requires that raw is a live heap block whose
// capacity covers adjustment + size, so a foreign pointer or double free is refused
// before any state changes.
//
// Size 0 gets a real block with 1 usable byte and a unique address (counted as 0 bytes
// in liveBytes), so it can be freed like any other.
//
// Ready blocks (AllocatorPolicy.readyClasses, on unless { readyBlocks: false }): one
// class per heap class up to 1 KiB, for alignments up to 16, whose bound is the block
// less its header, so a ready block sits in the very heap class allocate() would use.
// prepare() takes the raw block and writes a header with a tag of its own (word1 =
// adjustment 16, log2 16), which free() and view() refuse; commit() writes the header
// allocate() would have written (for alignment <= 16 the adjustment is always 16).

import { CLASS_SIZES, ChunkHeap, type HeapChunk } from './chunk-heap';
import type { AllocationScope, AllocatorPolicy, ChunkSource, ReadyClasses } from './policy';
import { nativeChunkSource, RetainingChunkSource } from './native-chunk-source';
import { dropReadyBlocks } from './ready-stock';
import * as is from '../util/is';

export const HEADER_BYTES = 16;
export const MAX_ALIGNMENT = 65536;
/** Largest size accepted (the header stores it as an exact double). */
export const MAX_SIZE = 2 ** 48;
const ADJ_MASK = 0x1ffff;
const ALIGN_SHIFT = 20;
const MAGIC = 0x5a17c0de | 0;
const GOLDEN = 0x9e3779b1 | 0;
/** Offsets beyond this can't hold a header (slabs are small; dedicated headers sit at <= 64 KiB). */
const MAX_HEADER_OFFSET = 0x40000000;
/** Copies up to this many bytes with a word loop (no view allocation); bigger ones use set(). */
const LOOP_COPY_BYTES = 512;

const READY_MAX_ALIGNMENT = 16;
/** Raw block size of each ready class: the heap classes from 32 B to 1 KiB. */
const READY_BLOCK_BYTES = CLASS_SIZES.filter((size) => size > HEADER_BYTES && size <= 1024);
const READY_CLASSES: ReadyClasses = Object.freeze({
  sizes: Object.freeze(Array.from(READY_BLOCK_BYTES, (size) => size - HEADER_BYTES)),
  maxAlignment: READY_MAX_ALIGNMENT,
});
const PREPARED_WORD1 = HEADER_BYTES | (4 << ALIGN_SHIFT);
/** Mixed into a prepared block's tag: neither a live tag nor a freed one (~tag). */
const PREPARED = 0x2d6b1e55;

function tagFor(low32: number, word1: number): number {
  return MAGIC ^ Math.imul(low32 ^ word1, GOLDEN);
}

function preparedTag(low32: number): number {
  return tagFor(low32, PREPARED_WORD1) ^ PREPARED;
}

function hex(address: number): string {
  return Number.isFinite(address) && address >= 0 ? '0x' + address.toString(16) : String(address);
}

/** Whether `alignment` is a power of two in [1, MAX_ALIGNMENT]. */
function validAlignment(alignment: number): boolean {
  return (alignment | 0) === alignment && alignment >= 1 && alignment <= MAX_ALIGNMENT &&
    (alignment & (alignment - 1)) === 0;
}

function validSize(size: number): boolean {
  return size >= 0 && size <= MAX_SIZE && Math.floor(size) === size;
}

export interface AlignedHeaderPolicyOptions {
  /** Where raw memory comes from; default: native chunks through a retaining pool of its own. */
  source?: ChunkSource;
  /** Empty slabs kept per size class rather than released (default 1); see ChunkHeap. */
  spareSlabsPerClass?: number;
  /**
   * Ready blocks (default true): most allocations then cost no call into JS
   * (docs/policies.md#ready-blocks). false: allocate() is called for every one.
   */
  readyBlocks?: boolean;
}

export interface AlignedHeaderPolicyStats {
  liveBlocks: number;
  /** Sum of requested sizes of live blocks. */
  liveBytes: number;
  /** Bytes held from the source: slack, headers, partly used slabs and spares included. */
  bytesHeld: number;
  peakBytesHeld: number;
  chunks: number;
  /** Requests refused for a bad alignment or size (or a reallocate changing alignment). */
  rejected: number;
  /** Requests that failed because the source had no memory. */
  failures: number;
  /** Blocks prepared for ready use and not committed: held (in bytesHeld), not live. */
  readyBlocks: number;
}

export class AlignedHeaderPolicy implements AllocatorPolicy {
  /** @deprecated pass { source } instead. Used when set and no source is passed. */
  static defaultSource: ChunkSource | null = null;
  /** @deprecated pass { source } instead. Makes a source for each policy built without one. */
  static defaultSourceFactory: (() => ChunkSource) | null = null;

  /** Where this policy's raw memory comes from. */
  readonly source: ChunkSource;

  /** The raw block heap (exposed for inspection and tests). */
  readonly heap: ChunkHeap;
  /** The ready-block classes, or null ({ readyBlocks: false }, or a subclass overriding allocate). */
  readonly readyClasses: ReadyClasses | null;
  private prepared = 0;
  private liveBlocks = 0;
  private liveBytes = 0;
  private rejected = 0;
  private failures = 0;
  /** Set by locate() (avoids returning a tuple): the aligned offset and the raw block index. */
  private foundOffset = 0;
  private foundIndex = 0;

  constructor(options: AlignedHeaderPolicyOptions = {}) {
    // Explicit: the native source is named here, not installed by whichever module
    // happened to be imported first.
    this.source = options.source ?? AlignedHeaderPolicy.defaultSourceFactory?.() ?? AlignedHeaderPolicy.defaultSource ??
      new RetainingChunkSource(nativeChunkSource);
    this.heap = new ChunkHeap(this.source, { spareSlabsPerClass: options.spareSlabsPerClass });
    const ready = options.readyBlocks ?? true;
    if (typeof ready !== 'boolean') is.fail('type', 'a boolean', 'options.readyBlocks', ready);
    // A subclass that overrides allocate() means to see every allocation.
    this.readyClasses = ready && this.allocate === AlignedHeaderPolicy.prototype.allocate ? READY_CLASSES : null;
  }

  allocate(size: number, alignment: number, _scope: AllocationScope): number {
    if (!validAlignment(alignment) || !validSize(size)) {
      this.rejected++;
      return 0;
    }
    const slack = alignment > HEADER_BYTES ? alignment : HEADER_BYTES;
    const heap = this.heap;
    const rawOffset = heap.allocateBlock(slack + (size > 0 ? size : 1));
    if (rawOffset < 0) {
      this.failures++;
      return 0;
    }
    const rec = heap.lastChunk;
    // Pad (raw + 16) up to the alignment; computed on chunk-relative low bits, since
    // alignment divides 2^32 and bitwise ops on whole addresses would truncate.
    const mask = alignment - 1;
    const adjustment = HEADER_BYTES + ((alignment - ((rec.baseLo + rawOffset + HEADER_BYTES) & mask)) & mask);
    const offset = rawOffset + adjustment;
    const word1 = adjustment | ((31 - Math.clz32(alignment)) << ALIGN_SHIFT);
    const w = offset >> 2;
    rec.i32[w - 3] = word1;
    rec.f64[(offset >> 3) - 1] = size;
    rec.i32[w - 4] = tagFor((rec.baseLo + offset) | 0, word1);
    this.liveBlocks++;
    this.liveBytes += size;
    return rec.base + offset;
  }

  /**
   * Same alignment required (else 0). Stays in place when the block's capacity allows and
   * would not be more than half empty; otherwise moves (allocate, copy, free). A shrink
   * that cannot move stays in place; a grow that cannot get memory returns 0 and leaves
   * the old block as it was.
   */
  reallocate(address: number, size: number, alignment: number, scope: AllocationScope): number {
    const rec = this.locate(address, 'reallocate');
    const offset = this.foundOffset;
    const index = this.foundIndex;
    const word1 = rec.i32[(offset >> 2) - 3];
    if (alignment !== 1 << (word1 >>> ALIGN_SHIFT) || !validSize(size)) {
      this.rejected++;
      return 0;
    }
    const adjustment = word1 & ADJ_MASK;
    const oldSize = rec.f64[(offset >> 3) - 1];
    const need = adjustment + (size > 0 ? size : 1);
    const capacity = rec.blockSize;
    if (need <= capacity && need * 2 >= capacity) return this.resizeInPlace(rec, offset, oldSize, size, address);
    const moved = this.allocate(size, alignment, scope);
    if (moved === 0) {
      if (need > capacity) return 0; // allocate() counted the failure
      this.failures--; // a shrink that could not move stays put: not a failure
      return this.resizeInPlace(rec, offset, oldSize, size, address);
    }
    const dst = this.heap.lastChunk;
    copyBytes(rec, offset, dst, moved - dst.base, oldSize < size ? oldSize : size);
    this.release(rec, offset, index, oldSize);
    return moved;
  }

  /** A block of ready class `sizeClass` (readyClasses.sizes), not live until commit(); 0 if the source has none. */
  prepare(sizeClass: number): number {
    const bytes = READY_BLOCK_BYTES[sizeClass];
    if (!(bytes > 0)) {
      throw new RangeError(`AlignedHeaderPolicy.prepare: ${sizeClass} is not a ready class (0 to ${READY_BLOCK_BYTES.length - 1})`);
    }
    const rawOffset = this.heap.allocateBlock(bytes);
    if (rawOffset < 0) return 0;
    const rec = this.heap.lastChunk;
    const offset = rawOffset + HEADER_BYTES;
    const w = offset >> 2;
    rec.i32[w - 3] = PREPARED_WORD1;
    rec.i32[w - 4] = preparedTag((rec.baseLo + offset) | 0);
    this.prepared++;
    return rec.base + offset;
  }

  /** A prepared block becomes live, exactly as allocate(size, alignment, scope) would have made it. */
  commit(address: number, size: number, alignment: number, _scope: AllocationScope): void {
    const rec = this.locatePrepared(address, 'commit');
    const offset = this.foundOffset;
    if (!(validAlignment(alignment) && alignment <= READY_MAX_ALIGNMENT && validSize(size) &&
      HEADER_BYTES + (size > 0 ? size : 1) <= rec.blockSize)) {
      throw new RangeError(`AlignedHeaderPolicy.commit: ${size} bytes aligned to ${alignment} do not fit ` +
        `the prepared block ${hex(address)} (${rec.blockSize - HEADER_BYTES} bytes, alignment up to ${READY_MAX_ALIGNMENT})`);
    }
    const word1 = HEADER_BYTES | ((31 - Math.clz32(alignment)) << ALIGN_SHIFT);
    const w = offset >> 2;
    rec.i32[w - 3] = word1;
    rec.f64[(offset >> 3) - 1] = size;
    rec.i32[w - 4] = tagFor((rec.baseLo + offset) | 0, word1);
    this.prepared--;
    this.liveBlocks++;
    this.liveBytes += size;
  }

  /** A prepared block back, unused. */
  giveBack(address: number): void {
    const rec = this.locatePrepared(address, 'giveBack');
    const w = this.foundOffset >> 2;
    rec.i32[w - 4] = ~rec.i32[w - 4]; // a second giveBack (or a commit) now fails the tag check
    this.prepared--;
    this.heap.freeBlock(rec, this.foundIndex);
  }

  free(address: number): void {
    const rec = this.locate(address, 'free');
    const offset = this.foundOffset;
    this.release(rec, offset, this.foundIndex, rec.f64[(offset >> 3) - 1]);
  }

  /** A view of the `size` bytes of a live block (allocates a view: not for hot paths). */
  view(address: number): Uint8Array {
    const rec = this.locate(address, 'view');
    const offset = this.foundOffset;
    return rec.u8.subarray(offset, offset + rec.f64[(offset >> 3) - 1]);
  }

  stats(): AlignedHeaderPolicyStats {
    const heap = this.heap.stats();
    return {
      liveBlocks: this.liveBlocks,
      liveBytes: this.liveBytes,
      bytesHeld: heap.bytesHeld,
      peakBytesHeld: heap.peakBytesHeld,
      chunks: heap.chunks,
      rejected: this.rejected,
      failures: this.failures,
      readyBlocks: this.prepared,
    };
  }

  /**
   * Gives all memory back, live blocks included, and empties the source's pool if it
   * keeps one (RetainingChunkSource.trim): only once nothing uses them (shutdown,
   * HostAllocator.dispose()).
   */
  releaseAll(): void {
    dropReadyBlocks(this); // no allocator on this policy may hand out a block released here
    this.heap.releaseAll();
    const trim = (this.source as { trim?: unknown }).trim;
    if (typeof trim === 'function') trim.call(this.source);
    this.liveBlocks = 0;
    this.liveBytes = 0;
    this.prepared = 0;
  }

  private resizeInPlace(rec: HeapChunk, offset: number, oldSize: number, size: number, address: number): number {
    rec.f64[(offset >> 3) - 1] = size;
    this.liveBytes += size - oldSize;
    return address;
  }

  /** Frees a block locate() accepted (index: its raw block's index in rec). */
  private release(rec: HeapChunk, offset: number, index: number, size: number): void {
    const w = offset >> 2;
    rec.i32[w - 4] = ~rec.i32[w - 4]; // a second free now fails the tag check
    this.liveBlocks--;
    this.liveBytes -= size;
    this.heap.freeBlock(rec, index); // may release rec: touch it before
  }

  /**
   * The chunk of a block this policy handed out and still holds (its aligned offset in
   * foundOffset, its raw block's index in foundIndex), or a RangeError. Reads only, so a
   * refused pointer changes nothing.
   */
  private locate(address: number, caller: string): HeapChunk {
    const rec = this.heap.chunkFor(address - HEADER_BYTES);
    let reason = 'not inside any chunk';
    if (rec !== null) {
      const offset = address - rec.base;
      reason = 'bad header tag';
      // Integer, in int32 range and 16-aligned (int ops: % on doubles is a slow fmod call).
      if (offset <= MAX_HEADER_OFFSET && (offset | 0) === offset && (offset & (HEADER_BYTES - 1)) === 0) {
        const w = offset >> 2;
        const word1 = rec.i32[w - 3];
        if (rec.i32[w - 4] === tagFor((rec.baseLo + offset) | 0, word1)) {
          const adjustment = word1 & ADJ_MASK;
          const size = rec.f64[(offset >> 3) - 1];
          const index = adjustment >= HEADER_BYTES ? this.heap.liveBlockIndex(rec, offset - adjustment) : -1;
          if (index >= 0 && adjustment + (size > 0 ? size : 1) <= rec.blockSize) {
            this.foundOffset = offset;
            this.foundIndex = index;
            return rec;
          }
          reason = 'header names no live block';
        }
      }
    }
    throw new RangeError(`AlignedHeaderPolicy.${caller}: ${hex(address)} was not allocated by this policy (${reason})`);
  }

  /** Like locate(), for a block prepare() made that is neither committed nor given back. */
  private locatePrepared(address: number, caller: string): HeapChunk {
    const rec = this.heap.chunkFor(address - HEADER_BYTES);
    if (rec !== null) {
      const offset = address - rec.base;
      if (offset <= MAX_HEADER_OFFSET && (offset | 0) === offset && (offset & (HEADER_BYTES - 1)) === 0 &&
        rec.i32[(offset >> 2) - 4] === preparedTag((rec.baseLo + offset) | 0)) {
        const index = this.heap.liveBlockIndex(rec, offset - HEADER_BYTES);
        if (index >= 0) {
          this.foundOffset = offset;
          this.foundIndex = index;
          return rec;
        }
      }
    }
    throw new RangeError(`AlignedHeaderPolicy.${caller}: ${hex(address)} is not a prepared block of this policy ` +
      '(never prepared, or already committed or given back)');
  }
}

/** Copies n bytes between 16-aligned chunk offsets, without allocating for small copies. */
function copyBytes(src: HeapChunk, from: number, dst: HeapChunk, to: number, n: number): void {
  if (src === dst) {
    src.u8.copyWithin(to, from, from + n);
  } else if (n <= LOOP_COPY_BYTES) {
    const words = n >> 2;
    const s = src.i32, d = dst.i32, s0 = from >> 2, d0 = to >> 2;
    for (let i = 0; i < words; i++) d[d0 + i] = s[s0 + i];
    for (let i = words << 2; i < n; i++) dst.u8[to + i] = src.u8[from + i];
  } else {
    dst.u8.set(src.u8.subarray(from, from + n), to);
  }
}
