// `npm run demo`: real Vulkan objects on the default driver, and a real compute job
// (a prefix sum of a million values, checked on the CPU), every host allocation
// served by the TypeScript AlignedHeaderPolicy, then a table of where it went.
import { AlignedHeaderPolicy } from '../allocator/aligned-header-policy';
import type { DriverChoice } from '../vulkan/driver';
import { AllocatorStats, HostAllocator } from '../allocator/host-allocator';
import { createInstance } from '../vulkan/instance';
import { PrefixSum, prefixSumOnCpu } from './prefix-sum';
import { commandTable, formatBytes, scopeTable, summaryLine } from '../report/stats-table';

export interface DemoOptions {
  /** Which Vulkan driver (default 'auto'). */
  driver?: DriverChoice;
  /** Called with the demo's allocator before any Vulkan call (e.g. to start a trace). */
  onAllocator?: (allocator: HostAllocator) => void;
}

export interface DemoResult {
  allocator: HostAllocator;
  /** allocator.stats() once everything is destroyed. */
  stats: AllocatorStats;
  /** Nothing left live, and every check passed. */
  ok: boolean;
}

/** Runs the demo (`vkalloc demo`, `node dist/demo.js`), printing as it goes; throws when Vulkan fails. */
export function runDemo(options: DemoOptions = {}): DemoResult {
  const policy = new AlignedHeaderPolicy();
  const allocator = new HostAllocator(policy);
  options.onAllocator?.(allocator);
  const withAllocator = { allocator };

  const instance = createInstance({ applicationName: 'vkalloc demo', driver: options.driver ?? 'auto' }, withAllocator);
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

  // Real work: a prefix sum of a million values in a compute shader, every object
  // (shader modules, layouts, pipelines, descriptor pool and sets, command pool and
  // buffer, buffers, memory, fence) created with the same TypeScript allocator.
  const elements = 1_000_003;  // not a multiple of the workgroup size
  const input = new Uint32Array(elements);
  let seed = 12345;
  for (let i = 0; i < elements; i++) input[i] = (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
  const started = process.hrtime.bigint();
  const job = new PrefixSum(device, { allocator });
  const result = job.run(input);
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  job.destroy();
  const expected = prefixSumOnCpu(input);
  let matching = 0;
  for (let i = 0; i < elements; i++) if (result.output[i] === expected[i]) matching++;
  const correct = matching === elements && result.total === expected[elements - 1];
  console.log(`\nCompute: inclusive prefix sum of ${elements} uint32 values on ${gpu.name}: ${result.dispatches} dispatches of ` +
    `${job.workgroupSize}-thread workgroups (scan, then add back), ${elapsed.toFixed(0)} ms including pipeline creation`);
  console.log(`GPU result == CPU result: ${correct ? 'yes' : 'NO'} (${matching} of ${elements} prefix sums match; ` +
    `total ${result.total}, CPU ${expected[elements - 1]})`);

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
  return { allocator, stats, ok: stats.liveCount === 0 && mismatches === 0 && correct };
}

if (require.main === module) {
  if (!runDemo().ok) process.exitCode = 1;
}
