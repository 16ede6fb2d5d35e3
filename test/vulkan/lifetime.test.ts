// Object lifetime: destroy order, idempotence, use after destroy, dispose, and
// objects that must not be mixed.
import { Buffer } from '../../lib/vulkan/buffer';
import { Device } from '../../lib/vulkan/device';
import { HostAllocator } from '../../lib/allocator/host-allocator';
import { createInstance, Instance } from '../../lib/vulkan/instance';
import { PhysicalDevice } from '../../lib/vulkan/physical-device';
import { describeOnDrivers } from '../helpers/drivers';
import { VALIDATING } from '../helpers/validation';

describeOnDrivers('lifetime', ({ driver }) => {
  let allocator: HostAllocator;
  let instance: Instance;
  let pd: PhysicalDevice;
  let device: Device;
  const opts = () => ({ allocator });

  beforeEach(() => {
    allocator = new HostAllocator();
    instance = createInstance({ driver }, opts());
    pd = instance.physicalDevices()[0];
    device = pd.createDevice({ queues: [{ family: 0 }] }, opts());
  });
  afterEach(() => {
    instance.destroy();
    expect(allocator.stats().liveCount).toBe(0);
  });

  test('destroying a parent destroys its live children first, each with its own allocator', () => {
    const other = new HostAllocator();
    const buffer = device.createBuffer({ size: 1024, usage: ['storage'] }, { allocator: other });
    const fence = device.createFence({}, opts());
    expect(other.stats().liveCount).toBeGreaterThan(0);
    instance.destroy();
    expect([instance.destroyed, pd.destroyed, device.destroyed, buffer.destroyed, fence.destroyed]).toEqual([true, true, true, true, true]);
    expect(other.stats().liveCount).toBe(0);
    expect(allocator.stats().liveCount).toBe(0);
    const order = allocator.stats().commands.map((c) => c.command).filter((c) => c.startsWith('vkDestroy'));
    // Under VKALLOC_TEST_VALIDATION=1 the debug messenger (the instance's allocator) goes just before the instance.
    const messenger = VALIDATING ? ['vkDestroyDebugUtilsMessengerEXT'] : [];
    expect(order).toEqual(['vkDestroyFence', 'vkDestroyDevice', ...messenger, 'vkDestroyInstance']);
  });

  test('use after destroy throws "<Type> is destroyed"; destroy() is idempotent', () => {
    const buffer = device.createBuffer({ size: 64, usage: ['uniform'] }, opts());
    buffer.destroy();
    buffer.destroy();
    expect(buffer.destroyed).toBe(true);
    expect(() => buffer.memoryRequirements).toThrow('Buffer is destroyed');
    device.destroy();
    expect(() => device.createFence()).toThrow('Device is destroyed');
    expect(() => device.queue(0)).toThrow('Device is destroyed');
  });

  test('after destroy, Instance, PhysicalDevice and Device methods throw rather than hand out cached objects', () => {
    expect(device.queue(0)).toBe(device.queue(0));  // cached from now on
    expect(instance.physicalDevices()).toContain(pd);
    device.destroy();
    expect(() => device.queue(0)).toThrow('Device is destroyed');
    // Destroyed is said before any input check.
    expect(() => device.createBuffer({ size: -1, usage: [] })).toThrow('Device is destroyed');
    expect(() => device.createShaderModule({ code: new Uint32Array(1) })).toThrow('Device is destroyed');
    instance.destroy();
    expect(() => instance.physicalDevices()).toThrow('Instance is destroyed');
    expect(() => instance.defaultPhysicalDevice()).toThrow('Instance is destroyed');
    expect(() => instance.driver).toThrow('Instance is destroyed');
    expect(() => pd.findMemoryType(1)).toThrow('PhysicalDevice is destroyed');
    expect(() => pd.findQueueFamily('compute')).toThrow('PhysicalDevice is destroyed');
    expect(() => pd.createDevice({ queues: [{ family: 0 }] })).toThrow('PhysicalDevice is destroyed');
  });

  test('Symbol.dispose destroys', () => {
    {
      using fence = device.createFence({}, opts());
      expect(fence.destroyed).toBe(false);
    }
    const fence2 = device.createFence({}, opts());
    fence2[Symbol.dispose]();
    expect(fence2.destroyed).toBe(true);
    expect(allocator.liveBlocks().filter((b) => b.command === 'vkCreateFence')).toEqual([]);
  });

  test('destroy takes no allocator: objects are destroyed with the one they were created with', () => {
    const buffer = device.createBuffer({ size: 64, usage: ['uniform'] }, opts());
    expect(() => (buffer.destroy as (a: unknown) => void)(new HostAllocator())).toThrow(TypeError);
    expect(buffer.destroyed).toBe(false);
    expect(buffer.allocator).toBe(allocator);
  });

  test('queues and physical devices go with their parents', () => {
    const queue = device.queue(0);
    expect(device.queue(0, 0)).toBe(queue);
    expect(() => queue.destroy()).toThrow('goes with its Device');
    expect(() => pd.destroy()).toThrow('goes with its Instance');
    device.destroy();
    expect(queue.destroyed).toBe(true);
    expect(() => queue.waitIdle()).toThrow('Queue is destroyed');
  });

  test('objects of two devices do not mix', () => {
    const device2 = pd.createDevice({ queues: [{ family: 0 }] }, opts());
    const buffer = device.createBuffer({ size: 256, usage: ['storage'] }, opts());
    const req = buffer.memoryRequirements;
    const memory2 = device2.allocateMemory({ size: req.size, memoryType: pd.findMemoryType(req.memoryTypeBits) }, opts());
    expect(() => buffer.bindMemory(memory2)).toThrow('memory belongs to a different Device than this Buffer');
    const fence2 = device2.createFence({}, opts());
    expect(() => device.queue(0).submit([], fence2)).toThrow('fence belongs to a different Device than this Queue');
  });

  test('a method called on a foreign `this` throws "Illegal invocation"; wrappers cannot be constructed', () => {
    const buffer = device.createBuffer({ size: 64, usage: ['uniform'] }, opts());
    const bindMemory = Buffer.prototype.bindMemory;
    expect(() => bindMemory.call({} as Buffer, buffer as never)).toThrow(new TypeError('Illegal invocation'));
    expect(() => Device.prototype.createFence.call(buffer as unknown as Device)).toThrow('Illegal invocation');
    expect(() => new (Buffer as unknown as new () => Buffer)()).toThrow(/Illegal constructor/);
    expect(() => HostAllocator.prototype.stats.call({} as HostAllocator)).toThrow('Illegal invocation');
  });

  test('mapped memory: writes read back; unmap detaches the ArrayBuffer; double map is refused', () => {
    const buffer = device.createBuffer({ size: 4096, usage: ['storage'] }, opts());
    const req = buffer.memoryRequirements;
    const type = pd.findMemoryType(req.memoryTypeBits, ['host-visible', 'host-coherent']);
    const memory = device.allocateMemory({ size: req.size, memoryType: type }, opts());
    buffer.bindMemory(memory);
    expect(() => buffer.bindMemory(memory)).toThrow('already bound');
    const ab = memory.map();
    expect(ab.byteLength).toBe(req.size);
    new Uint32Array(ab).fill(0xdeadbeef);
    expect(() => memory.map()).toThrow('already mapped');
    memory.unmap();
    expect(ab.byteLength).toBe(0);  // detached: no access to unmapped memory
    expect(new Uint32Array(memory.map(0, 16))[3]).toBe(0xdeadbeef);
    memory.destroy();
    expect(memory.mapped).toBeNull();
  });

  test('a fence wait that times out is a result, not an exception', () => {
    const fence = device.createFence({}, opts());
    expect(fence.wait(1_000_000)).toBe('timeout');
    expect(fence.signaled).toBe(false);
    device.queue(0).submit([{}], fence);
    expect(fence.wait()).toBe('success');
    expect(fence.signaled).toBe(true);
    fence.reset();
    expect(fence.signaled).toBe(false);
    expect(device.createFence({ signaled: true }, opts()).wait(0)).toBe('success');
  });
});
