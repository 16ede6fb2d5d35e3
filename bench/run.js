#!/usr/bin/env node
// `npm run bench`: the bridge's cost, measured as ratios taken side by side in one
// run (variants interleaved within each round, medians over rounds), so that they
// hold on a noisy machine, and the RSS growth of device cycles (in child processes).
// Prints a table and writes bench/results.json.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const v = require('../dist/index.js');
const native = require('../dist/native/binding.js').default;
const { bridgeOf } = require('../dist/allocator/host-allocator.js');

const ROUNDS = Number(process.env.BENCH_ROUNDS || 15);
const quick = process.argv.includes('--quick');

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Runs each variant once per round, in rotating order, after one warm-up round; the samples. */
function interleaveSamples(variants, rounds) {
  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  const names = Object.keys(variants);
  for (let r = -1; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + Math.max(r, 0)) % names.length];
      const value = variants[name]();
      if (r >= 0) samples[name].push(value);
    }
  }
  return samples;
}

/** interleaveSamples, reduced to each variant's median. */
function interleave(variants, rounds) {
  const samples = interleaveSamples(variants, rounds);
  return Object.fromEntries(Object.keys(samples).map((k) => [k, median(samples[k])]));
}

/** Per-round ratios a/b of two variants' samples: median and the range of the middle half. */
function ratioSpread(a, b) {
  const r = a.map((x, i) => x / b[i]).sort((x, y) => x - y);
  const q = (f) => r[Math.min(r.length - 1, Math.floor(f * r.length))];
  return { median: median(r), q1: q(0.25), q3: q(0.75) };
}

// ---- 1. callback round trips through the real function pointers ----------------

const recorded = JSON.parse(fs.readFileSync(path.join(__dirname, 'lavapipe-allocations.json'), 'utf8'));
// The distribution of real lavapipe runs, capped at 64 KiB as the target states
// (the few larger blocks go to dedicated chunks in every variant alike).
const picks = recorded.sizes.map((s, i) => [s, recorded.alignments[i]]).filter(([s]) => s <= 65536);
const N = quick ? 20000 : 100000;
const sizes = new Float64Array(N);
const alignments = new Float64Array(N);
for (let i = 0; i < N; i++) [sizes[i], alignments[i]] = picks[(i * 7919) % picks.length];

const tsAllocator = new v.HostAllocator(new v.AlignedHeaderPolicy());
const tracedAllocator = new v.HostAllocator(new v.AlignedHeaderPolicy());
const cppAllocator = new v.HostAllocator(v.NATIVE_POLICY);
const perCall = (ns) => ns / N;
const traced = (mode) => {
  // A fresh trace per run, preallocated, so that growth is not what is measured.
  tracedAllocator.startTrace({ capacity: 3 * N + 16 });
  const ns = native.__testDriver.bench(bridgeOf(tracedAllocator), sizes, alignments, mode);
  tracedAllocator.stopTrace();
  return perCall(ns);
};
const pairs = interleave({
  'TypeScript AlignedHeaderPolicy': () => perCall(native.__testDriver.bench(bridgeOf(tsAllocator), sizes, alignments, 'pairs')),
  'TypeScript policy, tracing on': () => traced('pairs'),
  'C++ aligned allocator (NATIVE_POLICY)': () => perCall(native.__testDriver.bench(bridgeOf(cppAllocator), sizes, alignments, 'pairs')),
  'posix_memalign + free, no callbacks': () => perCall(native.__testDriver.bench(null, sizes, alignments, 'malloc')),
}, ROUNDS);
const reallocs = interleave({
  'TypeScript AlignedHeaderPolicy': () => perCall(native.__testDriver.bench(bridgeOf(tsAllocator), sizes, alignments, 'realloc')),
  'C++ aligned allocator (NATIVE_POLICY)': () => perCall(native.__testDriver.bench(bridgeOf(cppAllocator), sizes, alignments, 'realloc')),
}, ROUNDS);

// ---- 2. whole commands on lavapipe ------------------------------------------------

const commandRounds = quick ? 5 : ROUNDS;
function timeMs(fn) {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}
// One allocator per variant, kept across rounds, as an application keeps its allocator.
const allocators = { 'NULL allocator': null, 'TypeScript policy': new v.HostAllocator(), 'C++ policy': new v.HostAllocator(v.NATIVE_POLICY) };
const instanceCommands = interleave(Object.fromEntries(Object.entries(allocators).map(([name, allocator]) => [name, () =>
  timeMs(() => v.createInstance({ driver: 'lavapipe' }, { allocator }).destroy())])), commandRounds);
const hostInstance = v.createInstance({ driver: 'lavapipe' });
const gpu = hostInstance.physicalDevices()[0];
const deviceCommands = interleave(Object.fromEntries(Object.entries(allocators).map(([name, allocator]) => [name, () =>
  timeMs(() => gpu.createDevice({ queues: [{ family: 0 }] }, { allocator }).destroy())])), commandRounds);
hostInstance.destroy();

// As users do (README): one allocator for the instance and its devices, so that what
// the device asks of its instance's allocator goes through the policy too. Each
// sample is a batch of device cycles; RSS is read in child processes of its own
// (scripts/soak.js), where nothing else runs.
const DEVICE_BATCH = 10;
const userSetups = Object.fromEntries(Object.entries(allocators).map(([name, allocator]) => {
  const instance = v.createInstance({ driver: 'lavapipe' }, { allocator });
  return [name, { instance, gpu: instance.physicalDevices()[0], allocator }];
}));
const userDeviceSamples = interleaveSamples(Object.fromEntries(Object.entries(userSetups).map(([name, { gpu, allocator }]) => [name, () =>
  timeMs(() => {
    for (let i = 0; i < DEVICE_BATCH; i++) gpu.createDevice({ queues: [{ family: 0 }] }, { allocator }).destroy();
  }) / DEVICE_BATCH])), commandRounds);
for (const { instance } of Object.values(userSetups)) instance.destroy();
const userDevice = Object.fromEntries(Object.entries(userDeviceSamples).map(([k, xs]) => [k, median(xs)]));
const userDeviceRatio = ratioSpread(userDeviceSamples['TypeScript policy'], userDeviceSamples['NULL allocator']);

// ---- 3. memory: what the policy holds at peak for what the driver asked ----------

// The demo's own workload (instance, device, buffers, a million-element compute job),
// its output silenced. Everything taken from native memory counts: blocks, slack,
// headers, spare slabs and the chunks the retaining pool keeps.
const { runDemo } = require('../dist/workloads/demo.js');
const log = console.log;
console.log = () => {};
let demo;
try {
  demo = runDemo({ driver: 'lavapipe' });
} finally {
  console.log = log;
}
const memory = {
  requestedPeakBytes: demo.stats.peakBytes,
  policyPeakBytesHeld: demo.allocator.policy.source.peakHeldBytes,
};
memory.ratio = memory.policyPeakBytesHeld / memory.requestedPeakBytes;

// ---- 4. RSS across device cycles, one allocator for instance and device ----------

const { soak, growth } = require('../scripts/soak.js');
const SOAK = { workload: 'device', driver: 'lavapipe', warmup: 50, rounds: 4, per: quick ? 25 : 100 };
const rssPerCycle = {};
(async () => {
  for (const [name, mode] of [['NULL allocator', 'null'], ['TypeScript policy', 'ts'], ['C++ policy', 'native']]) {
    const r = await soak({ ...SOAK, mode });
    rssPerCycle[name] = { perCycleKiB: growth(r).grew / (SOAK.rounds * SOAK.per) / 1024, rssMiB: r.rss.map((x) => x / 1048576) };
  }
  report();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});

// ---- report ------------------------------------------------------------------------

function report() {
  const ratio = (a, b) => a / b;
  const targets = [
    ['TS policy pair / C++ policy pair', ratio(pairs['TypeScript AlignedHeaderPolicy'], pairs['C++ aligned allocator (NATIVE_POLICY)']), 5],
    ['pair: tracing on / tracing off', ratio(pairs['TypeScript policy, tracing on'], pairs['TypeScript AlignedHeaderPolicy']), 1.10],
    ['vkCreateInstance+Destroy: TS policy / NULL', ratio(instanceCommands['TypeScript policy'], instanceCommands['NULL allocator']), 1.03],
    ['vkCreateDevice+Destroy: TS policy / NULL', ratio(deviceCommands['TypeScript policy'], deviceCommands['NULL allocator']), 1.05],
    ['device cycle, instance on the same TS allocator / NULL', userDeviceRatio.median, 1.05],
    ['RSS growth per device cycle, TS - NULL (KiB)', rssPerCycle['TypeScript policy'].perCycleKiB - rssPerCycle['NULL allocator'].perCycleKiB, 8],
    ['policy bytes held at peak / bytes requested', memory.ratio, 1.3],
  ];

  const fmt = (x, d = 1) => x.toFixed(d);
  const lines = [];
  lines.push(`vkalloc benchmark: ${os.cpus()[0].model}, ${os.cpus().length} cores, Node ${process.version}, ${ROUNDS} rounds (medians)`);
  lines.push('', `Callback round trip, allocate + free (${N} pairs per run, sizes/alignments from lavapipe):`);
  for (const [k, ns] of Object.entries(pairs)) lines.push(`  ${k.padEnd(40)} ${fmt(ns).padStart(8)} ns/pair`);
  lines.push('', 'Allocate + reallocate (x2) + free:');
  for (const [k, ns] of Object.entries(reallocs)) lines.push(`  ${k.padEnd(40)} ${fmt(ns).padStart(8)} ns`);
  lines.push('', 'Whole commands on lavapipe:');
  for (const [k, ms] of Object.entries(instanceCommands)) lines.push(`  vkCreateInstance+Destroy, ${k.padEnd(20)} ${fmt(ms, 3).padStart(8)} ms`);
  for (const [k, ms] of Object.entries(deviceCommands)) lines.push(`  vkCreateDevice+Destroy,   ${k.padEnd(20)} ${fmt(ms, 3).padStart(8)} ms`);
  lines.push('', 'Device cycles with one allocator for the instance and the device (as users do):');
  for (const [k, ms] of Object.entries(userDevice)) {
    const rss = rssPerCycle[k];
    lines.push(`  vkCreateDevice+Destroy,   ${k.padEnd(20)} ${fmt(ms, 3).padStart(8)} ms   RSS ${fmt(rss.perCycleKiB, 2).padStart(6)} KiB/cycle ` +
      `(${rss.rssMiB.map((x) => fmt(x)).join(' ')} MiB every ${SOAK.per} cycles)`);
  }
  lines.push(`  TS / NULL per round: median ${fmt(userDeviceRatio.median, 2)}, middle half ${fmt(userDeviceRatio.q1, 2)}-${fmt(userDeviceRatio.q3, 2)}`);
  lines.push('', `Memory (demo workload): policy held ${memory.policyPeakBytesHeld} B at peak for ${memory.requestedPeakBytes} B requested at peak`);
  lines.push('', 'Targets:');
  for (const [name, value, target] of targets) lines.push(`  ${name.padEnd(54)} ${fmt(value, 3).padStart(7)}  (target <= ${target})  ${value <= target ? 'met' : 'MISSED'}`);
  console.log(lines.join('\n'));

  const results = {
    date: new Date().toISOString(),
    machine: { cpu: os.cpus()[0].model, cores: os.cpus().length, node: process.version },
    rounds: ROUNDS,
    pairsNs: pairs,
    reallocNs: reallocs,
    vkCreateInstanceMs: instanceCommands,
    vkCreateDeviceMs: deviceCommands,
    userDeviceCycleMs: userDevice,
    userDeviceRatio,
    rssPerDeviceCycle: rssPerCycle,
    memory,
    targets: targets.map(([name, value, target]) => ({ name, value, target, met: value <= target })),
  };
  fs.writeFileSync(path.join(__dirname, 'results.json'), JSON.stringify(results, null, 2) + '\n');
}
