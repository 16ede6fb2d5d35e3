// HostAllocator: the allocator you hand to Vulkan. It owns one genuine
// VkAllocationCallbacks (native/bridge/allocator_bridge.cc) whose callbacks call `policy`.
// dispose() gives the policy's memory back once no object uses it; a dropped
// allocator's goes after a garbage collection.
import { AlignedHeaderPolicy } from './aligned-header-policy';
import native, { Native } from '../native/binding';
import type { AllocatorPolicy } from './policy';
import { makeDispatcher } from './policy-dispatcher';
import { giveBackReadyBlocks, readyStockOf } from './ready-stock';
import { Trace } from '../trace/trace';
import { decodeTrace, nativeTraceOptions, RawTrace, TraceOptions } from '../trace/recorder';
import * as is from '../util/is';
import { describe } from '../util/is';
import { VIOLATION_NAMES } from '../native/boundary';

/**
 * Pass as the policy to serve every allocation with vkalloc's C++ aligned allocator:
 * no JS runs in callbacks, statistics stay exact.
 */
export const NATIVE_POLICY: unique symbol = Symbol('vkalloc.nativePolicy');

export type AllocatorStats = Native.NativeAllocatorStats;
export type ScopeStats = Native.NativeScopeStats;
export type CommandStats = Native.NativeCommandStats;
export type LiveBlock = Native.NativeLiveBlock;

const bridges = new WeakMap<HostAllocator, Native.AllocatorBridge>();
// Each bridge's dispatcher (and through it the policy), alive exactly as long as the
// bridge: the bridge only holds it weakly (native/bridge/allocator_bridge.cc SetDispatcher).
const dispatchers = new WeakMap<Native.AllocatorBridge, object>();
const disposed = new WeakSet<HostAllocator>();
// The policy behind each bridge: dispose() frees a policy's memory only when no
// allocator on it has live objects. (No WeakRefs here: each one keeps its target
// alive to the end of the current job, which a synchronous loop never reaches.)
const policies = new WeakMap<Native.AllocatorBridge, AllocatorPolicy>();
const disposeSymbol: typeof Symbol.dispose = Symbol.dispose ?? Symbol.for('nodejs.dispose');

export type ViolationKind = (typeof VIOLATION_NAMES)[number];

/** A breach of the allocation-callback contract by the driver (docs/contract-checks.md). */
export interface Violation {
  kind: ViolationKind;
  /** The command running on the JS thread when it happened ('none' if none). */
  command: string;
  /** The object it concerns, e.g. 'Buffer#12' (leaks at destroy), or null. */
  object: string | null;
  /** 'js', or 'other' for a driver thread. */
  thread: 'js' | 'other';
  address: number;
  size: number;
  detail: string;
}

export interface HostAllocatorOptions {
  /**
   * Contract checks: check every callback against the spec's rules and record
   * violations (allocator.violations()). { throw: true } also throws an
   * AllocationViolationError once the command that caused them returns (a created
   * object is kept: it is destroyed with its parent). docs/contract-checks.md.
   */
  checkContract?: boolean | { throw?: boolean };
  /** @deprecated the old name of checkContract (kept for one release). */
  validation?: boolean | { throw?: boolean };
}

export class HostAllocator {
  /** The policy every JS-thread callback calls; null for NATIVE_POLICY. */
  readonly policy: AllocatorPolicy | null;

  constructor(policy: AllocatorPolicy | typeof NATIVE_POLICY = new AlignedHeaderPolicy(), options?: HostAllocatorOptions) {
    const o = is.options(options, 'options', ['checkContract', 'validation'] as const);
    if (o.checkContract !== undefined && o.validation !== undefined) {
      throw new TypeError('Expected one of options.checkContract and its deprecated alias options.validation but received both');
    }
    const [checkName, check] = o.validation !== undefined ? ['validation', o.validation] : ['checkContract', o.checkContract];
    let bridge: Native.AllocatorBridge;
    if (policy === NATIVE_POLICY) {
      this.policy = null;
      bridge = new native.AllocatorBridge('native');
    } else {
      checkPolicy(policy);
      const stock = readyStockOf(policy);
      this.policy = policy;
      bridge = new native.AllocatorBridge('js');
      const dispatcher = makeDispatcher(policy, bridge.io!, stock);
      dispatchers.set(bridge, dispatcher);
      bridge.setDispatcher(dispatcher, typeof policy.reallocate === 'function');
      if (stock !== null) bridge.setReadyClasses(stock.buffer, stock.sizes, stock.maxAlignment);
    }
    if (check !== undefined && check !== false) {
      if (check === true) bridge.enableContractChecks(false);
      else bridge.enableContractChecks(is.boolean(is.options(check, checkName, ['throw'] as const).throw ?? false, `${checkName}.throw`));
    }
    bridges.set(this, bridge);
    if (this.policy !== null) policies.set(bridge, this.policy);
  }

  /** True once dispose() has run: the allocator can create no more objects. */
  get disposed(): boolean {
    bridgeOf(this);
    return disposed.has(this);
  }

  /**
   * Gives back the memory its policy holds (its ready blocks, then the policy's
   * releaseAll(): for AlignedHeaderPolicy, every chunk, the pool's included) now,
   * rather than after a garbage collection finds the allocator dropped. Refused while
   * objects created with it (or with another allocator on the same policy) are alive,
   * and from inside a Vulkan command. Idempotent; afterwards the allocator can no
   * longer be passed as `{ allocator }`, while stats() still answers.
   */
  dispose(): void {
    const bridge = bridgeOf(this);
    if (disposed.has(this)) return;
    const command = native.currentCommand();
    if (command !== null) throw new Error(`Cannot dispose a HostAllocator during a Vulkan command (${command} is running)`);
    const policy = this.policy;
    const objects = native.liveObjects();
    const alive = objects.filter((o) => o.allocator === bridge);
    if (alive.length > 0) {
      throw new Error(`Cannot dispose a HostAllocator while objects created with it are alive: ${listed(alive)}; destroy them first`);
    }
    const shared = policy === null ? [] : objects.filter((o) => o.allocator !== null && policies.get(o.allocator) === policy);
    if (shared.length > 0) {
      throw new Error('Cannot dispose a HostAllocator while objects created with another HostAllocator on the same ' +
        `policy are alive: ${listed(shared)}; destroy them first`);
    }
    bridge.drain();  // taken ready blocks and deferred frees reach the policy before its memory goes
    if (policy !== null) giveBackReadyBlocks(policy);  // no allocator on it may hand them out now
    bridge.releaseCache();  // native blocks kept for reuse (NATIVE_POLICY) go back to malloc
    disposed.add(this);
    policy?.releaseAll?.();
  }

  [disposeSymbol](): void {
    this.dispose();
  }

  /** The contract violations recorded so far (checkContract on); `take` empties the list. */
  violations(take = false): Violation[] {
    return bridgeOf(this).violations(is.boolean(take, 'take')) as Violation[];
  }

  /**
   * Exact figures from the bridge's own record of live blocks, independent of the
   * policy. Ready blocks taken and frees still deferred or queued are handed to the
   * policy first.
   */
  stats(): AllocatorStats {
    const bridge = bridgeOf(this);
    bridge.drain();
    return bridge.stats();
  }

  /** Blocks the driver holds now, by address. */
  liveBlocks(): LiveBlock[] {
    return bridgeOf(this).liveBlocks();
  }

  /** Peaks and the per-command table start again from now; live figures stay. */
  resetCounters(): void {
    bridgeOf(this).resetCounters();
  }

  /**
   * Starts recording every callback (and the commands and objects around them) into
   * a native buffer; stopTrace() returns it. One trace at a time per allocator.
   */
  startTrace(options?: TraceOptions): void {
    bridgeOf(this).startTrace(nativeTraceOptions(options));
  }

  /** Stops the running trace and returns it (frees deferred until now are included). */
  stopTrace(meta: Record<string, string | number> = {}): Trace {
    const raw = bridgeOf(this).stopTrace() as RawTrace;
    return new Trace(decodeTrace(raw, {
      policy: this.policy === null ? 'NATIVE_POLICY' : this.policy.constructor?.name ?? 'policy',
      pid: process.pid,
      date: new Date().toISOString(),
      ...meta,
    }));
  }

  /**
   * The last exception a policy call threw (a thrown non-Error comes wrapped in an
   * Error naming the call), or the error describing an unusable result.
   */
  get lastPolicyError(): unknown {
    return bridgeOf(this).lastPolicyError;
  }
}

/** @internal The native bridge of an allocator (tests and sibling modules only). */
export function bridgeOf(allocator: HostAllocator): Native.AllocatorBridge {
  const bridge = bridges.get(allocator);
  if (!bridge) throw new TypeError('Illegal invocation');
  return bridge;
}

/** The native bridge behind an `{ allocator }` option (undefined/null: the driver's own). */
export function allocatorOption(options: unknown, name: string): { allocator: HostAllocator | null; bridge: Native.AllocatorBridge | null } {
  if (options === undefined) return { allocator: null, bridge: null };
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`Expected an options object like { allocator } for ${name} but received ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (key !== 'allocator') throw new TypeError(`Unknown option ${name}.${key}: expected allocator`);
  }
  const allocator = (options as { allocator?: unknown }).allocator;
  if (allocator === undefined || allocator === null) return { allocator: null, bridge: null };
  if (!(allocator instanceof HostAllocator)) {
    throw new TypeError(`Expected a HostAllocator for ${name}.allocator but received ${describe(allocator)}`);
  }
  if (disposed.has(allocator)) {
    throw new TypeError(`Expected a HostAllocator that is not disposed for ${name}.allocator but received a disposed one`);
  }
  return { allocator, bridge: bridgeOf(allocator) };
}

function listed(objects: { name: string }[]): string {
  const names = objects.map((o) => o.name);
  return names.length <= 5 ? names.join(', ') : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`;
}

function checkPolicy(policy: unknown): asserts policy is AllocatorPolicy {
  if (policy === null || typeof policy !== 'object') {
    throw new TypeError(`Expected an allocator policy object for policy but received ${describe(policy)}`);
  }
  const p = policy as Record<string, unknown>;
  for (const name of ['allocate', 'free']) {
    if (typeof p[name] !== 'function') {
      throw new TypeError(`Expected a function for policy.${name} but received ${describe(p[name])}`);
    }
  }
  for (const name of ['reallocate', 'internalAllocation', 'internalFree', 'releaseAll', 'prepare', 'commit', 'giveBack']) {
    if (p[name] !== undefined && typeof p[name] !== 'function') {
      throw new TypeError(`Expected a function or undefined for policy.${name} but received ${describe(p[name])}`);
    }
  }
}
