// Small policies for tests, wrapping the real AlignedHeaderPolicy on native chunks.
import { AlignedHeaderPolicy } from '../../lib/allocator/aligned-header-policy';
import { ForwardingPolicy } from '../../lib/allocator/composed-policies';
import '../../lib/allocator/native-chunk-source';
import type { AllocationScope } from '../../lib/allocator/policy';

/** Throws `error` from allocate() on the `nth` call (1-based), and on every call after if `sticky`. */
export class ThrowingPolicy extends ForwardingPolicy {
  calls = 0;
  constructor(readonly nth: number, readonly error: unknown = new Error('policy refused on purpose')) {
    super(new AlignedHeaderPolicy());
  }
  override allocate(size: number, alignment: number, scope: AllocationScope): number {
    if (++this.calls === this.nth) throw this.error;
    return super.allocate(size, alignment, scope);
  }
}

/** Returns `bad` instead of an address on the `nth` allocate() call. */
export class BadResultPolicy extends ForwardingPolicy {
  calls = 0;
  constructor(readonly nth: number, readonly bad: (good: number) => unknown) {
    super(new AlignedHeaderPolicy());
  }
  override allocate(size: number, alignment: number, scope: AllocationScope): number {
    const address = super.allocate(size, alignment, scope);
    if (++this.calls !== this.nth) return address;
    super.free(address);
    return this.bad(address) as number;
  }
}

/** allocate/free only (no reallocate), failing every allocate while `failing` is set. */
export class SwitchablePolicy {
  failing = false;
  readonly inner = new AlignedHeaderPolicy();
  allocate(size: number, alignment: number, scope: AllocationScope): number {
    return this.failing ? 0 : this.inner.allocate(size, alignment, scope);
  }
  free(address: number): void {
    this.inner.free(address);
  }
}
