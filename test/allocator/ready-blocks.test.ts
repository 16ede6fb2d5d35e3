// Ready blocks (docs/policies.md#ready-blocks): the bridge hands out blocks a policy
// prepared ahead without calling into JS, and the policy learns of each one later. What
// must not change: the policy sees every allocation, in order, by the end of its command;
// statistics, traces and checks are those of the synchronous path; policies that do not
// opt in are called per allocation as before.
import { AlignedHeaderPolicy } from '../../lib/allocator/aligned-header-policy';
import { CountingPolicy } from '../../lib/allocator/composed-policies';
import { bridgeOf, HostAllocator } from '../../lib/allocator/host-allocator';
import type { AllocationScope, AllocatorPolicy } from '../../lib/allocator/policy';
import native from '../../lib/native/binding';
import { FailingPolicy } from '../../lib/fault/failing-policy';
import { createInstance } from '../../lib/vulkan/instance';
import { DRIVERS } from '../helpers/drivers';

const driver = native.__testDriver;
const lavapipe = DRIVERS[0].driver;
const OBJECT = 1;

interface Seen { kind: 'allocate' | 'commit'; address: number; size: number; alignment: number; scope: AllocationScope; command: string }

/**
 * A user policy that opts in by passing AlignedHeaderPolicy's ready blocks on, and
 * records every allocation it learns of (allocate() or commit()), with the command
 * running then. `hooks` replace prepare/commit/giveBack results for the error cases.
 */
function recording(hooks: {
  prepare?: (k: number, real: () => number) => unknown;
  commit?: () => void;
  giveBack?: (address: number, real: () => void) => void;
} = {}) {
  const inner = new AlignedHeaderPolicy();
  const seen: Seen[] = [];
  const givenBack: number[] = [];
  const note = (kind: Seen['kind'], address: number, size: number, alignment: number, scope: AllocationScope) =>
    seen.push({ kind, address, size, alignment, scope, command: native.currentCommand() ?? 'none' });
  const policy: AllocatorPolicy = {
    readyClasses: inner.readyClasses,
    allocate(size, alignment, scope) {
      const address = inner.allocate(size, alignment, scope);
      note('allocate', address, size, alignment, scope);
      return address;
    },
    reallocate: (address, size, alignment, scope) => inner.reallocate(address, size, alignment, scope),
    free: (address) => inner.free(address),
    prepare: (k) => (hooks.prepare ? hooks.prepare(k, () => inner.prepare(k)) : inner.prepare(k)) as number,
    commit(address, size, alignment, scope) {
      hooks.commit?.();
      inner.commit(address, size, alignment, scope);
      note('commit', address, size, alignment, scope);
    },
    giveBack(address) {
      givenBack.push(address);
      if (hooks.giveBack) hooks.giveBack(address, () => inner.giveBack(address));
      else inner.giveBack(address);
    },
    releaseAll: () => inner.releaseAll(),
  };
  return { policy, inner, seen, givenBack };
}

/** Each trace event's kind, sizes, scope, command and flags: everything but addresses, threads and times. */
function eventShapes(allocator: HostAllocator): string[] {
  const trace = allocator.stopTrace();
  const shapes: string[] = [];
  for (let i = 0; i < trace.count; i++) {
    const e = trace.event(i);
    shapes.push([e.kind, e.size, e.alignment, e.scope, e.command, e.failed, e.offThread, e.outsideCommand].join(' '));
  }
  return shapes;
}

/** Instance, device, then both destroyed; the stats with both alive, and after. */
function workload(d: string, policy: AlignedHeaderPolicy) {
  const allocator = new HostAllocator(policy);
  allocator.startTrace();
  const instance = createInstance({ driver: d }, { allocator });
  instance.physicalDevices()[0].createDevice({ queues: [{ family: 0 }] }, { allocator });
  const policyAlive = policy.stats();  // before allocator.stats(), which hands the policy anything pending
  const alive = { bridge: allocator.stats(), policy: policyAlive };
  instance.destroy();
  const after = { bridge: allocator.stats(), policy: policy.stats() };
  return { allocator, alive, after, events: eventShapes(allocator) };
}

describe('the policy learns of every ready block, in order, within its command', () => {
  test('vkCreateInstance: every allocation reaches the policy as allocate() or commit(), in the driver\'s order', () => {
    const { policy, seen } = recording();
    const allocator = new HostAllocator(policy);
    allocator.startTrace();
    const crossings = driver.crossings(bridgeOf(allocator));
    createInstance({ driver: lavapipe }, { allocator }).destroy();
    const calls = driver.crossings(bridgeOf(allocator)) - crossings;
    const trace = allocator.stopTrace();
    const allocations: Omit<Seen, 'kind'>[] = [];
    for (let i = 0; i < trace.count; i++) {
      const e = trace.event(i);
      if (e.kind === 'allocate' && !e.failed) {
        allocations.push({ address: e.address, size: e.size, alignment: e.alignment, scope: e.scope, command: e.command });
      }
    }
    // Same blocks, same order, each learnt during the command that allocated it.
    expect(seen.map(({ kind: _kind, ...rest }) => rest)).toEqual(allocations);
    const commits = seen.filter((s) => s.kind === 'commit').length;
    expect(commits).toBeGreaterThan(allocations.length * 0.9);
    // Far fewer calls into JS than allocations (~1600 of them).
    expect(calls).toBeLessThan(allocations.length / 10);
  });

  test('blocks taken and freed in one command are committed before they are freed', () => {
    const { policy, inner, seen } = recording();
    const allocator = new HostAllocator(policy);
    const bridge = bridgeOf(allocator);
    const pairs = (n: number) => driver.bench(bridge, new Float64Array(n).fill(40), new Float64Array(n).fill(8), 'pairs');
    pairs(200);  // the class's stock grows each time it runs dry, to its most
    const before = { crossings: driver.crossings(bridge), seen: seen.length };
    pairs(30);  // one command: 30 allocate+free pairs, each free deferred
    expect(driver.crossings(bridge) - before.crossings).toBe(1);  // the end of the command's
    expect(seen.slice(before.seen)).toEqual(Array.from({ length: 30 }, () =>
      ({ kind: 'commit', address: expect.any(Number), size: 40, alignment: 8, scope: 'object', command: 'benchmark' })));
    expect(allocator.stats()).toMatchObject({ liveCount: 0, policyErrors: 0 });
    expect(inner.stats()).toMatchObject({ liveBlocks: 0, liveBytes: 0 });
  });

  test('when the log of taken blocks is full, the next allocation is a call, which commits it', () => {
    // Six classes of at most 32 bytes, 64 ready blocks each at most: more than the log holds.
    const inner = new AlignedHeaderPolicy();
    const seen: number[] = [];
    const policy: AllocatorPolicy = {
      readyClasses: { sizes: [1, 2, 4, 8, 16, 32], maxAlignment: 16 },
      allocate: (size, alignment, scope) => inner.allocate(size, alignment, scope),
      free: (address) => inner.free(address),
      prepare: (k) => inner.prepare(k < 5 ? 0 : 1),
      commit(address, size, alignment, scope) {
        inner.commit(address, size, alignment, scope);
        seen.push(size);
      },
      giveBack: (address) => inner.giveBack(address),
    };
    const allocator = new HostAllocator(policy);
    const bridge = bridgeOf(allocator);
    const cycle = (n: number) => Float64Array.from({ length: n }, (_, i) => 2 ** (i % 6));
    driver.bench(bridge, cycle(6 * 400), new Float64Array(6 * 400).fill(8), 'pairs');  // every class at its most
    const capacity = native.boundary.io.takenCapacity;
    const sizes = cycle(capacity + 44);  // 50 a class: none runs dry
    const before = { crossings: driver.crossings(bridge), seen: seen.length };
    driver.bench(bridge, sizes, new Float64Array(sizes.length).fill(8), 'pairs');
    expect(driver.crossings(bridge) - before.crossings).toBe(2);  // the full log's, and the end of the command's
    // Every block but the one that found the log full came ready, committed in order.
    expect(seen.slice(before.seen)).toEqual([...sizes.slice(0, capacity), ...sizes.slice(capacity + 1)]);
    expect(allocator.stats()).toMatchObject({ liveCount: 0, policyErrors: 0 });
  });
});

describe.each(DRIVERS.map((d) => [d.driver]))('ready blocks on and off report the same on %s', (d) => {
  const runs = () => {
    createInstance({ driver: d }).destroy();  // the driver loaded and warm for both
    return { on: workload(d, new AlignedHeaderPolicy()), off: workload(d, new AlignedHeaderPolicy({ readyBlocks: false })) };
  };

  test('bridge statistics, the policy\'s live figures and trace events are identical', () => {
    const { on, off } = runs();
    expect(on.alive.bridge).toEqual(off.alive.bridge);
    expect(on.after.bridge).toEqual(off.after.bridge);
    const live = ({ liveBlocks, liveBytes, rejected, failures }: ReturnType<AlignedHeaderPolicy['stats']>) =>
      ({ liveBlocks, liveBytes, rejected, failures });
    // With instance and device alive (their commands ended: every block committed) and after.
    expect(live(on.alive.policy)).toEqual(live(off.alive.policy));
    expect(on.alive.policy.liveBlocks).toBeGreaterThan(0);
    expect(live(on.after.policy)).toEqual({ liveBlocks: 0, liveBytes: 0, rejected: 0, failures: 0 });
    expect(live(off.after.policy)).toEqual(live(on.after.policy));
    // Prepared blocks are held, not live.
    expect(on.after.policy.readyBlocks).toBeGreaterThan(0);
    expect(off.after.policy.readyBlocks).toBe(0);
    expect(on.events.length).toBeGreaterThan(3000);
    expect(on.events).toEqual(off.events);
  });
});

describe('blocks that came ready behave as any other', () => {
  function readyServed() {
    const policy = new AlignedHeaderPolicy();
    const allocator = new HostAllocator(policy);
    const bridge = bridgeOf(allocator);
    driver.free(bridge, driver.allocate(bridge, 40, 8, OBJECT));
    const before = driver.crossings(bridge);
    const p = driver.allocate(bridge, 40, 8, OBJECT);
    expect(driver.crossings(bridge) - before).toBe(1);  // the end of the command's, to commit it
    expect(policy.stats()).toMatchObject({ liveBlocks: 1, liveBytes: 40 });
    return { policy, allocator, bridge, p };
  }

  test('reallocate moves it through the policy\'s own reallocate, contents kept', () => {
    const { policy, allocator, bridge, p } = readyServed();
    const bytes = Uint8Array.from({ length: 40 }, (_, i) => i * 7);
    driver.write(p, bytes);
    expect(policy.view(p)).toHaveLength(40);
    const q = driver.reallocate(bridge, p, 3000, 8, OBJECT);
    expect(q).not.toBe(0);
    expect(Buffer.from(driver.read(q, 40))).toEqual(Buffer.from(bytes));
    expect(policy.stats()).toMatchObject({ liveBlocks: 1, liveBytes: 3000 });
    driver.free(bridge, q);
    expect(allocator.stats()).toMatchObject({ liveCount: 0, policyErrors: 0, failures: 0 });
    expect(policy.stats()).toMatchObject({ liveBlocks: 0, liveBytes: 0 });
  });

  test('a double free is counted and never reaches the policy', () => {
    const { policy, allocator, bridge, p } = readyServed();
    driver.free(bridge, p);
    driver.free(bridge, p);
    expect(allocator.stats()).toMatchObject({ liveCount: 0, unknownPointers: 1, policyErrors: 0 });
    expect(policy.stats()).toMatchObject({ liveBlocks: 0, liveBytes: 0 });
    expect(() => policy.free(p)).toThrow(RangeError);
  });

  test('freed from another thread: queued, then handed to the policy', () => {
    const { policy, allocator, bridge, p } = readyServed();
    driver.offThread(bridge, 0, 0, 1, [p]);
    expect(policy.stats().liveBlocks).toBe(1);  // not yet: off-thread frees wait for the JS thread
    expect(allocator.stats()).toMatchObject({ liveCount: 0, pendingFrees: 0 });
    expect(policy.stats().liveBlocks).toBe(0);
  });

  test('off the JS thread no ready block is taken', () => {
    const { policy, allocator, bridge, p } = readyServed();
    const ready = policy.stats().readyBlocks;
    const made = driver.offThread(bridge, 3, 40, 8, []);
    expect(policy.stats().readyBlocks).toBe(ready);
    expect(allocator.stats()).toMatchObject({ liveCount: 4, nativeLiveCount: 3 });
    driver.offThread(bridge, 0, 0, 1, [...made, p]);
    expect(allocator.stats().liveCount).toBe(0);
  });

  test('fault injection refuses before any ready block is taken', () => {
    const { policy, allocator, bridge } = readyServed();
    const ready = policy.stats().readyBlocks;
    bridge.failFrom(0);
    expect(driver.allocate(bridge, 40, 8, OBJECT)).toBe(0);
    bridge.failFrom(null);
    expect(policy.stats().readyBlocks).toBe(ready);
    expect(allocator.stats()).toMatchObject({ failures: 1, liveCount: 1 });
  });
});

describe('prepared blocks go back', () => {
  test('dispose() gives every prepared block back before the policy releases its memory', () => {
    const { policy, inner, givenBack } = recording();
    const allocator = new HostAllocator(policy);
    createInstance({ driver: lavapipe }, { allocator }).destroy();
    const held = inner.stats().readyBlocks;
    expect(held).toBeGreaterThan(0);
    expect(inner.stats().liveBlocks).toBe(0);
    allocator.dispose();
    expect(givenBack).toHaveLength(held);
    expect(inner.stats()).toMatchObject({ readyBlocks: 0, liveBlocks: 0, bytesHeld: 0 });
  });

  test('two allocators on one policy share its stock; disposing one leaves the other working', () => {
    const policy = new AlignedHeaderPolicy();
    const a = new HostAllocator(policy);
    const b = new HostAllocator(policy);
    createInstance({ driver: lavapipe }, { allocator: a }).destroy();
    const crossings = driver.crossings(bridgeOf(b));
    const instance = createInstance({ driver: lavapipe }, { allocator: b });
    expect(driver.crossings(bridgeOf(b)) - crossings).toBeLessThan(b.stats().calls.allocate / 10);
    instance.destroy();
    a.dispose();
    expect(policy.stats()).toMatchObject({ readyBlocks: 0, bytesHeld: 0 });
    createInstance({ driver: lavapipe }, { allocator: b }).destroy();
    expect(b.stats()).toMatchObject({ liveCount: 0, policyErrors: 0 });
    expect(policy.stats().readyBlocks).toBeGreaterThan(0);
  });

  test('releaseAll() called directly: no allocator hands out a block of the memory it released', () => {
    const policy = new AlignedHeaderPolicy();
    const allocator = new HostAllocator(policy);
    const bridge = bridgeOf(allocator);
    driver.free(bridge, driver.allocate(bridge, 40, 8, OBJECT));
    expect(policy.stats().readyBlocks).toBeGreaterThan(0);
    policy.releaseAll();
    const p = driver.allocate(bridge, 40, 8, OBJECT);
    expect(policy.view(p)).toHaveLength(40);
    driver.free(bridge, p);
    expect(allocator.stats()).toMatchObject({ liveCount: 0, policyErrors: 0 });
  });
});

describe('policies that do not opt in are called for every allocation, as before', () => {
  test('wrapping policies do not pass readyClasses on', () => {
    const inner = new AlignedHeaderPolicy();
    const counting = new CountingPolicy(inner);
    expect(inner.readyClasses).not.toBeNull();
    expect((counting as AllocatorPolicy).readyClasses).toBeUndefined();
    const allocator = new HostAllocator(counting);
    const crossings = driver.crossings(bridgeOf(allocator));
    createInstance({ driver: lavapipe }, { allocator }).destroy();
    const stats = allocator.stats();
    expect(counting.counts.allocate).toBe(stats.calls.allocate);
    expect(driver.crossings(bridgeOf(allocator)) - crossings).toBeGreaterThanOrEqual(stats.calls.allocate);
    expect(inner.stats().readyBlocks).toBe(0);
  });

  test('FailingPolicy\'s n-th allocation still fails exactly there', () => {
    const failing = new FailingPolicy(new AlignedHeaderPolicy(), { nth: 700 });
    const allocator = new HostAllocator(failing);
    allocator.startTrace();
    try {
      createInstance({ driver: lavapipe }, { allocator }).destroy();
    } catch {
      // lavapipe gives up on the instance: that is the point
    }
    const trace = allocator.stopTrace();
    let requests = 0;
    let failedAt = -1;
    for (let i = 0; i < trace.count; i++) {
      const e = trace.event(i);
      if ((e.kind === 'allocate' || e.kind === 'reallocate') && !e.offThread) {
        if (e.failed && failedAt < 0) failedAt = requests;
        requests++;
      }
    }
    expect(failing.failures).toBe(1);
    expect(failedAt).toBe(700);
    expect(allocator.stats().liveCount).toBe(0);
  });

  test('a subclass of AlignedHeaderPolicy that overrides allocate() sees every allocation', () => {
    class Counted extends AlignedHeaderPolicy {
      calls = 0;
      override allocate(size: number, alignment: number, scope: AllocationScope): number {
        this.calls++;
        return super.allocate(size, alignment, scope);
      }
    }
    const policy = new Counted();
    expect(policy.readyClasses).toBeNull();
    const allocator = new HostAllocator(policy);
    createInstance({ driver: lavapipe }, { allocator }).destroy();
    expect(policy.calls).toBe(allocator.stats().calls.allocate);
  });

  test('{ readyBlocks: false } turns them off; anything but a boolean is refused', () => {
    expect(new AlignedHeaderPolicy({ readyBlocks: false }).readyClasses).toBeNull();
    expect(() => new AlignedHeaderPolicy({ readyBlocks: 'no' as unknown as boolean })).toThrow(
      new TypeError('Expected a boolean for options.readyBlocks but received "no"'));
  });
});

describe('a policy\'s ready blocks are checked', () => {
  const base = () => recording().policy;
  test.each<[string, (p: AllocatorPolicy) => AllocatorPolicy, Error]>([
    ['sizes not an array', (p) => ({ ...p, readyClasses: { sizes: 64 as unknown as number[], maxAlignment: 16 } }),
      new TypeError('Expected an array of class bounds for policy.readyClasses.sizes but received 64')],
    ['sizes not ascending', (p) => ({ ...p, readyClasses: { sizes: [32, 32], maxAlignment: 16 } }),
      new RangeError('Expected an integer between 33 and 9007199254740991 for policy.readyClasses.sizes[1] but received 32')],
    ['too many classes', (p) => ({ ...p, readyClasses: { sizes: Array.from({ length: 33 }, (_, i) => 16 * (i + 1)), maxAlignment: 16 } }),
      new RangeError('Expected 1 to 32 class bounds for policy.readyClasses.sizes but received an array of 33')],
    ['maxAlignment not a power of two', (p) => ({ ...p, readyClasses: { sizes: [64], maxAlignment: 24 } }),
      new RangeError('Expected a power of two from 1 to 65536 for policy.readyClasses.maxAlignment but received 24')],
    ['an unknown key', (p) => ({ ...p, readyClasses: { sizes: [64], maxAlignment: 16, alignment: 8 } as never }),
      new TypeError('Unknown option policy.readyClasses.alignment: expected one of sizes, maxAlignment')],
    ['readyClasses without commit', (p) => ({ ...p, commit: undefined }),
      new TypeError('Expected a function (the policy has readyClasses) for policy.commit but received undefined')],
    ['prepare that is not a function', (p) => ({ ...p, prepare: 1 as never }),
      new TypeError('Expected a function or undefined for policy.prepare but received 1')],
  ])('%s is refused when the allocator is made', (_what, change, error) => {
    expect(() => new HostAllocator(change(base()))).toThrow(error);
  });
});

describe('a policy that gets ready blocks wrong fails as allocate() would', () => {
  function twoAllocations(allocator: HostAllocator) {
    const bridge = bridgeOf(allocator);
    const made = [driver.allocate(bridge, 40, 8, OBJECT), driver.allocate(bridge, 40, 8, OBJECT)];
    return { bridge, made };
  }

  test('prepare() throwing: recorded once, that class is no longer prepared, allocations still served', () => {
    const error = new Error('prepare failed on purpose');
    let calls = 0;
    const { policy } = recording({ prepare: () => { calls++; throw error; } });
    const allocator = new HostAllocator(policy);
    const { bridge, made } = twoAllocations(allocator);
    expect(made.every((p) => p !== 0)).toBe(true);
    expect(calls).toBe(1);
    expect(allocator.stats()).toMatchObject({ policyErrors: 1, failures: 0, liveCount: 2 });
    expect(allocator.lastPolicyError).toBe(error);
    for (const p of made) driver.free(bridge, p);
  });

  test('prepare() returning an address not aligned to maxAlignment: a TypeError, nothing handed out', () => {
    const { policy } = recording({ prepare: (_k, real) => (real() as number) + 8 });
    const allocator = new HostAllocator(policy);
    const { bridge, made } = twoAllocations(allocator);
    expect(allocator.lastPolicyError).toBeInstanceOf(TypeError);
    expect((allocator.lastPolicyError as Error).message).toMatch(/^Allocator policy prepare\(2\) returned \d+: expected 0 or an address aligned to 16$/);
    expect(allocator.stats()).toMatchObject({ policyErrors: 1, liveCount: 2 });
    for (const p of made) driver.free(bridge, p);
  });

  test('commit() throwing: recorded as the policy\'s error, the driver keeps its block', () => {
    const { policy } = recording({ commit: () => { throw 'nope'; } });
    const allocator = new HostAllocator(policy);
    const { made } = twoAllocations(allocator);
    expect(made[1]).not.toBe(0);
    const error = allocator.lastPolicyError as Error;
    expect(error.message).toBe(`Allocator policy commit(${made[1]}, 40, 8) threw "nope"`);
    expect(error.cause).toBe('nope');
  });

  test('a prepared block overlapping a live one is refused, and given back', () => {
    let live = 0;
    const { policy, givenBack } = recording({
      prepare: (_k, real) => (live !== 0 ? live : real()),
      giveBack: (address, real) => { if (address !== live) real(); },  // `live` was never really prepared
    });
    const allocator = new HostAllocator(policy);
    const bridge = bridgeOf(allocator);
    driver.free(bridge, driver.allocate(bridge, 40, 8, OBJECT));  // the class gets 2 ready blocks
    live = driver.allocate(bridge, 40, 8, OBJECT);  // takes one (the refill at its end prepares a real one)
    const second = driver.allocate(bridge, 40, 8, OBJECT);  // takes that; the refill prepares `live`
    expect(second).not.toBe(0);
    expect(driver.allocate(bridge, 40, 8, OBJECT)).toBe(0);  // takes `live`: refused
    expect((allocator.lastPolicyError as Error).message).toBe(
      `Allocator policy allocate(40, 8) returned 0x${live.toString(16)}, an address that is already live: the driver still uses that memory`);
    expect(givenBack).toContain(live);
    expect(allocator.stats()).toMatchObject({ liveCount: 2, failures: 1 });
  });
});
