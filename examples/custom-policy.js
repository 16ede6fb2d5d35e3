// A custom allocator policy: every block the driver asks for gets a chunk of its own
// from native memory. Wasteful on purpose, and easy to read: what a policy must do is
// return an aligned address (a number) or 0, and take it back in free().
const { HostAllocator, createInstance, nativeChunkSource } = require('vkalloc');

class ChunkPerBlockPolicy {
  blocks = new Map(); // address handed out -> its chunk
  allocate(size, alignment) {
    const chunk = nativeChunkSource.obtain(size + alignment);
    if (chunk === null) return 0; // the driver sees VK_ERROR_OUT_OF_HOST_MEMORY
    const address = Math.ceil(chunk.address / alignment) * alignment;
    this.blocks.set(address, chunk);
    return address;
  }
  free(address) {
    nativeChunkSource.release(this.blocks.get(address));
    this.blocks.delete(address);
  }
}

const policy = new ChunkPerBlockPolicy();
const allocator = new HostAllocator(policy);
const driver = process.env.VKALLOC_EXAMPLE_DRIVER ?? 'auto';
const instance = createInstance({ driver }, { allocator });
const gpu = instance.defaultPhysicalDevice();
const device = gpu.createDevice({ queues: [{ family: gpu.findQueueFamily('compute') }] }, { allocator });
console.log(`live blocks with instance and device: ${policy.blocks.size}`);
device.destroy();
instance.destroy();
console.log(`live blocks after destroy: ${policy.blocks.size}`); // 0
console.log(`allocations served: ${allocator.stats().calls.allocate}`);
