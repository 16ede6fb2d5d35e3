// Policies that wrap another policy: they see every call and pass it on.
import type { AllocationScope, AllocatorPolicy, InternalAllocationType } from './policy';

/** Base for wrappers: forwards everything to `inner`, including the optional methods it has. */
export class ForwardingPolicy implements AllocatorPolicy {
  reallocate?: (address: number, size: number, alignment: number, scope: AllocationScope) => number;

  constructor(readonly inner: AllocatorPolicy) {
    // Offer reallocate only when the inner policy has it, so the bridge's own
    // allocate-copy-free path still runs for policies without it.
    if (inner.reallocate) this.reallocate = (a, s, al, sc) => this.onReallocate(a, s, al, sc);
  }
  allocate(size: number, alignment: number, scope: AllocationScope): number {
    return this.inner.allocate(size, alignment, scope);
  }
  protected onReallocate(address: number, size: number, alignment: number, scope: AllocationScope): number {
    return this.inner.reallocate!(address, size, alignment, scope);
  }
  free(address: number): void {
    this.inner.free(address);
  }
  internalAllocation(size: number, type: InternalAllocationType, scope: AllocationScope): void {
    this.inner.internalAllocation?.(size, type, scope);
  }
  internalFree(size: number, type: InternalAllocationType, scope: AllocationScope): void {
    this.inner.internalFree?.(size, type, scope);
  }
  releaseAll(): void {
    this.inner.releaseAll?.();
  }
}

export interface PolicyCounts {
  allocate: number;
  reallocate: number;
  free: number;
  failed: number;
  internalAllocation: number;
  internalFree: number;
  byScope: Record<AllocationScope, number>;
}

/** Counts the calls it forwards, by kind and by scope. */
export class CountingPolicy extends ForwardingPolicy {
  readonly counts: PolicyCounts = {
    allocate: 0, reallocate: 0, free: 0, failed: 0, internalAllocation: 0, internalFree: 0,
    byScope: { command: 0, object: 0, cache: 0, device: 0, instance: 0 },
  };
  override allocate(size: number, alignment: number, scope: AllocationScope): number {
    this.counts.allocate++;
    this.counts.byScope[scope]++;
    const address = super.allocate(size, alignment, scope);
    if (address === 0) this.counts.failed++;
    return address;
  }
  protected override onReallocate(address: number, size: number, alignment: number, scope: AllocationScope): number {
    this.counts.reallocate++;
    const result = super.onReallocate(address, size, alignment, scope);
    if (result === 0) this.counts.failed++;
    return result;
  }
  override free(address: number): void {
    this.counts.free++;
    super.free(address);
  }
  override internalAllocation(size: number, type: InternalAllocationType, scope: AllocationScope): void {
    this.counts.internalAllocation++;
    super.internalAllocation(size, type, scope);
  }
  override internalFree(size: number, type: InternalAllocationType, scope: AllocationScope): void {
    this.counts.internalFree++;
    super.internalFree(size, type, scope);
  }
}

export type PolicyLogEntry =
  | { kind: 'allocate'; size: number; alignment: number; scope: AllocationScope; result: number }
  | { kind: 'reallocate'; address: number; size: number; alignment: number; scope: AllocationScope; result: number }
  | { kind: 'free'; address: number };

/** Hands each call, with its result, to `log` (e.g. entries => array.push(entries)). */
export class LoggingPolicy extends ForwardingPolicy {
  constructor(inner: AllocatorPolicy, private readonly log: (entry: PolicyLogEntry) => void) {
    super(inner);
  }
  override allocate(size: number, alignment: number, scope: AllocationScope): number {
    const result = super.allocate(size, alignment, scope);
    this.log({ kind: 'allocate', size, alignment, scope, result });
    return result;
  }
  protected override onReallocate(address: number, size: number, alignment: number, scope: AllocationScope): number {
    const result = super.onReallocate(address, size, alignment, scope);
    this.log({ kind: 'reallocate', address, size, alignment, scope, result });
    return result;
  }
  override free(address: number): void {
    super.free(address);
    this.log({ kind: 'free', address });
  }
}
