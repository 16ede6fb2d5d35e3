// Asynchronous waits (fence.waitAsync, queue.submitAsync, device.waitIdleAsync,
// PrefixSum.runAsync), on every test driver: the event loop runs while the GPU works,
// results equal the synchronous path's, timeouts and failures come back as the
// synchronous waits give them, callbacks on a wait's thread stay off JS and are
// attributed to its command, nothing is destroyed under a pending wait, and ending the
// process or a worker with waits pending neither crashes nor hangs (child processes
// running test/fixtures/async-waits.js). No timing assertion: the tick counts compare
// "the loop turned many times" with "it could not turn at all".
import { spawn } from 'child_process';
import * as path from 'path';
import native from '../../lib/native/binding';
import { VulkanError } from '../../lib/native/errors';
import { HostAllocator } from '../../lib/allocator/host-allocator';
import { Device } from '../../lib/vulkan/device';
import { Fence } from '../../lib/vulkan/fence';
import { createInstance, Instance } from '../../lib/vulkan/instance';
import type { Queue } from '../../lib/vulkan/queue';
import { PrefixSum, prefixSumOnCpu } from '../../lib/workloads/prefix-sum';
import { describeOnDrivers } from '../helpers/drivers';
import { randomWords } from '../helpers/gpu';

/**
 * Counts the turns of the event loop from now until the returned function is called
 * (a chain of setImmediate). A blocked thread gives none; a free one gives one per
 * few microseconds, so the count says which it was even on a machine so loaded that
 * a 5 ms timer ticked only once or twice in a 250 ms wait (seen under load).
 */
function turnCounter(): () => number {
  let turns = 0;
  let stopped = false;
  const turn = () => {
    if (stopped) return;
    turns++;
    setImmediate(turn);
  };
  setImmediate(turn);
  return () => {
    stopped = true;
    return turns;
  };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const later = (ms: number, act: () => void) => setTimeout(act, ms);

/** The first index where the two differ, or -1. */
function firstMismatch(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

const fixture = path.join(__dirname, '..', 'fixtures', 'async-waits.js');

function runFixture(args: string[]): Promise<{ status: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

describeOnDrivers('asynchronous waits', ({ driver }) => {
  let allocator: HostAllocator;
  let instance: Instance;
  let device: Device;
  let family: number;
  let queue: Queue;
  const opts = () => ({ allocator });
  const newDevice = () => instance.defaultPhysicalDevice().createDevice({ queues: [{ family }], features: { timelineSemaphore: true } }, opts());

  beforeAll(() => {
    allocator = new HostAllocator(undefined, { checkContract: true });
    instance = createInstance({ driver }, opts());
    family = instance.defaultPhysicalDevice().findQueueFamily('compute');
    device = newDevice();
    queue = device.queue(family);
  });
  afterAll(() => {
    instance.destroy();
    expect(allocator.stats().liveCount).toBe(0);
  });

  test('the event loop turns while PrefixSum.runAsync() waits for the GPU, where run() blocks it; both give the CPU\'s result', async () => {
    const job = new PrefixSum(device, { allocator });
    try {
      // An input large enough that the GPU part is long on this driver: doubled until
      // run() takes 250 ms (a choice of size, not an assertion).
      const most = Math.min(Math.floor(device.physicalDevice.limits.maxStorageBufferRange / 4), 1 << 24);
      let input = randomWords(1 << 16, 1 << 16, 5);
      for (;;) {
        const start = performance.now();
        job.run(input);
        if (performance.now() - start >= 250 || input.length * 2 > most) break;
        input = randomWords(input.length * 2, 1 << 16, 5);
      }
      const expected = prefixSumOnCpu(input);

      let stop = turnCounter();
      const sync = job.run(input);
      await nextTurn();
      const syncTurns = stop();

      stop = turnCounter();
      const result = await job.runAsync(input);
      await nextTurn();
      const asyncTurns = stop();

      expect({ size: input.length, sync: firstMismatch(sync.output, expected), async: firstMismatch(result.output, expected) })
        .toEqual({ size: input.length, sync: -1, async: -1 });
      expect({ total: result.total, dispatches: result.dispatches }).toEqual({ total: sync.total, dispatches: sync.dispatches });
      expect(syncTurns).toBeLessThanOrEqual(2);  // the turns after run() returned
      expect(asyncTurns).toBeGreaterThanOrEqual(50);

      // Two runs at once, each with its own result.
      const small = [randomWords(70_000, 1 << 20, 8), randomWords(1_000, 1 << 20, 9)];
      const both = await Promise.all(small.map((values) => job.runAsync(values)));
      expect(both.map((r, i) => firstMismatch(r.output, prefixSumOnCpu(small[i])))).toEqual([-1, -1]);
    } finally {
      job.destroy();
    }
  }, 120_000);

  test('the event loop runs during each wait: GPU work held by a timeline semaphore that only a timer opens', async () => {
    const gate = device.createSemaphore({ type: 'timeline', initialValue: 0 }, opts());
    const fence = device.createFence({}, opts());
    try {
      queue.submit([{ waitSemaphores: [{ semaphore: gate, value: 1 }] }], fence);
      expect(fence.wait(1e6)).toBe('timeout');  // blocking, nothing can open the gate
      later(5, () => gate.signal(1));
      await expect(fence.waitAsync()).resolves.toBe('success');

      const submitted = queue.submitAsync([{ waitSemaphores: [{ semaphore: gate, value: 2 }] }]);
      later(5, () => gate.signal(2));
      await expect(submitted).resolves.toBeUndefined();

      queue.submit([{ waitSemaphores: [{ semaphore: gate, value: 3 }] }]);
      const idle = device.waitIdleAsync();
      later(5, () => gate.signal(3));
      await expect(idle).resolves.toBeUndefined();
      expect(gate.value).toBe(3);

      // submitAsync with a fence of the caller's: signaled, and left to the caller.
      fence.reset();
      await queue.submitAsync([], fence);
      expect({ signaled: fence.signaled, destroyed: fence.destroyed }).toEqual({ signaled: true, destroyed: false });
    } finally {
      if (gate.value < 3) gate.signal(3);  // never leave work waiting behind a failed assertion
      fence.destroy();
      gate.destroy();
    }
  });

  test('timeouts are results, as with wait(); a runAsync() past its timeout rejects; input errors throw at the call', async () => {
    const fence = device.createFence({}, opts());
    await expect(fence.waitAsync(2e6)).resolves.toBe('timeout');
    await expect(fence.waitAsync(0)).resolves.toBe('timeout');
    queue.submit([], fence);
    await expect(fence.waitAsync(60e9)).resolves.toBe('success');
    await expect(fence.waitAsync(0)).resolves.toBe('success');
    expect(fence.wait(0)).toBe('success');
    expect(() => fence.waitAsync('1' as never)).toThrow(new TypeError('Expected a non-negative number of nanoseconds for timeoutNs but received "1"'));
    expect(() => fence.waitAsync(-1)).toThrow(RangeError);
    expect(() => fence.waitAsync(NaN)).toThrow(RangeError);
    fence.destroy();
    expect(() => fence.waitAsync()).toThrow('Fence is destroyed');

    const job = new PrefixSum(device, { allocator });
    try {
      expect(() => job.runAsync([1, 2] as never)).toThrow(TypeError);
      expect(() => job.runAsync(new Uint32Array(4), -1)).toThrow(RangeError);
      // 1 ns: the scan of 2^18 values is still running when it runs out (the run's
      // objects are destroyed once the GPU is done with them, as run() does).
      await expect(job.runAsync(randomWords(1 << 18, 100, 1), 1)).rejects.toThrow(/did not finish within 1e-9 s/);
      const input = randomWords(5_000, 100, 2);
      expect(firstMismatch((await job.runAsync(input)).output, prefixSumOnCpu(input))).toBe(-1);
    } finally {
      job.destroy();
    }
  });

  test('a wait that fails rejects with a VulkanError (code, result, command), as the synchronous wait throws one', async () => {
    // The CPU drivers never fail a wait: the test driver plays one whose device was lost.
    const lost = await native.__testDriver.failedWait(Device.handleOf(device), -4).catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(VulkanError);
    expect(lost).toMatchObject({ code: 'VK_ERROR_DEVICE_LOST', result: -4, command: 'vkWaitForFences',
      message: 'vkWaitForFences failed with VK_ERROR_DEVICE_LOST (-4)' });
    await expect(native.__testDriver.failedWait(Device.handleOf(device), -1)).rejects.toMatchObject({ code: 'VK_ERROR_OUT_OF_HOST_MEMORY' });
    await expect(device.waitIdleAsync()).resolves.toBeUndefined();  // the device carries on
  });

  test('nothing is destroyed under a pending wait: destroy() and reset() refuse until it settles', async () => {
    const other = newDevice();
    const q = other.queue(family);
    const fence = other.createFence({}, opts());
    const gate = other.createSemaphore({ type: 'timeline' }, opts());
    q.submit([{ waitSemaphores: [{ semaphore: gate, value: 1 }] }], fence);
    const waiting = fence.waitAsync();  // pending until the gate opens
    const fenceRefused = (action: string) => new Error(`Cannot ${action} this Fence while a waitAsync() on it is pending: await it first`);
    expect(() => fence.destroy()).toThrow(fenceRefused('destroy'));
    expect(() => fence.reset()).toThrow(fenceRefused('reset'));
    expect(() => q.submit([], fence)).toThrow(fenceRefused('submit with'));
    expect(() => q.submitAsync([], fence)).toThrow(fenceRefused('submit with'));
    const refused = 'Cannot destroy this Device while asynchronous waits on it are pending (fence.waitAsync()): await them first';
    expect(() => other.destroy()).toThrow(new Error(refused));
    expect(() => instance.destroy()).toThrow(new Error(refused));
    expect([instance.destroyed, other.destroyed, fence.destroyed]).toEqual([false, false, false]);
    gate.signal(1);
    await expect(waiting).resolves.toBe('success');

    // While device.waitIdleAsync() runs, the device's queues are its own.
    q.submit([{ waitSemaphores: [{ semaphore: gate, value: 2 }] }]);
    const idle = other.waitIdleAsync();
    expect(other.waitIdleAsync()).toBe(idle);
    const busy = (call: string) => new Error(`Cannot call ${call} while device.waitIdleAsync() is pending: await it first`);
    expect(() => q.submit([])).toThrow(busy('queue.submit()'));
    expect(() => q.submitAsync([])).toThrow(busy('queue.submitAsync()'));
    expect(() => q.waitIdle()).toThrow(busy('queue.waitIdle()'));
    expect(() => other.waitIdle()).toThrow(busy('device.waitIdle()'));
    expect(() => other.destroy()).toThrow(/while asynchronous waits on it are pending \(device\.waitIdleAsync\(\)\)/);
    gate.signal(2);
    await idle;
    await q.submitAsync([]);
    fence.destroy();
    other.destroy();

    const job = new PrefixSum(device, { allocator });
    const running = job.runAsync(randomWords(4096, 100, 3));
    expect(() => job.destroy()).toThrow(new Error('Cannot destroy this PrefixSum while a runAsync() is pending: await it first'));
    expect(() => device.destroy()).toThrow(/pending \(PrefixSum\.runAsync\(\)\)/);
    await running;
    job.destroy();
  });

  test('underneath the checks (as at teardown), destroying a fence stops the wait on it, which rejects', async () => {
    const fence = device.createFence({}, opts());
    const handle = Fence.nativeHandle(fence);
    const waiting = handle.waitAsync(Infinity);  // nothing will signal it
    handle.destroy();                            // returns once the wait's thread has left vkWaitForFences
    await expect(waiting).rejects.toThrow(new Error('Fence was destroyed while vkWaitForFences waited on it'));
    expect(fence.destroyed).toBe(true);
  });

  test('callbacks on a wait\'s thread stay off JS, count as off-thread calls of its command, and break no contract', async () => {
    device.waitIdle();
    allocator.violations(true);
    const before = allocator.stats();
    await device.waitIdleAsync();
    await queue.submitAsync([]);
    const after = allocator.stats();
    const row = (s: typeof before) => s.commands.find((c) => c.command === 'vkDeviceWaitIdle') ?? { allocations: 0 };
    const made = row(after).allocations - row(before).allocations;
    // lavapipe allocates inside vkDeviceWaitIdle; SwiftShader does not.
    if (driver === 'lavapipe') expect(made).toBeGreaterThan(0);
    expect(after.offThreadCalls.allocate - before.offThreadCalls.allocate).toBe(made);
    // Allocations reported as wrong-thread or outside-command would be the wait's (the
    // only other off-thread calls, lavapipe's queue thread's, are frees); none on the JS thread.
    const violations = allocator.violations();
    expect(violations.filter((v) => v.size > 0 || v.thread === 'js')).toEqual([]);
  });

  test('the process ends with waits pending, by process.exit() or an uncaught exception: no crash, no hang', async () => {
    // Several exits side by side: without the 'exit' hook, one SwiftShader exit in five
    // crashed with GPU work in flight.
    const [thrown, ...exits] = await Promise.all(['throw', 'exit', 'exit', 'exit', 'exit', 'exit'].map((s) => runFixture([s, driver])));
    for (const r of exits) {
      expect({ signal: r.signal, status: r.status, stderr: r.stderr }).toEqual({ signal: null, status: 3, stderr: '' });
    }
    expect({ signal: thrown.signal, status: thrown.status }).toEqual({ signal: null, status: 1 });
    expect(thrown.stderr).toContain('Error: thrown with waits pending');
  }, 180_000);

  for (const scenario of ['terminate', 'worker-exit']) {
    test(`workers ${scenario === 'terminate' ? 'stopped by worker.terminate()' : 'ending by process.exit()'} with waits pending: the process carries on`, async () => {
      const r = await runFixture([scenario, driver, '5']);
      expect({ signal: r.signal, stderr: r.stderr.slice(-2000) }).toEqual({ signal: null, stderr: '' });
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ scenario, driver, iterations: 5, settled: 'success', live: 0 });
    }, 180_000);
  }
});
