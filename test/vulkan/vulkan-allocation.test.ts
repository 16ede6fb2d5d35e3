// The bridge on real drivers: scopes, alignment, statistics, policy failures,
// off-thread frees. Every Vulkan object here is created with the TypeScript policy.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { AlignedHeaderPolicy } from '../../lib/allocator/aligned-header-policy';
import { LoggingPolicy, PolicyLogEntry } from '../../lib/allocator/composed-policies';
import { VulkanError } from '../../lib/native/errors';
import { HostAllocator } from '../../lib/allocator/host-allocator';
import { createInstance, Instance } from '../../lib/vulkan/instance';
import { describeOnDrivers } from '../helpers/drivers';
import { VALIDATING } from '../helpers/validation';
import { catchError } from '../helpers/catch-error';
import { BadResultPolicy, ThrowingPolicy } from '../helpers/policies';

/** Instance, device, buffer, memory, fence, all with `allocator`; returns them for destruction. */
function buildObjects(driver: string, allocator: HostAllocator) {
  const opts = { allocator };
  const instance = createInstance({ driver }, opts);
  const pd = instance.physicalDevices()[0];
  const device = pd.createDevice({ queues: [{ family: 0 }] }, opts);
  const buffer = device.createBuffer({ size: 4096, usage: ['storage'] }, opts);
  const req = buffer.memoryRequirements;
  const memory = device.allocateMemory({ size: req.size, memoryType: pd.findMemoryType(req.memoryTypeBits, ['host-visible']) }, opts);
  buffer.bindMemory(memory);
  const fence = device.createFence({}, opts);
  return { instance, pd, device, buffer, memory, fence };
}

describeOnDrivers('host allocations', ({ driver }) => {
  test('live blocks carry the scope Vulkan documents for the command that made them', () => {
    const allocator = new HostAllocator();
    const objects = buildObjects(driver, allocator);
    const live = allocator.liveBlocks();
    const scopesOf = (command: string) => new Set(live.filter((b) => b.command === command).map((b) => b.scope));
    // What outlives vkCreateInstance is the instance's; likewise the device's; a buffer's is the object's.
    // Under VKALLOC_TEST_VALIDATION=1 the loader also keeps the debug messenger chained to
    // vkCreateInstance, made with the instance's allocator: an object-scope block.
    expect([...scopesOf('vkCreateInstance')].sort()).toEqual(VALIDATING ? ['instance', 'object'] : ['instance']);
    expect(scopesOf('vkCreateDevice').has('device')).toBe(true);
    expect([...scopesOf('vkCreateDevice')].every((s) => s === 'device' || s === 'instance')).toBe(true);
    expect([...scopesOf('vkCreateBuffer')]).toEqual(['object']);
    expect([...scopesOf('vkCreateFence')]).toEqual(['object']);
    // Command-scope memory never outlives its command.
    expect(live.filter((b) => b.scope === 'command')).toEqual([]);
    objects.instance.destroy();
  });

  test('every address the policy hands out honours the requested alignment', () => {
    const log: PolicyLogEntry[] = [];
    const allocator = new HostAllocator(new LoggingPolicy(new AlignedHeaderPolicy(), (e) => log.push(e)));
    buildObjects(driver, allocator).instance.destroy();
    const allocations = log.filter((e): e is Extract<PolicyLogEntry, { kind: 'allocate' }> => e.kind === 'allocate');
    expect(allocations.length).toBeGreaterThan(100);
    const alignments = new Set(allocations.map((a) => a.alignment));
    for (const a of allocations) {
      expect(a.result).not.toBe(0);
      expect(a.result % a.alignment).toBe(0);
    }
    console.log(`${driver}: ${allocations.length} policy allocations, alignments requested: ${[...alignments].sort((x, y) => x - y).join(', ')}`);
  });

  test('statistics return to zero after destroy, and the policy holds nothing', () => {
    const policy = new AlignedHeaderPolicy();
    const allocator = new HostAllocator(policy);
    const objects = buildObjects(driver, allocator);
    const during = allocator.stats();
    expect(during.liveCount).toBeGreaterThan(0);
    expect(during.scopes.instance.liveBytes).toBeGreaterThan(0);
    expect(during.scopes.object.liveCount).toBeGreaterThanOrEqual(1);
    objects.instance.destroy();
    const after = allocator.stats();
    expect(after.liveCount).toBe(0);
    expect(after.liveBytes).toBe(0);
    for (const scope of Object.values(after.scopes)) expect(scope).toMatchObject({ liveCount: 0, liveBytes: 0 });
    expect(after.calls.allocate + after.calls.reallocate).toBeGreaterThan(0);
    expect(after.unknownPointers).toBe(0);
    expect(after.failures).toBe(0);
    expect(after.pendingFrees).toBe(0);
    expect(policy.stats().liveBlocks).toBe(0);
    expect(after.peakBytes).toBeGreaterThanOrEqual(during.liveBytes);
  });

  test('a policy that throws fails the command with VulkanError whose cause is the exception', () => {
    const thrown = new Error('out of budget');
    const allocator = new HostAllocator(new ThrowingPolicy(2, thrown));
    const error = catchError(() => createInstance({ driver }, { allocator }));
    expect(error).toBeInstanceOf(VulkanError);
    const ve = error as VulkanError;
    expect(ve.code).toBe('VK_ERROR_OUT_OF_HOST_MEMORY');
    expect(ve.result).toBe(-1);
    expect(ve.command).toBe('vkCreateInstance');
    expect(ve.cause).toBe(thrown);
    expect(ve.message).toContain('out of budget');
    expect(ve.stack).toContain('vulkan-allocation.test.ts');  // the caller's stack
    expect(allocator.lastPolicyError).toBe(thrown);
    expect(allocator.stats().policyErrors).toBe(1);
    expect(allocator.stats().liveCount).toBe(0);  // the driver gave back what it had
  });

  test('a policy returning a misaligned or non-numeric address fails the command with a TypeError cause', () => {
    for (const bad of [(a: number) => a + 1, () => 'nope', () => -8, () => 1.5]) {
      const allocator = new HostAllocator(new BadResultPolicy(3, bad));
      const error = catchError(() => createInstance({ driver }, { allocator }));
      expect(error).toBeInstanceOf(VulkanError);
      // (The native TypeError comes from Node's realm, not jest's sandbox: compare by name.)
      expect(((error as VulkanError).cause as Error).name).toBe('TypeError');
      expect(String(((error as VulkanError).cause as Error).message)).toMatch(/Allocator policy allocate\(\d+, \d+\) returned .*expected 0 \(failure\) or an address aligned to \d+/);
      expect(allocator.stats().liveCount).toBe(0);
    }
  });

  test('each unusable result is named as JavaScript writes it, with what was expected', () => {
    // 2^53 was taken for an address (and the driver crashed on it); numbers came out C-style.
    const expected: [(good: number) => unknown, RegExp][] = [
      [() => 2 ** 53, /returned 9007199254740992, which is not below 2\^53 \(no address is\): expected 0/],
      [() => 2 ** 60, /returned 1152921504606847000, which is not below 2\^53/],
      [() => NaN, /returned NaN: expected 0 \(failure\) or an address aligned to \d+$/],
      [() => -4096, /returned -4096: expected 0/],
      [() => 4096.5, /returned 4096\.5: expected 0/],
      [() => Infinity, /returned Infinity: expected 0/],
      [() => 'nope', /returned "nope": expected 0/],
      [() => undefined, /returned undefined: expected 0/],
      [() => 8n, /returned 8n: expected 0/],
      [() => ({ address: 4096 }), /returned an object: expected 0/],
    ];
    for (const [bad, message] of expected) {
      const allocator = new HostAllocator(new BadResultPolicy(3, bad));
      const error = catchError(() => createInstance({ driver }, { allocator })) as VulkanError;
      expect(error).toBeInstanceOf(VulkanError);
      const cause = error.cause as Error;
      expect(cause.name).toBe('TypeError');
      expect(cause.message).toMatch(/^Allocator policy allocate\(\d+, \d+\) returned /);
      expect(cause.message).toMatch(message);
      expect(error.message).toContain(cause.message);
      expect(allocator.lastPolicyError).toBe(cause);
      expect(allocator.stats()).toMatchObject({ policyErrors: 1, liveCount: 0 });
    }
  });

  test('an async policy is told that policies must be synchronous', () => {
    for (const bad of [(a: number) => Promise.resolve(a), async (a: number) => a, () => ({ then: () => {} })]) {
      const allocator = new HostAllocator(new BadResultPolicy(3, bad));
      const error = catchError(() => createInstance({ driver }, { allocator })) as VulkanError;
      expect(error).toBeInstanceOf(VulkanError);
      expect((error.cause as Error).message).toMatch(
        /^Allocator policy allocate\(\d+, \d+\) returned a Promise: policies must be synchronous \(return the address, or 0 on failure\)$/);
      expect(allocator.stats()).toMatchObject({ policyErrors: 1, liveCount: 0 });
    }
  });

  test('a promise an async policy rejects later does not end the process as an unhandled rejection', () => {
    // In a child process: an unhandled rejection ends a Node process (exit status 1).
    const script = `
      const v = require(${JSON.stringify(path.join(__dirname, '..', '..', 'dist', 'index.js'))});
      const inner = new v.AlignedHeaderPolicy();
      let n = 0;
      const allocator = new v.HostAllocator({
        allocate: (s, a, sc) => (++n === 3 ? Promise.reject(new Error('refused, asynchronously')) : inner.allocate(s, a, sc)),
        free: (p) => inner.free(p),
      });
      try { v.createInstance({ driver: '${driver}' }, { allocator }); } catch (e) { console.log(e.cause.message); }
      setTimeout(() => console.log('still running'), 20);`;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(child.stdout).toMatch(/returned a Promise: policies must be synchronous.*\nstill running\n$/);
  });

  test('a policy throwing something that is not an Error: the cause says the policy threw it', () => {
    for (const [value, shown] of [[undefined, 'undefined'], [null, 'null'], ['no', '"no"'], [42, '42'], [{ code: 5 }, 'an object']] as const) {
      const allocator = new HostAllocator(new BadResultPolicy(2, () => { throw value; }));
      const error = catchError(() => createInstance({ driver }, { allocator })) as VulkanError;
      expect(error).toBeInstanceOf(VulkanError);
      const cause = error.cause as Error;
      expect(cause).toBeInstanceOf(Error);
      expect(cause.message).toMatch(new RegExp(`^Allocator policy allocate\\(\\d+, \\d+\\) threw ${shown.replace(/[()"]/g, '\\$&')}$`));
      expect(cause.cause).toBe(value);
      expect(error.message).toContain(`the allocator policy failed: ${cause.message}`);
      expect(allocator.lastPolicyError).toBe(cause);
      expect(allocator.stats()).toMatchObject({ policyErrors: 1, liveCount: 0 });
    }
  });

  test('an address inside, at or overlapping a block the driver still holds is refused', () => {
    // The policy keeps an instance-scope block (live until vkDestroyInstance) and later
    // hands out memory that overlaps it; with callback checks on, as they did not catch it.
    for (const [mode, where] of [
      ['inside', /returned 0x[0-9a-f]+, inside the live block 0x[0-9a-f]+ \(\d+ bytes\)/],
      ['same', /returned 0x[0-9a-f]+, an address that is already live/],
      ['straddle', /returned 0x[0-9a-f]+, whose \d+ bytes overlap the live block 0x[0-9a-f]+ \(\d+ bytes\)/],
    ] as const) {
      const inner = new AlignedHeaderPolicy();
      let held = 0;
      let calls = 0;
      const allocator = new HostAllocator({
        allocate(size, alignment, scope) {
          const p = inner.allocate(size, alignment, scope);
          if (!held && scope === 'instance' && size >= 256) return (held = p);
          const step = Math.max(alignment, 64);
          // From the 20th call on, the first one large enough to start before `held` and run into it.
          if (!held || ++calls < 20 || size <= step) return p;
          calls = -Infinity;
          inner.free(p);
          return mode === 'inside' ? held + step : mode === 'same' ? held : held - step;
        },
        free: (p) => inner.free(p),
      }, { validation: true });
      const error = catchError(() => createInstance({ driver }, { allocator })) as VulkanError;
      expect(error).toBeInstanceOf(VulkanError);
      expect((error.cause as Error).message).toMatch(/^Allocator policy allocate\(\d+, \d+\) returned /);
      expect((error.cause as Error).message).toMatch(where);
      expect((error.cause as Error).message).toMatch(/: the driver still uses that memory$/);
      expect(allocator.stats()).toMatchObject({ policyErrors: 1, liveCount: 0 });
    }
  });

  test('a policy returning 0 is an ordinary out-of-memory, without a cause', () => {
    let n = 0;
    const inner = new AlignedHeaderPolicy();
    const allocator = new HostAllocator({ allocate: (s, a, sc) => (++n >= 4 ? 0 : inner.allocate(s, a, sc)), free: (p) => inner.free(p) });
    const error = catchError(() => createInstance({ driver }, { allocator })) as VulkanError | undefined;
    expect(error).toBeInstanceOf(VulkanError);
    expect(error!.code).toBe('VK_ERROR_OUT_OF_HOST_MEMORY');
    expect(error!.cause).toBeUndefined();
    expect(allocator.stats().failures).toBeGreaterThan(0);
    expect(allocator.stats().liveCount).toBe(0);
  });

  test('a policy failure the driver tolerates does not fail the command, but is counted and kept', () => {
    // The loader carries on when one of its early allocations fails (seen here:
    // allocation 5 of vkCreateInstance); the policy's exception must not vanish.
    let tolerated = 0;
    for (let nth = 1; nth <= 12; nth++) {
      const thrown = new Error(`refused allocation ${nth}`);
      const allocator = new HostAllocator(new ThrowingPolicy(nth, thrown));
      let instance: Instance | undefined;
      try {
        instance = createInstance({ driver }, { allocator });
      } catch (e) {
        expect((e as VulkanError).cause).toBe(thrown);
      }
      expect(allocator.stats().policyErrors).toBe(1);
      expect(allocator.lastPolicyError).toBe(thrown);
      if (instance) {
        tolerated++;
        instance.destroy();
      }
      expect(allocator.stats().liveCount).toBe(0);
    }
    console.log(`${driver}: vkCreateInstance carried on after ${tolerated} of 12 single allocation failures`);
  });

  test('frees made after a queue submit reach the policy, off-thread ones counted', () => {
    const policy = new AlignedHeaderPolicy();
    const allocator = new HostAllocator(policy);
    const { instance, device, fence } = buildObjects(driver, allocator);
    const queue = device.queue(0);
    for (let i = 0; i < 5; i++) {
      queue.submit([{}], fence);
      expect(fence.wait(5e9)).toBe('success');
      fence.reset();
    }
    queue.waitIdle();
    device.destroy();  // joins the driver's threads
    const stats = allocator.stats();
    console.log(`${driver}: off-thread callbacks after 5 submits: ${JSON.stringify(stats.offThreadCalls)}`);
    if (driver === 'lavapipe') expect(stats.offThreadCalls.free).toBeGreaterThan(0);  // Mesa 22.3's submit thread
    instance.destroy();
    const end = allocator.stats();
    expect(end.liveCount).toBe(0);
    expect(end.pendingFrees).toBe(0);
    expect(policy.stats().liveBlocks).toBe(0);
  });
});

test('an instance can mix allocators: objects remember theirs', () => {
  const a = new HostAllocator();
  const b = new HostAllocator();
  const instance: Instance = createInstance({ driver: 'lavapipe' }, { allocator: a });
  const device = instance.physicalDevices()[0].createDevice({ queues: [{ family: 0 }] }, { allocator: b });
  const buf1 = device.createBuffer({ size: 256, usage: ['uniform'] }, { allocator: a });
  const buf2 = device.createBuffer({ size: 256, usage: ['uniform'] });  // the driver's own allocator
  expect(buf1.allocator).toBe(a);
  expect(buf2.allocator).toBeNull();
  expect(b.liveBlocks().some((x) => x.command === 'vkCreateDevice')).toBe(true);
  expect(a.liveBlocks().some((x) => x.command === 'vkCreateBuffer')).toBe(true);
  instance.destroy();
  expect(a.stats().liveCount).toBe(0);
  expect(b.stats().liveCount).toBe(0);
});
