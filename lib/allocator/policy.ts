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
   * HostAllocator.dispose() once no object created with it is alive. The policy may
   * be used again afterwards, starting empty.
   */
  releaseAll?(): void;
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
