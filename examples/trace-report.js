// Trace every host allocation of a small GPU job and write the HTML report.
//   node trace-report.js [report.html]
const { HostAllocator, createInstance } = require('vkalloc');
const { terminalReport, writeHtmlReport } = require('vkalloc/report');
const { PrefixSum } = require('vkalloc/workloads');

const out = process.argv[2] ?? 'report.html';
const allocator = new HostAllocator();
allocator.startTrace();
const instance = createInstance({ driver: process.env.VKALLOC_EXAMPLE_DRIVER ?? 'auto' }, { allocator });
const gpu = instance.defaultPhysicalDevice();
const device = gpu.createDevice({ queues: [{ family: gpu.findQueueFamily('compute') }] }, { allocator });
const job = new PrefixSum(device, { allocator });
job.run(Uint32Array.from({ length: 100000 }, (_, i) => i % 7));
job.destroy();
instance.destroy();
const trace = allocator.stopTrace();
console.log(terminalReport(trace));
writeHtmlReport(trace, out);
console.log(`wrote ${out}`);
