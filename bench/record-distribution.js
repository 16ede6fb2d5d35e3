#!/usr/bin/env node
// Records the (size, alignment) of every host allocation lavapipe and the loader
// make for instance + device + buffer + memory + fence + submit, into
// bench/lavapipe-allocations.json: the benchmark's input distribution.
'use strict';
const fs = require('fs');
const path = require('path');
const v = require('../dist/index.js');

const log = [];
const allocator = new v.HostAllocator(new v.LoggingPolicy(new v.AlignedHeaderPolicy(), (e) => log.push(e)));
const opts = { allocator };
const instance = v.createInstance({ driver: 'lavapipe' }, opts);
const pd = instance.physicalDevices()[0];
const device = pd.createDevice({ queues: [{ family: 0 }] }, opts);
const buffer = device.createBuffer({ size: 1 << 16, usage: ['storage'] }, opts);
const memory = device.allocateMemory({ size: buffer.memoryRequirements.size, memoryType: pd.findMemoryType(buffer.memoryRequirements.memoryTypeBits) }, opts);
buffer.bindMemory(memory);
const fence = device.createFence({}, opts);
device.queue(0).submit([{}], fence);
fence.wait();
instance.destroy();

const allocations = log.filter((e) => e.kind === 'allocate' || e.kind === 'reallocate');
const out = {
  source: `${pd.name}, ${pd.driver.info}: createInstance/createDevice/createBuffer/allocateMemory/createFence/submit/destroy`,
  sizes: allocations.map((e) => e.size),
  alignments: allocations.map((e) => e.alignment),
};
fs.writeFileSync(path.join(__dirname, 'lavapipe-allocations.json'), JSON.stringify(out) + '\n');
const sorted = [...out.sizes].sort((a, b) => a - b);
console.log(`${out.sizes.length} allocations; median ${sorted[sorted.length >> 1]} B, max ${sorted[sorted.length - 1]} B; alignments ${[...new Set(out.alignments)].join(', ')}`);
