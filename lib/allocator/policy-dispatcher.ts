// The one JS function the native bridge calls (native/allocator_bridge.h): it reads
// the operation and its arguments from a Float64Array shared with C++, so a callback
// costs one crossing and creates no JS values, and it hands the frees the bridge
// deferred to the policy before anything else.
import native from '../native/binding';
import type { AllocationScope, AllocatorPolicy } from './policy';
import { ALLOCATION_SCOPES } from './policy';

// The array's layout, as the addon defines it (native/bridge/allocator_bridge.h, io).
const { op: OP, size: SIZE, alignment: ALIGNMENT, scope: SCOPE, address: ADDRESS, freeCount: FREE_COUNT,
  errorCount: ERROR_COUNT, freesStart: FREES_START } = native.boundary.io;
const { allocate: ALLOCATE, reallocate: REALLOCATE, internalAllocate: INTERNAL_ALLOCATE, internalFree: INTERNAL_FREE } =
  native.boundary.ops;

export interface Dispatcher {
  (): number;
  /** free() exceptions, collected here (a free has no result to fail with) for the bridge to record. */
  errors: unknown[];
}

export function makeDispatcher(policy: AllocatorPolicy, io: Float64Array): Dispatcher {
  const scopes: readonly AllocationScope[] = ALLOCATION_SCOPES;
  const errors: unknown[] = [];

  function freeDeferred(): void {
    const count = io[FREE_COUNT];
    for (let i = 0; i < count; i++) {
      try {
        policy.free(io[FREES_START + i]);
      } catch (e) {
        errors.push(e);
      }
    }
    io[FREE_COUNT] = 0;
    if (errors.length > 0) io[ERROR_COUNT] = errors.length;
  }

  const dispatch = function dispatch(): number {
    if (io[FREE_COUNT] > 0) freeDeferred();
    switch (io[OP]) {
      case ALLOCATE:
        return policy.allocate(io[SIZE], io[ALIGNMENT], scopes[io[SCOPE]]);
      case REALLOCATE:  // only sent when the policy has reallocate (else the bridge allocates, copies, frees)
        return policy.reallocate!(io[ADDRESS], io[SIZE], io[ALIGNMENT], scopes[io[SCOPE]]);
      case INTERNAL_ALLOCATE:
        policy.internalAllocation?.(io[SIZE], 'executable', scopes[io[SCOPE]]);
        return 0;
      case INTERNAL_FREE:
        policy.internalFree?.(io[SIZE], 'executable', scopes[io[SCOPE]]);
        return 0;
      default:  // FLUSH: the frees above were all there was to do
        return 0;
    }
  } as Dispatcher;
  dispatch.errors = errors;
  return dispatch;
}
