// Scoped lifetimes with `using`: each object is destroyed when its block ends, children
// before parents, and the allocator's memory goes back with it. TypeScript 5.2+
// compiles `using` for any Node version (lib "esnext.disposable").
import { HostAllocator, createInstance } from 'vkalloc';

function run(driver: string): number {
  using allocator = new HostAllocator();
  using instance = createInstance({ driver }, { allocator });
  const gpu = instance.defaultPhysicalDevice();
  using device = gpu.createDevice({ queues: [{ family: gpu.findQueueFamily('compute') }] }, { allocator });
  using buffer = device.createBuffer({ size: 4096, usage: ['storage'] }, { allocator });
  return buffer.memoryRequirements.size;
}

console.log(`buffer needs ${run(process.env.VKALLOC_EXAMPLE_DRIVER ?? 'auto')} bytes of device memory`);
