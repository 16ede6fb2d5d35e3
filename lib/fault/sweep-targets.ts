// What `sweep` can fail allocations in: each target creates and destroys one kind of
// object with the allocator under test, making whatever it needs first with the
// driver's own allocator (so only the object's own allocations are failed).
import type { HostAllocator } from '../allocator/host-allocator';
import { createInstance, Instance } from '../vulkan/instance';

export interface SweepContext {
  /** The allocator whose policy fails allocations; pass it to the object under test. */
  allocator: HostAllocator;
  driver: string;
  /** The failure point being run: allocations from this index on are refused. */
  point: number;
  /** The vkalloc module, for scripts. */
  vkalloc: typeof import('../index');
}

export type SweepFunction = (context: SweepContext) => void;

function withDevice(driver: string, body: (instance: Instance, device: ReturnType<ReturnType<Instance['physicalDevices']>[0]['createDevice']>) => void): void {
  const instance = createInstance({ driver });
  try {
    const device = instance.physicalDevices()[0].createDevice({ queues: [{ family: 0 }] });
    body(instance, device);
  } finally {
    instance.destroy();
  }
}

export const SWEEP_TARGETS: Record<string, SweepFunction> = {
  instance: ({ allocator, driver }) => {
    createInstance({ driver }, { allocator }).destroy();
  },
  device: ({ allocator, driver }) => {
    const instance = createInstance({ driver });
    try {
      instance.physicalDevices()[0].createDevice({ queues: [{ family: 0 }] }, { allocator }).destroy();
    } finally {
      instance.destroy();
    }
  },
  buffer: ({ allocator, driver }) => withDevice(driver, (_i, device) => {
    device.createBuffer({ size: 65536, usage: ['storage', 'transfer-dst'] }, { allocator }).destroy();
  }),
  memory: ({ allocator, driver }) => withDevice(driver, (_i, device) => {
    device.allocateMemory({ size: 65536, memoryType: 0 }, { allocator }).destroy();
  }),
  fence: ({ allocator, driver }) => withDevice(driver, (_i, device) => {
    device.createFence({}, { allocator }).destroy();
  }),
  image: ({ allocator, driver }) => withDevice(driver, (_i, device) => {
    device.createImage({ format: 'rgba8-unorm', width: 64, height: 64, usage: ['storage'] }, { allocator }).destroy();
  }),
  'command-pool': ({ allocator, driver }) => withDevice(driver, (_i, device) => {
    const pool = device.createCommandPool({ queueFamily: 0 }, { allocator });
    pool.allocateCommandBuffers(2);
    pool.destroy();
  }),
};
