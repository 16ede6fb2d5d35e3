// The allocator policy contract: what HostAllocator calls for each Vulkan
// allocation callback that arrives on the JS thread. Addresses are plain numbers
// (exact below 2^53, which covers every user-space address on 64-bit Linux).

import type { ScopeName } from '../native/boundary';
import { SCOPE_NAMES } from '../native/boundary';

export type AllocationScope = ScopeName;

/** Vulkan's VkSystemAllocationScope values, in enum order. */
export const ALLOCATION_SCOPES: readonly AllocationScope[] = SCOPE_NAMES;

export type InternalAllocationType = 'executable';

export interface AllocatorPolicy {
  /**
   * Returns, synchronously, an address below 2^53 aligned to `alignment` with `size`
   * usable bytes that no live block overlaps, or 0 on failure.
   */
  allocate(size: number, alignment: number, scope: AllocationScope): number;
  /**
   * Optional. Resizes the block at `address` (never 0; size never 0: the bridge turns
   * those cases into allocate/free). Returns the new address or 0; on 0 the old block
   * must stay valid and unchanged. Without it, the bridge allocates, copies and frees.
   */
  reallocate?(address: number, size: number, alignment: number, scope: AllocationScope): number;
  /** Frees a block this policy returned (never 0). */
  free(address: number): void;
  /** Optional notifications of memory the driver allocated itself (e.g. executable code). */
  internalAllocation?(size: number, type: InternalAllocationType, scope: AllocationScope): void;
  internalFree?(size: number, type: InternalAllocationType, scope: AllocationScope): void;
  /**
   * Optional. Gives back every byte the policy holds, live blocks included: called by
   * HostAllocator.dispose() once no object created with it is alive (and after the
   * ready blocks came back). The policy may be used again afterwards, starting empty.
   */
  releaseAll?(): void;

  // ---- Ready blocks: optional, all four members or none (docs/policies.md#ready-blocks).
  // Most allocations then cost no call into JS: the bridge hands out a block the policy
  // prepared earlier, and the policy learns which request it served a little later.

  /**
   * The size classes this policy prepares blocks for; null or absent (the default):
   * none, every allocation is an allocate() call. Read once, when a HostAllocator is
   * made on the policy.
   */
  readonly readyClasses?: ReadyClasses | null;
  /**
   * Prepares a block for class `sizeClass` (an index into readyClasses.sizes): returns
   * its address, a multiple of readyClasses.maxAlignment with at least sizes[sizeClass]
   * usable bytes (1 for a bound of 0) that overlaps no other block, or 0 when none can be
   * had now. Until commit() it is not live: it counts in no live figure of the policy.
   */
  prepare?(sizeClass: number): number;
  /**
   * The driver got the prepared block at `address` for allocate(size, alignment, scope)
   * (size within the block's class bound, alignment at most maxAlignment): from now on it
   * is live exactly as if allocate() had returned it (free, reallocate, the policy's own
   * statistics). Commits come in the order the driver allocated, before any free or
   * reallocate of the block, at the latest at the end of the Vulkan command.
   */
  commit?(address: number, size: number, alignment: number, scope: AllocationScope): void;
  /** A prepared block comes back unused (HostAllocator.dispose(), or the bridge refused it). */
  giveBack?(address: number): void;
}

/** The size classes of a policy's ready blocks (AllocatorPolicy.readyClasses). */
export interface ReadyClasses {
  /**
   * Usable-size bound of each class: ascending non-negative integers, 1 to 32 of them.
   * A request of `size` bytes is served from the first class whose bound is >= size.
   */
  readonly sizes: readonly number[];
  /**
   * Requests aligned to at most this (a power of two up to 65536) are served from the
   * classes; others, and those larger than the last bound, call allocate().
   */
  readonly maxAlignment: number;
}

/** A chunk of memory that never moves and is never collected while held. */
export interface MemoryChunk {
  /** Address of the first byte (16-byte aligned). */
  readonly address: number;
  /** The chunk's bytes. Detached (byteLength 0) once released. */
  readonly buffer: ArrayBuffer;
}

/** Where a policy gets its raw memory from. */
export interface ChunkSource {
  /** `size` bytes of stable memory, or null when none can be had. */
  obtain(size: number): MemoryChunk | null;
  /** Gives a chunk back; its buffer is detached and must not be used again. */
  release(chunk: MemoryChunk): void;
}
