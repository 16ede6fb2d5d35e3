// The one JS function the native bridge calls (native/bridge/allocator_bridge.h): it reads
// the operation and its arguments from a Float64Array shared with C++, so a callback
// costs one crossing and creates no JS values. Before the operation it commits the
// ready blocks the bridge took since the last call, in order, then hands over the frees
// the bridge deferred (a block may be taken and freed in one batch: commits first);
// after it, it refills the policy's ready stock (lib/allocator/ready-stock.ts).
// It also says what went wrong in JS terms, where the values are: a result that is
// not a number (a Promise: the policy is async) becomes a TypeError, and a thrown
// value that is not an Error is wrapped in one naming the call (its `cause` is the
// value). The bridge records either as the policy's error; it checks numbers itself.
import native from '../native/binding';
import type { AllocationScope, AllocatorPolicy } from './policy';
import { ALLOCATION_SCOPES } from './policy';
import type { ReadyStock } from './ready-stock';
import { describe } from '../util/is';

// The array's layout, as the addon defines it (native/bridge/allocator_bridge.h, io).
const { op: OP, size: SIZE, alignment: ALIGNMENT, scope: SCOPE, address: ADDRESS, freeCount: FREE_COUNT,
  errorCount: ERROR_COUNT, freesStart: FREES_START, takenCount: TAKEN_COUNT, takenStart: TAKEN_START,
  takenFields: TAKEN_FIELDS } = native.boundary.io;
const { allocate: ALLOCATE, reallocate: REALLOCATE, internalAllocate: INTERNAL_ALLOCATE, internalFree: INTERNAL_FREE } =
  native.boundary.ops;

export interface Dispatcher {
  (): number;
  /** free() exceptions, collected here (a free has no result to fail with) for the bridge to record. */
  errors: unknown[];
}

/** `stock`: the policy's ready stock (its readyClasses), or null for a policy without. */
export function makeDispatcher(policy: AllocatorPolicy, io: Float64Array, stock: ReadyStock | null): Dispatcher {
  const scopes: readonly AllocationScope[] = ALLOCATION_SCOPES;
  const errors: unknown[] = [];
  const call = (method: string) => `${method}(${io[SIZE]}, ${io[ALIGNMENT]})`;

  // Each entry: address, size, alignment, scope (-1: refused by the bridge, unused).
  function commitTaken(): void {
    const count = io[TAKEN_COUNT];
    for (let i = 0, at = TAKEN_START; i < count; i++, at += TAKEN_FIELDS) {
      const address = io[at];
      const scope = io[at + 3];
      try {
        if (scope < 0) policy.giveBack!(address);
        else policy.commit!(address, io[at + 1], io[at + 2], scopes[scope]);
      } catch (e) {
        errors.push(threw(e, scope < 0 ? `giveBack(${address})` : `commit(${address}, ${io[at + 1]}, ${io[at + 2]})`));
      }
    }
    io[TAKEN_COUNT] = 0;
    if (errors.length > 0) io[ERROR_COUNT] = errors.length;
  }

  function restock(ready: ReadyStock, op: number): void {
    if (op === ALLOCATE) ready.missed(io[SIZE], io[ALIGNMENT]);
    ready.refill(errors);
    if (errors.length > 0) io[ERROR_COUNT] = errors.length;
  }

  function freeDeferred(): void {
    const count = io[FREE_COUNT];
    for (let i = 0; i < count; i++) {
      try {
        policy.free(io[FREES_START + i]);
      } catch (e) {
        errors.push(threw(e, `free(${io[FREES_START + i]})`));
      }
    }
    io[FREE_COUNT] = 0;
    if (errors.length > 0) io[ERROR_COUNT] = errors.length;
  }

  function address(result: unknown, method: string): number {
    if (typeof result === 'number') return result;
    const what = `Allocator policy ${call(method)} returned`;
    if (isThenable(result)) {
      // The driver gets NULL now; what the promise does later cannot matter, and a
      // rejection must not become an unhandled one (which ends the process).
      Promise.resolve(result).catch(() => {});
      throw new TypeError(`${what} a Promise: policies must be synchronous (return the address, or 0 on failure)`);
    }
    throw new TypeError(`${what} ${describe(result)}: expected 0 (failure) or an address aligned to ${io[ALIGNMENT]}`);
  }

  const dispatch = function dispatch(): number {
    if (io[TAKEN_COUNT] > 0) commitTaken();
    if (io[FREE_COUNT] > 0) freeDeferred();
    const op = io[OP];
    try {
      switch (op) {
        case ALLOCATE:
          return address(policy.allocate(io[SIZE], io[ALIGNMENT], scopes[io[SCOPE]]), 'allocate');
        case REALLOCATE:  // only sent when the policy has reallocate (else the bridge allocates, copies, frees)
          return address(policy.reallocate!(io[ADDRESS], io[SIZE], io[ALIGNMENT], scopes[io[SCOPE]]), 'reallocate');
        case INTERNAL_ALLOCATE:
          policy.internalAllocation?.(io[SIZE], 'executable', scopes[io[SCOPE]]);
          return 0;
        case INTERNAL_FREE:
          policy.internalFree?.(io[SIZE], 'executable', scopes[io[SCOPE]]);
          return 0;
        default:  // FLUSH: the frees above were all there was to do
          return 0;
      }
    } catch (e) {
      throw threw(e, op === ALLOCATE ? call('allocate') : op === REALLOCATE ? call('reallocate')
        : `${op === INTERNAL_ALLOCATE ? 'internalAllocation' : 'internalFree'}(${io[SIZE]})`);
    } finally {
      if (stock !== null) restock(stock, op);
    }
  } as Dispatcher;
  dispatch.errors = errors;
  return dispatch;
}

/** An Error (from any realm) as is; anything else thrown wrapped in one that names the call. */
export function threw(value: unknown, call: string): unknown {
  if (value instanceof Error || Object.prototype.toString.call(value) === '[object Error]') return value;
  return new Error(`Allocator policy ${call} threw ${describe(value)}`, { cause: value });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null &&
    typeof (value as { then?: unknown }).then === 'function';
}
