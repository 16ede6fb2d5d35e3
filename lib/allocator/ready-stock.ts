// Ready blocks (docs/policies.md#ready-blocks): blocks a policy with readyClasses has
// prepared ahead, per size class, in a Float64Array shared with C++ (the stock; layout:
// native/bridge/allocator_bridge.h, io::kReady*). The bridge takes from it on the JS
// thread with no call into JS; the dispatcher refills it at each call it gets. One
// stock per policy, shared by every HostAllocator on it, so that dispose() can give it
// back whole before the policy's memory goes.
//
// How much is kept: a class starts with none, and its target doubles (from 2) each time
// a request that fits it finds none ready, up to CAPACITY (64) blocks and STOCK_BYTES of
// class bound: the classes a driver uses get stock, the others hold nothing.
import native from '../native/binding';
import type { AllocatorPolicy, ReadyClasses } from './policy';
import { threw } from './policy-dispatcher';
import * as is from '../util/is';

const { readyClassLimit: CLASS_LIMIT, readyCapacity: CAPACITY, readyStride: STRIDE } = native.boundary.io;
/**
 * Bytes of ready blocks one class may keep at most (but 2 blocks at least): half a 4 KiB
 * slab. With 4 KiB, a class whose whole stock was taken and freed between two calls
 * emptied two slabs at once: one went back to the source and came again at the refill
 * (measured with the pair loop of bench/run.js: 630 slabs per 100k pairs; none with 2 or 3 KiB).
 */
const STOCK_BYTES = 2048;
const MAX_ALIGNMENT = 65536;
const ADDRESS_LIMIT = 2 ** 53;

/** A policy that prepares blocks: the three methods are there (checked at construction). */
type ReadyPolicy = AllocatorPolicy & Required<Pick<AllocatorPolicy, 'prepare' | 'commit' | 'giveBack'>>;

export class ReadyStock {
  /** The stock's memory: per class, its count of ready blocks, then their addresses. */
  readonly buffer: ArrayBuffer;
  readonly sizes: number[];
  readonly maxAlignment: number;
  private readonly slots: Float64Array;
  private readonly target: Int32Array;
  private readonly limit: Int32Array;

  constructor(private readonly policy: ReadyPolicy, classes: ReadyClasses) {
    const c = is.options(classes, 'policy.readyClasses', ['sizes', 'maxAlignment'] as const);
    const sizes = c.sizes;
    if (!Array.isArray(sizes)) is.fail('type', 'an array of class bounds', 'policy.readyClasses.sizes', sizes);
    if (sizes.length === 0 || sizes.length > CLASS_LIMIT) {
      is.fail('range', `1 to ${CLASS_LIMIT} class bounds`, 'policy.readyClasses.sizes', sizes);
    }
    sizes.forEach((size, k) => is.integer(size, `policy.readyClasses.sizes[${k}]`, k === 0 ? 0 : sizes[k - 1] + 1));
    const maxAlignment = c.maxAlignment;
    if (!(typeof maxAlignment === 'number' && Number.isInteger(maxAlignment) && maxAlignment >= 1 &&
      maxAlignment <= MAX_ALIGNMENT && (maxAlignment & (maxAlignment - 1)) === 0)) {
      is.fail(typeof maxAlignment === 'number' ? 'range' : 'type', `a power of two from 1 to ${MAX_ALIGNMENT}`,
        'policy.readyClasses.maxAlignment', maxAlignment);
    }
    this.sizes = [...sizes as number[]];
    this.maxAlignment = maxAlignment;
    this.buffer = new ArrayBuffer(this.sizes.length * STRIDE * 8);
    this.slots = new Float64Array(this.buffer);
    this.target = new Int32Array(this.sizes.length);
    this.limit = Int32Array.from(this.sizes, (s) => Math.min(CAPACITY, Math.max(2, Math.floor(STOCK_BYTES / Math.max(s, 16)))));
  }

  /** A request of `size` bytes went to allocate(): if it fits a class with none ready, that class keeps more. */
  missed(size: number, alignment: number): void {
    const sizes = this.sizes;
    if (alignment > this.maxAlignment || !(size <= sizes[sizes.length - 1])) return;
    let k = 0;
    while (sizes[k] < size) k++;
    if (this.slots[k * STRIDE] === 0) this.target[k] = Math.min(this.limit[k], Math.max(2, this.target[k] * 2));
  }

  /** Tops every class up to its target; a policy's exception or bad result goes to `errors`. */
  refill(errors: unknown[]): void {
    const slots = this.slots, target = this.target, policy = this.policy;
    for (let k = 0, at = 0; k < target.length; k++, at += STRIDE) {
      let count = slots[at];
      const want = target[k];
      while (count < want) {
        let address: unknown;
        try {
          address = policy.prepare(k);
        } catch (e) {
          errors.push(this.disable(k, threw(e, `prepare(${k})`)));
          break;
        }
        if (address === 0) break;  // none now: perhaps at the next call
        if (!(typeof address === 'number' && address > 0 && address < ADDRESS_LIMIT && Number.isInteger(address / this.maxAlignment))) {
          errors.push(this.disable(k, new TypeError(`Allocator policy prepare(${k}) returned ${is.describe(address)}: ` +
            `expected 0 or an address aligned to ${this.maxAlignment}`)));
          break;
        }
        slots[at + 1 + count++] = address;
      }
      slots[at] = count;
    }
  }

  /** Gives every ready block back to the policy; throws the first exception, once all were tried. */
  giveBackAll(): void {
    let first: unknown = null;
    for (let k = 0, at = 0; k < this.sizes.length; k++, at += STRIDE) {
      const count = this.slots[at];
      this.slots[at] = 0;
      for (let i = 1; i <= count; i++) {
        try {
          this.policy.giveBack(this.slots[at + i]);
        } catch (e) {
          first ??= e;
        }
      }
    }
    if (first !== null) throw first;
  }

  /** Forgets every ready block, unreturned: for a policy releasing all its memory. */
  drop(): void {
    for (let at = 0; at < this.slots.length; at += STRIDE) this.slots[at] = 0;
  }

  /** A class whose prepare() failed is not refilled again: its error is recorded once. */
  private disable(k: number, error: unknown): unknown {
    this.limit[k] = 0;
    this.target[k] = 0;
    return error;
  }
}

const stocks = new WeakMap<AllocatorPolicy, ReadyStock>();

/** The stock of a policy with readyClasses (made, and its classes checked, on first use); null without. */
export function readyStockOf(policy: AllocatorPolicy): ReadyStock | null {
  const known = stocks.get(policy);
  if (known !== undefined) return known;
  const classes = policy.readyClasses;
  if (classes === undefined || classes === null) return null;
  for (const name of ['prepare', 'commit', 'giveBack'] as const) {
    if (typeof policy[name] !== 'function') {
      is.fail('type', 'a function (the policy has readyClasses)', `policy.${name}`, policy[name]);
    }
  }
  const stock = new ReadyStock(policy as ReadyPolicy, classes);
  stocks.set(policy, stock);
  return stock;
}

/** Gives the policy's ready blocks back to it (HostAllocator.dispose()). */
export function giveBackReadyBlocks(policy: AllocatorPolicy): void {
  stocks.get(policy)?.giveBackAll();
}

/**
 * Forgets the policy's ready blocks without returning them: for a policy's releaseAll(),
 * so that no bridge hands out a block of memory it gave back.
 */
export function dropReadyBlocks(policy: AllocatorPolicy): void {
  stocks.get(policy)?.drop();
}
