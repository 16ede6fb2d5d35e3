// `npm run demo`: real Vulkan objects on the default driver, every host allocation
// served by the TypeScript AlignedHeaderPolicy, then a table of where it went.
import { AlignedHeaderPolicy } from './aligned-header-policy';
import { HostAllocator } from './host-allocator';
import { createInstance } from './instance';
import { commandTable, formatBytes, scopeTable, summaryLine } from './stats-table';

function main(): void {
  const policy = new AlignedHeaderPolicy();
  const allocator = new HostAllocator(policy);
  const withAllocator = { allocator };

  const instance = createInstance({ applicationName: 'vkalloc demo' }, withAllocator);
  const gpu = instance.defaultPhysicalDevice();
  const driver = instance.driver;
  console.log(`Driver: ${driver.name ?? 'unknown'} (${driver.info ?? 'no driver info'}) on ${gpu.name}, a ${gpu.type} device, Vulkan ${gpu.apiVersion}`);

  const family = gpu.findQueueFamily('compute');
  const device = gpu.createDevice({ queues: [{ family: family >= 0 ? family : 0 }] }, withAllocator);
  const size = 1 << 20;
  const buffer = device.createBuffer({ size, usage: ['storage', 'transfer-src', 'transfer-dst'] }, withAllocator);
  const req = buffer.memoryRequirements;
  const memoryType = gpu.findMemoryType(req.memoryTypeBits, ['host-visible', 'host-coherent']);
  if (memoryType < 0) throw new Error('no host-visible, host-coherent memory type for the buffer');
  const memory = device.allocateMemory({ size: req.size, memoryType }, withAllocator);
  buffer.bindMemory(memory);

  const words = new Uint32Array(memory.map(0, size));
  const count = words.length;
  for (let i = 0; i < count; i++) words[i] = (i * 2654435761) >>> 0;
  memory.unmap();
  const again = new Uint32Array(memory.map(0, size));
  let mismatches = 0;
  for (let i = 0; i < again.length; i++) if (again[i] !== (i * 2654435761) >>> 0) mismatches++;
  memory.unmap();
  console.log(`Mapped memory: wrote and read back ${count} words through the mapping, ${mismatches} mismatches`);

  const fence = device.createFence({}, withAllocator);
  const queue = device.queue(family >= 0 ? family : 0);
  queue.submit([{}], fence);
  console.log(`Empty submit with a fence: ${fence.wait(5e9)}`);
  queue.waitIdle();

  const held = policy.stats();
  instance.destroy();  // destroys fence, memory, buffer and device first, each with its allocator

  const stats = allocator.stats();
  console.log('\nHost allocations per Vulkan command (allocator: TypeScript AlignedHeaderPolicy)\n');
  console.log(commandTable(stats));
  console.log('\nHost allocations per scope\n');
  console.log(scopeTable(stats));
  const off = stats.offThreadCalls;
  console.log(`\nOff-thread callbacks (driver threads, outside any command): ${off.allocate} allocations, ${off.free} frees; ` +
    'served natively or queued for the policy, never touching JS.');
  console.log(`Policy memory before teardown: ${formatBytes(held.bytesHeld)} held from chunks for ${formatBytes(held.liveBytes)} requested.`);
  console.log(`\n${summaryLine(stats)}`);
  console.log(`${stats.liveCount} blocks live`);
  if (stats.liveCount !== 0 || mismatches !== 0) process.exitCode = 1;
}

main();
