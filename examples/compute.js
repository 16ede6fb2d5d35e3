// A compute dispatch with vkalloc's allocator under every object: the prefix sum of a
// million numbers on the GPU (or a CPU driver), checked against the CPU.
const { HostAllocator, createInstance } = require('vkalloc');
const { formatBytes } = require('vkalloc/report');
const { PrefixSum, prefixSumOnCpu } = require('vkalloc/workloads');

const allocator = new HostAllocator();
const instance = createInstance({ driver: process.env.VKALLOC_EXAMPLE_DRIVER ?? 'auto' }, { allocator });
const gpu = instance.defaultPhysicalDevice();
const device = gpu.createDevice({ queues: [{ family: gpu.findQueueFamily('compute') }] }, { allocator });
const input = Uint32Array.from({ length: 1_000_000 }, (_, i) => (i * 2654435761) % 1000);
const job = new PrefixSum(device, { allocator });
const { output } = job.run(input);
const expected = prefixSumOnCpu(input);
const same = output.every((v, i) => v === expected[i]);
console.log(`${gpu.name}: prefix sum of ${input.length} values ${same ? 'matches' : 'DIFFERS FROM'} the CPU`);
console.log(`host memory at peak: ${formatBytes(allocator.stats().peakBytes)}`);
job.destroy();
instance.destroy();
process.exitCode = same ? 0 : 1;
