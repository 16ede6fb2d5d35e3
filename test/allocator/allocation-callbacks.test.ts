// The VkAllocationCallbacks contract, exercised through the real function pointers
// by the internal test driver (native/test/test_driver.cc): the calls a driver may make,
// including the ones well-behaved drivers rarely or never make.
import { AlignedHeaderPolicy } from '../../lib/allocator/aligned-header-policy';
import native from '../../lib/native/binding';
import { CountingPolicy } from '../../lib/allocator/composed-policies';
import { bridgeOf, HostAllocator, NATIVE_POLICY } from '../../lib/allocator/host-allocator';
import { SwitchablePolicy } from '../helpers/policies';

const driver = native.__testDriver;
const OBJECT = 1;
const COMMAND = 0;

function pattern(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

// Both kinds of policy: with its own reallocate, and allocate/free only (the bridge copies).
const POLICIES: [string, () => { allocator: HostAllocator; fail: (on: boolean) => void }][] = [
  ['a policy with reallocate', () => {
    const policy = new AlignedHeaderPolicy();
    let failing = false;
    const wrapper = {
      allocate: (s: number, a: number, sc: 'object') => (failing ? 0 : policy.allocate(s, a, sc)),
      reallocate: (p: number, s: number, a: number, sc: 'object') => (failing ? 0 : policy.reallocate(p, s, a, sc)),
      free: (p: number) => policy.free(p),
    };
    return { allocator: new HostAllocator(wrapper), fail: (on) => { failing = on; } };
  }],
  ['a policy without reallocate', () => {
    const policy = new SwitchablePolicy();
    return { allocator: new HostAllocator(policy), fail: (on) => { policy.failing = on; } };
  }],
];

describe.each(POLICIES)('reallocation through %s', (_name, make) => {
  test('NULL original acts as an allocation', () => {
    const { allocator } = make();
    const p = driver.reallocate(bridgeOf(allocator), 0, 100, 16, OBJECT);
    expect(p).not.toBe(0);
    expect(p % 16).toBe(0);
    expect(allocator.stats()).toMatchObject({ liveCount: 1, liveBytes: 100, calls: { reallocate: 1, allocate: 0 } });
    driver.free(bridgeOf(allocator), p);
    expect(allocator.stats().liveCount).toBe(0);
  });

  test('size 0 acts as a free and returns NULL', () => {
    const { allocator } = make();
    const p = driver.allocate(bridgeOf(allocator), 64, 8, OBJECT);
    expect(driver.reallocate(bridgeOf(allocator), p, 0, 8, OBJECT)).toBe(0);
    expect(allocator.stats()).toMatchObject({ liveCount: 0, failures: 0 });
  });

  test('contents survive growing and shrinking, and the new address is aligned', () => {
    const { allocator } = make();
    const bridge = bridgeOf(allocator);
    let p = driver.allocate(bridge, 200, 64, OBJECT);
    driver.write(p, pattern(200, 7));
    for (const size of [5000, 70000, 150, 33]) {
      const before = driver.read(p, Math.min(size, 200));
      p = driver.reallocate(bridge, p, size, 64, OBJECT);
      expect(p).not.toBe(0);
      expect(p % 64).toBe(0);
      expect(Buffer.from(driver.read(p, Math.min(size, 200)))).toEqual(Buffer.from(before.subarray(0, Math.min(size, 200))));
      expect(allocator.stats().liveBytes).toBe(size);
    }
    driver.free(bridge, p);
    expect(allocator.stats().liveCount).toBe(0);
  });

  test('a failed reallocation returns NULL and leaves the old block valid and unchanged', () => {
    const { allocator, fail } = make();
    const bridge = bridgeOf(allocator);
    const p = driver.allocate(bridge, 300, 16, OBJECT);
    driver.write(p, pattern(300, 3));
    fail(true);
    expect(driver.reallocate(bridge, p, 100000, 16, OBJECT)).toBe(0);
    fail(false);
    expect(Buffer.from(driver.read(p, 300))).toEqual(Buffer.from(pattern(300, 3)));
    expect(allocator.liveBlocks()).toEqual([expect.objectContaining({ address: p, size: 300 })]);
    expect(allocator.stats().failures).toBe(1);
    driver.free(bridge, p);
    expect(allocator.stats().liveCount).toBe(0);
  });
});

describe('what a driver must not do is caught, not followed', () => {
  test('freeing or reallocating a pointer never handed out is counted and ignored', () => {
    const counting = new CountingPolicy(new AlignedHeaderPolicy());
    const allocator = new HostAllocator(counting);
    const bridge = bridgeOf(allocator);
    const p = driver.allocate(bridge, 32, 8, COMMAND);
    driver.free(bridge, p + 8);
    expect(driver.reallocate(bridge, 0x1234560, 10, 8, COMMAND)).toBe(0);
    driver.free(bridge, p);
    driver.free(bridge, p);  // double free
    expect(allocator.stats()).toMatchObject({ unknownPointers: 3, liveCount: 0 });
    expect(counting.counts.free).toBe(1);  // the policy saw exactly one free
  });

  test('an alignment that is not a power of two gets NULL without reaching the policy', () => {
    const counting = new CountingPolicy(new AlignedHeaderPolicy());
    const allocator = new HostAllocator(counting);
    expect(driver.allocate(bridgeOf(allocator), 32, 24, OBJECT)).toBe(0);
    expect(driver.allocate(bridgeOf(allocator), 32, 0, OBJECT)).toBe(0);
    expect(counting.counts.allocate).toBe(0);
    expect(allocator.stats()).toMatchObject({ badAlignments: 2, failures: 2 });
  });

  test('alignments up to 4096 are honoured', () => {
    const allocator = new HostAllocator();
    const bridge = bridgeOf(allocator);
    for (let alignment = 1; alignment <= 4096; alignment *= 2) {
      const p = driver.allocate(bridge, 1000, alignment, OBJECT);
      expect(p % alignment).toBe(0);
      driver.free(bridge, p);
    }
    expect(allocator.stats().liveCount).toBe(0);
  });

  test('internal allocation notifications are counted per scope and passed to the policy', () => {
    const counting = new CountingPolicy(new AlignedHeaderPolicy());
    const allocator = new HostAllocator(counting);
    driver.internal(bridgeOf(allocator), true, 4096, 3 /* device */);
    expect(allocator.stats().scopes.device.internalBytes).toBe(4096);
    driver.internal(bridgeOf(allocator), false, 4096, 3);
    expect(allocator.stats().scopes.device.internalBytes).toBe(0);
    expect(counting.counts).toMatchObject({ internalAllocation: 1, internalFree: 1 });
    expect(allocator.stats().calls).toMatchObject({ internalAllocate: 1, internalFree: 1 });
  });
});

describe('a block that would overlap a live one is refused, on every path', () => {
  // A policy that serves normally until `next` is set, then returns it once.
  function overriding(withReallocate: boolean) {
    const inner = new AlignedHeaderPolicy();
    const state = { next: 0 };
    const take = (serve: () => number) => {
      if (!state.next) return serve();
      const bad = state.next;
      state.next = 0;
      return bad;
    };
    const policy = {
      allocate: (s: number, a: number, sc: 'object') => take(() => inner.allocate(s, a, sc)),
      free: (p: number) => inner.free(p),
      ...(withReallocate ? { reallocate: (p: number, s: number, a: number, sc: 'object') => take(() => inner.reallocate(p, s, a, sc)) } : {}),
    };
    const allocator = new HostAllocator(policy);
    return { allocator, bridge: bridgeOf(allocator), state };
  }

  test('allocate: inside, at, or running into a live block', () => {
    const { allocator, bridge, state } = overriding(false);
    const live = driver.allocate(bridge, 256, 16, OBJECT);
    const cases: [number, number, RegExp][] = [
      [live + 64, 16, /^Allocator policy allocate\(16, 16\) returned 0x[0-9a-f]+, inside the live block 0x[0-9a-f]+ \(256 bytes\): the driver still uses that memory$/],
      [live, 16, /returned 0x[0-9a-f]+, an address that is already live/],
      [live - 64, 128, /returned 0x[0-9a-f]+, whose 128 bytes overlap the live block 0x[0-9a-f]+ \(256 bytes\)/],
    ];
    for (const [address, size, message] of cases) {
      state.next = address;
      expect(driver.allocate(bridge, size, 16, OBJECT)).toBe(0);
      expect((allocator.lastPolicyError as Error).message).toMatch(message);
    }
    // Right after the block, and right before it, is fine.
    state.next = live + 256;
    const after = driver.allocate(bridge, 16, 16, OBJECT);
    expect(after).toBe(live + 256);
    expect(allocator.stats()).toMatchObject({ liveCount: 2, policyErrors: 3, failures: 3 });
  });

  test("reallocate: the policy's new block may overlap the old one, not another", () => {
    const { allocator, bridge, state } = overriding(true);
    const a = driver.allocate(bridge, 256, 16, OBJECT);
    const b = driver.allocate(bridge, 256, 16, OBJECT);
    driver.write(b, pattern(256, 3));
    state.next = a + 16;  // inside a
    expect(driver.reallocate(bridge, b, 512, 16, OBJECT)).toBe(0);
    expect((allocator.lastPolicyError as Error).message).toMatch(/^Allocator policy reallocate\(512, 16\) returned 0x[0-9a-f]+, inside the live block/);
    expect(Buffer.from(driver.read(b, 256))).toEqual(Buffer.from(pattern(256, 3)));  // the old block stands
    state.next = b + 16;  // over b itself: the policy moves the bytes, that is its business
    expect(driver.reallocate(bridge, b, 128, 16, OBJECT)).toBe(b + 16);
    expect(allocator.liveBlocks().map((x) => [x.address, x.size])).toEqual([[a, 256], [b + 16, 128]]);
    expect(allocator.stats()).toMatchObject({ liveCount: 2, policyErrors: 1 });
  });

  test('allocate-copy-free: the new block may not overlap the old one, which is copied from', () => {
    const { allocator, bridge, state } = overriding(false);
    const old = driver.allocate(bridge, 256, 16, OBJECT);
    driver.write(old, pattern(256, 5));
    state.next = old + 128;
    expect(driver.reallocate(bridge, old, 512, 16, OBJECT)).toBe(0);
    expect((allocator.lastPolicyError as Error).message).toMatch(/^Allocator policy allocate\(512, 16\) returned 0x[0-9a-f]+, inside the live block/);
    expect(Buffer.from(driver.read(old, 256))).toEqual(Buffer.from(pattern(256, 5)));
    expect(allocator.stats()).toMatchObject({ liveCount: 1, policyErrors: 1 });
  });
});

describe('callbacks from other threads never touch JS', () => {
  test('allocations are served natively; frees of policy blocks wait for the JS thread', () => {
    const counting = new CountingPolicy(new AlignedHeaderPolicy());
    const allocator = new HostAllocator(counting);
    const bridge = bridgeOf(allocator);
    const mine = [driver.allocate(bridge, 48, 8, OBJECT), driver.allocate(bridge, 48, 8, OBJECT)];
    const made = driver.offThread(bridge, 3, 256, 64, mine);
    expect(made.every((p) => p !== 0 && p % 64 === 0)).toBe(true);
    const raw = bridge.stats();  // not drained yet
    expect(raw.offThreadCalls).toMatchObject({ allocate: 3, free: 2 });
    expect(raw.pendingFrees).toBe(2);
    expect(raw.nativeLiveCount).toBe(3);
    expect(counting.counts.free).toBe(0);  // nothing reached the policy off-thread
    expect(allocator.liveBlocks().map((b) => b.owner)).toEqual(['native', 'native', 'native']);
    // The next JS-thread callback (here: a free of a native block) hands the queue over.
    driver.free(bridge, made[0]);
    expect(counting.counts.free).toBe(2);
    expect(bridge.stats().pendingFrees).toBe(0);
    // Native blocks can be reallocated on the JS thread (into the policy) and freed.
    const moved = driver.reallocate(bridge, made[1], 512, 64, OBJECT);
    expect(Buffer.from(driver.read(moved, 256))).toEqual(Buffer.alloc(256, 0xa5));
    driver.free(bridge, moved);
    driver.free(bridge, made[2]);
    expect(allocator.stats()).toMatchObject({ liveCount: 0, nativeLiveCount: 0, pendingFrees: 0 });
  });
});

describe('frees are deferred to one crossing', () => {
  test('the policy gets the frees of a command when it ends, and a throwing free is recorded', () => {
    const inner = new AlignedHeaderPolicy();
    const seen: number[] = [];
    const boom = new Error('free refused');
    const allocator = new HostAllocator({
      allocate: (s, a, sc) => inner.allocate(s, a, sc),
      free: (p) => {
        seen.push(p);
        if (seen.length === 1) throw boom;
        inner.free(p);
      },
    });
    const bridge = bridgeOf(allocator);
    const blocks = [1, 2, 3].map(() => driver.allocate(bridge, 64, 16, OBJECT));
    for (const p of blocks) driver.free(bridge, p);
    expect(seen).toEqual(blocks);  // all three, although the first threw
    expect(allocator.stats()).toMatchObject({ liveCount: 0, policyErrors: 1, pendingFrees: 0 });
    expect(allocator.lastPolicyError).toBe(boom);
  });

  test('a free throwing something that is not an Error is recorded as one naming the call', () => {
    const inner = new AlignedHeaderPolicy();
    const allocator = new HostAllocator({ allocate: (s, a, sc) => inner.allocate(s, a, sc), free: () => { throw 'not now'; } });
    const p = driver.allocate(bridgeOf(allocator), 64, 16, OBJECT);
    driver.free(bridgeOf(allocator), p);
    const error = allocator.lastPolicyError as Error;
    expect(error.message).toBe(`Allocator policy free(${p}) threw "not now"`);
    expect(error.cause).toBe('not now');
    expect(allocator.stats()).toMatchObject({ liveCount: 0, policyErrors: 1 });
  });
});

describe('NATIVE_POLICY', () => {
  test('serves every callback in C++, with the same exact statistics', () => {
    const allocator = new HostAllocator(NATIVE_POLICY);
    expect(allocator.policy).toBeNull();
    const bridge = bridgeOf(allocator);
    let p = driver.allocate(bridge, 100, 256, OBJECT);
    expect(p % 256).toBe(0);
    driver.write(p, pattern(100, 9));
    p = driver.reallocate(bridge, p, 5000, 256, OBJECT);
    expect(Buffer.from(driver.read(p, 100))).toEqual(Buffer.from(pattern(100, 9)));
    expect(allocator.liveBlocks()).toEqual([expect.objectContaining({ owner: 'native', size: 5000, alignment: 256 })]);
    driver.free(bridge, p);
    expect(allocator.stats()).toMatchObject({ liveCount: 0, nativeLiveCount: 0, calls: { allocate: 1, reallocate: 1, free: 1 } });
  });
});

// The registry's lock lets the JS thread in without atomics (native/core/biased_lock.h);
// a driver thread calling back at the same moment must still be kept out. Broken, the
// two sides corrupt the live-block table: lost or unknown blocks, wrong counts, a crash.
describe('a driver thread and the JS thread calling back at once', () => {
  // 300 pairs: 600 locks by the other thread, the bias holds throughout; 3000: it is
  // dropped after 1024 (BiasedLock::kRevokeAfter), in the middle of the contention.
  // A fresh allocator per round, so that every round starts biased.
  test.each([
    ['NATIVE_POLICY (malloc blocks: a live address refused)', 300, () => new HostAllocator(NATIVE_POLICY), true],
    ['NATIVE_POLICY (malloc blocks: a live address refused)', 3000, () => new HostAllocator(NATIVE_POLICY), false],
    ['AlignedHeaderPolicy (policy blocks: overlaps refused)', 300, () => new HostAllocator(), true],
    ['AlignedHeaderPolicy (policy blocks: overlaps refused)', 3000, () => new HostAllocator(), false],
  ])('%s, %d pairs a side: every call recorded exactly', (_name, pairs, make, staysBiased) => {
    for (let round = 0; round < 8; round++) {
      const allocator = make();
      expect(driver.contend(bridgeOf(allocator), pairs)).toBe(staysBiased);
      const stats = allocator.stats();
      expect(stats).toMatchObject({ liveCount: 0, liveBytes: 0, unknownPointers: 0, failures: 0 });
      expect(stats.calls).toMatchObject({ allocate: 2 * pairs, free: 2 * pairs });
      expect(stats.offThreadCalls).toMatchObject({ allocate: pairs, free: pairs });
      expect(stats.commands.find((c) => c.command === 'contend')).toMatchObject({ allocations: pairs, frees: pairs });
      expect(stats.commands.find((c) => c.command === 'none')).toMatchObject({ allocations: pairs, frees: pairs });
      allocator.dispose();
    }
  });
});

describe('the overlap check against a model, over thousands of random blocks', () => {
  // A policy that returns whatever address the test names, inside one real 128 KiB
  // block: many requests overlap live blocks, and hundreds stay live at once, so the
  // registry's index splits and merges its leaves many times over.
  // While every block starts on a 16-byte boundary the registry checks granules; from
  // the first that does not, extents (native/core/block_registry.h): both, and the move.
  test.each([
    ['on 16-byte boundaries throughout', 16, 16],
    ['on 16-byte boundaries, then on 8-byte ones', 16, 8],
  ])('refused exactly when a live block overlaps, naming the last such block: %s', (_name, first, then) => {
    const inner = new AlignedHeaderPolicy();
    const arena = inner.allocate(131072, 16, 'object');
    let next = 0;
    const allocator = new HostAllocator({ allocate: () => next, free: () => {} });
    const bridge = bridgeOf(allocator);
    const live = new Map<number, number>();  // address -> size
    let seed = 12345;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    let refused = 0;
    for (let i = 0; i < 6000; i++) {
      if (live.size > 0 && random(100) < (live.size > 600 ? 60 : 25)) {
        const addresses = [...live.keys()];
        const address = addresses[random(addresses.length)];
        driver.free(bridge, address);
        live.delete(address);
        continue;
      }
      const size = random(8) === 0 ? 0 : 16 * (1 + random(24));
      const step = i < 3000 ? first : then;
      next = arena + step * random(131072 / step - 512);
      let conflict = -1;  // the overlapping live block that starts last
      for (const [a, s] of live) {
        if (a < next + Math.max(size, 1) && next < a + Math.max(s, 1) && a > conflict) conflict = a;
      }
      const got = driver.allocate(bridge, size, step, OBJECT);
      if (conflict >= 0) {
        expect(got).toBe(0);
        expect((allocator.lastPolicyError as Error).message).toContain(`0x${conflict.toString(16)}`);
        refused++;
      } else {
        expect(got).toBe(next);
        live.set(next, size);
      }
    }
    const model = [...live].sort((x, y) => x[0] - y[0]);
    expect(allocator.liveBlocks().map((b) => [b.address, b.size])).toEqual(model);
    expect(refused).toBeGreaterThan(1000);
    expect(model.length).toBeGreaterThan(200);
    for (const [address] of model) driver.free(bridge, address);
    expect(allocator.stats().liveCount).toBe(0);
    inner.free(arena);
  });
});

test('overlaps over hundreds of 64 KiB regions, emptied and filled again, are still refused', () => {
  // The registry's granule bitmaps come per 64 KiB region and go when many are empty.
  const inner = new AlignedHeaderPolicy();
  const arena = inner.allocate(300 * 65536, 16, 'object');
  let next = 0;
  const allocator = new HostAllocator({ allocate: () => next, free: () => {} });
  const bridge = bridgeOf(allocator);
  const at = (region: number, offset: number) => arena + region * 65536 + offset;
  for (let round = 0; round < 3; round++) {
    const live: number[] = [];
    for (let region = 0; region < 300; region++) {
      next = at(region, 65536 - 64);  // straddles into the next region
      live.push(driver.allocate(bridge, 128, 16, OBJECT));
    }
    expect(live.every((address, region) => address === at(region, 65536 - 64))).toBe(true);
    for (let region = 1; region < 300; region += 7) {
      next = at(region, 32);  // the tail of the previous region's block
      expect(driver.allocate(bridge, 16, 16, OBJECT)).toBe(0);
      expect((allocator.lastPolicyError as Error).message).toContain(`0x${at(region - 1, 65536 - 64).toString(16)}`);
      next = at(region, 64);  // just past it
      const fits = driver.allocate(bridge, 16, 16, OBJECT);
      expect(fits).toBe(at(region, 64));
      driver.free(bridge, fits);
    }
    for (const address of live) driver.free(bridge, address);
    expect(allocator.stats().liveCount).toBe(0);
  }
  inner.free(arena);
});
