// Fault injection: a policy that wraps any other and refuses chosen allocations, as
// the Vulkan CTS's alloc_callback_fail tests do. Reallocations count as allocations.
import { ForwardingPolicy } from '../allocator/composed-policies';
import native from '../native/binding';
import type { AllocationScope, AllocatorPolicy } from '../allocator/policy';
import * as is from '../util/is';

export interface AllocationRequest {
  /** 0-based index of this allocation request among those the policy has seen. */
  index: number;
  size: number;
  alignment: number;
  scope: AllocationScope;
  /** The Vulkan command running ('none' outside any). */
  command: string;
}

export interface FailurePlan {
  /** Fail exactly request number `nth` (0-based). */
  nth?: number;
  /** Fail every request from number `from` on (the CTS's procedure). */
  from?: number;
  /** Fail every `every`-th request (1 fails all). */
  every?: number;
  /** Fail each request with this probability, from a seeded generator (seed default 1). */
  probability?: number;
  seed?: number;
  /** Fail when this returns true. */
  when?: (request: AllocationRequest) => boolean;
}

export class FailingPolicy extends ForwardingPolicy {
  /** Requests seen (allocations and reallocations). */
  requests = 0;
  /** Requests refused. */
  failures = 0;
  readonly #plan: Required<Pick<FailurePlan, 'nth' | 'from' | 'every' | 'probability'>> & { when?: FailurePlan['when'] };
  #random: number;

  constructor(inner: AllocatorPolicy, plan: FailurePlan) {
    super(inner);
    const p = is.options(plan, 'plan', ['nth', 'from', 'every', 'probability', 'seed', 'when'] as const);
    if (p.when !== undefined && typeof p.when !== 'function') is.fail('type', 'a function', 'plan.when', p.when);
    if (p.probability !== undefined && (typeof p.probability !== 'number' || !(p.probability >= 0 && p.probability <= 1))) {
      is.fail(typeof p.probability === 'number' ? 'range' : 'type', 'a number from 0 to 1', 'plan.probability', p.probability);
    }
    this.#plan = {
      nth: p.nth === undefined ? -1 : is.nonNegativeInteger(p.nth, 'plan.nth'),
      from: p.from === undefined ? -1 : is.nonNegativeInteger(p.from, 'plan.from'),
      every: p.every === undefined ? 0 : is.positiveInteger(p.every, 'plan.every'),
      probability: (p.probability as number | undefined) ?? 0,
      when: p.when as FailurePlan['when'],
    };
    this.#random = (p.seed === undefined ? 1 : is.uint32(p.seed, 'plan.seed')) || 1;
  }

  override allocate(size: number, alignment: number, scope: AllocationScope): number {
    return this.#refuse(size, alignment, scope) ? 0 : super.allocate(size, alignment, scope);
  }

  protected override onReallocate(address: number, size: number, alignment: number, scope: AllocationScope): number {
    return this.#refuse(size, alignment, scope) ? 0 : super.onReallocate(address, size, alignment, scope);
  }

  #refuse(size: number, alignment: number, scope: AllocationScope): boolean {
    const index = this.requests++;
    const plan = this.#plan;
    let refuse = index === plan.nth || (plan.from >= 0 && index >= plan.from) ||
      (plan.every > 0 && (index + 1) % plan.every === 0) || (plan.probability > 0 && this.#next() < plan.probability);
    if (!refuse && plan.when) {
      refuse = plan.when({ index, size, alignment, scope, command: native.currentCommand() ?? 'none' });
    }
    if (refuse) this.failures++;
    return refuse;
  }

  // xorshift32: deterministic for a seed, cheap.
  #next(): number {
    let x = this.#random;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#random = x >>> 0;
    return this.#random / 4294967296;
  }
}
