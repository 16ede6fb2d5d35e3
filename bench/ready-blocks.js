#!/usr/bin/env node
// Ready blocks on and off, side by side (docs/policies.md#ready-blocks): the callback
// round trip of bench/run.js (section 1: the same recorded lavapipe sizes, the test
// driver's 'pairs' loop), and vkCreateInstance+Destroy on lavapipe against the NULL
// allocator, in batches: wall time, and the process's CPU time (getrusage: time the
// process was not running, given to the machine's other work, is not in it). Variants
// interleaved in every round, in rotating order, after a warm-up round; min / median /
// max across rounds. Needs a development build.
//   node bench/ready-blocks.js [rounds]   (default 15)
'use strict';
const os = require('os');
const path = require('path');
const v = require('../dist/index.js');
const native = require('../dist/native/binding.js').default;
const { bridgeOf } = require('../dist/allocator/host-allocator.js');

const ROUNDS = Number(process.argv[2] || 15);
const BATCH = 10;

function interleave(variants, rounds) {
  const names = Object.keys(variants);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = -1; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + Math.max(r, 0)) % names.length];
      const value = variants[name]();
      if (r >= 0) samples[name].push(value);
    }
  }
  return samples;
}

function spread(xs, digits) {
  const s = [...xs].sort((a, b) => a - b);
  const median = s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return [s[0], median, s[s.length - 1]].map((x) => x.toFixed(digits)).join(' / ');
}

const recorded = require(path.join(__dirname, 'lavapipe-allocations.json'));
const picks = recorded.sizes.map((s, i) => [s, recorded.alignments[i]]).filter(([s]) => s <= 65536);
const N = 100000;
const sizes = new Float64Array(N);
const alignments = new Float64Array(N);
for (let i = 0; i < N; i++) [sizes[i], alignments[i]] = picks[(i * 7919) % picks.length];

const allocators = {
  'ready on': new v.HostAllocator(new v.AlignedHeaderPolicy()),
  'ready off': new v.HostAllocator(new v.AlignedHeaderPolicy({ readyBlocks: false })),
};
console.log(`load average before: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);

const crossings = (a) => native.__testDriver.crossings(bridgeOf(a));
const pairs = interleave(Object.fromEntries(Object.entries(allocators).map(([name, a]) => [name, () =>
  native.__testDriver.bench(bridgeOf(a), sizes, alignments, 'pairs') / N])), ROUNDS);
for (const [name, xs] of Object.entries(pairs)) console.log(`pair, ${name} (ns): ${spread(xs, 1)}`);
console.log(`pair, on / off: ${spread(pairs['ready on'].map((x, i) => x / pairs['ready off'][i]), 3)}`);

const instances = { 'NULL allocator': null, ...allocators };
const cpuMs = Object.fromEntries(Object.keys(instances).map((name) => [name, []]));
const before = Object.fromEntries(Object.entries(allocators).map(([name, a]) => [name, crossings(a)]));
const calls = Object.fromEntries(Object.entries(allocators).map(([name, a]) => [name, a.stats().calls.allocate]));
let warm = 0;
const ms = interleave(Object.fromEntries(Object.entries(instances).map(([name, allocator]) => [name, () => {
  const t = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  for (let i = 0; i < BATCH; i++) v.createInstance({ driver: 'lavapipe' }, { allocator }).destroy();
  const used = process.cpuUsage(cpu);
  if (warm++ >= Object.keys(instances).length) cpuMs[name].push((used.user + used.system) / 1e3 / BATCH);
  return Number(process.hrtime.bigint() - t) / 1e6 / BATCH;
}])), ROUNDS);
for (const [name, xs] of Object.entries(ms)) {
  console.log(`vkCreateInstance+Destroy, ${name}: wall ${spread(xs, 3)} ms, CPU ${spread(cpuMs[name], 3)} ms`);
}
for (const name of Object.keys(allocators)) {
  console.log(`  ${name} ÷ NULL: wall ${spread(ms[name].map((x, i) => x / ms['NULL allocator'][i]), 3)}, ` +
    `CPU ${spread(cpuMs[name].map((x, i) => x / cpuMs['NULL allocator'][i]), 3)}`);
}
const count = (ROUNDS + 1) * BATCH;
for (const [name, a] of Object.entries(allocators)) {
  const allocations = (a.stats().calls.allocate - calls[name]) / count;
  console.log(`  ${name}: ${allocations.toFixed(0)} allocations, ${((crossings(a) - before[name]) / count).toFixed(1)} crossings per instance`);
}
console.log(`load average after: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
