// The scripted sequence that test/oracle/oracle.c mirrors call for call, run
// through vkalloc's TypeScript API (compiled, in dist/) in a process of its own.
// Usage: node sequence.js <path of dist/index.js>
// Prints one line of JSON: the allocator's call counts and live figures at the end.
'use strict';

const { HostAllocator, createInstance } = require(process.argv[2]);

const allocator = new HostAllocator();
const instance = createInstance({ applicationName: 'oracle', apiVersion: '1.3', driver: 'lavapipe' }, { allocator });
const pd = instance.physicalDevices()[0];
const device = pd.createDevice({ queues: [{ family: 0 }] }, { allocator });
const buffer = device.createBuffer({ size: 65536, usage: ['storage', 'transfer-dst'] }, { allocator });
const req = buffer.memoryRequirements;
const type = pd.findMemoryType(req.memoryTypeBits, ['host-visible', 'host-coherent']);
const memory = device.allocateMemory({ size: req.size, memoryType: type }, { allocator });
buffer.bindMemory(memory, 0);
const view = new Uint8Array(memory.map()); view.fill(1); memory.unmap();
const fence = device.createFence({}, { allocator });
const queue = device.queue(0, 0);
queue.submit([{}], fence); fence.wait(5e9); queue.waitIdle();
fence.destroy(); memory.destroy(); buffer.destroy(); device.destroy(); instance.destroy();

const s = allocator.stats();
process.stdout.write(JSON.stringify({
  calls: s.calls,
  offThreadCalls: s.offThreadCalls,
  commands: s.commands.map((c) => ({ command: c.command, allocations: c.allocations, reallocations: c.reallocations, frees: c.frees })),
  liveCount: s.liveCount,
  nativeLiveCount: s.nativeLiveCount,
  failures: s.failures,
  unknownPointers: s.unknownPointers,
  policyErrors: s.policyErrors,
  pendingFrees: s.pendingFrees,
  memoryType: type,
  size: req.size,
}) + '\n');
