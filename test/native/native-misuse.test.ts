// The native module misused directly (bypassing the TypeScript layer that normally
// validates everything): wrong `this`, wrong-class arguments, plain objects. Each must
// throw a TypeError, never crash or reinterpret one object as another.
import native from '../../lib/native/binding';
import { bridgeOf, HostAllocator } from '../../lib/allocator/host-allocator';
import { createInstance } from '../../lib/vulkan/instance';

test('native methods refuse a foreign this, and arguments of the wrong class', () => {
  const allocator = new HostAllocator();
  const instance = createInstance({ driver: 'lavapipe' });
  // Reach the native classes the way a user of the raw addon could.
  const pdNative = (native.Instance.prototype as unknown as { physicalDevices(): unknown[] }).physicalDevices;
  expect(() => pdNative.call({})).toThrow('Illegal invocation');
  expect(() => (native.Buffer.prototype as unknown as { bindMemory(m: unknown, o: number): void }).bindMemory.call(bridgeOf(allocator), {}, 0))
    .toThrow('Illegal invocation');
  expect(() => Object.getOwnPropertyDescriptor(native.AllocatorBridge.prototype, 'io')!.get!.call({})).toThrow('Illegal invocation');
  // A bridge where a memory object is expected, and a plain object where a bridge is.
  const rawInstance = native.createInstance({ applicationName: 'x', applicationVersion: 1, engineName: 'x', apiVersion: 1 << 22 | 3 << 12, layers: [], extensions: [], flags: 0, driverFiles: null }, null);
  const rawPd = rawInstance.physicalDevices()[0];
  const rawDev = rawPd.createDevice({ queues: [{ family: 0, priorities: [1] }], extensions: [] } as never, null);
  const rawBuffer = rawDev.createBuffer({ size: 256, usage: 0x20, flags: 0 }, null);
  expect(() => rawBuffer.bindMemory(bridgeOf(allocator) as never, 0)).toThrow(/Expected a DeviceMemory/);
  expect(() => rawDev.createBuffer({ size: 256, usage: 0x20, flags: 0 }, {} as never)).toThrow(/Expected a HostAllocator/);
  expect(() => rawDev.createBuffer({ size: 256, usage: 0x20, flags: 0 }, rawBuffer as never)).toThrow(/Expected a HostAllocator/);
  rawInstance.destroy();
  instance.destroy();
});
